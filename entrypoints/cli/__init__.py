"""The `paysystem` command line: one module per command group."""
