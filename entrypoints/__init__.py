"""Entry points, the top layer of the house: the `paysystem` command (`cli/`), the local
mesh's launcher (`launcher/`) and each service's composition root (`servers/`, run as
`python -m entrypoints.servers.<service>`). They import the services, the batch and the
shared plumbing; nothing imports them (the layers contract in pyproject.toml)."""
