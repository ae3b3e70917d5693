"""The composition root of each service process: `python -m entrypoints.servers.<name> --port N
--instance <name>-<i>` builds the servicer from the settings and runs it (services/common/server.py)."""
