"""PaySystem's gRPC services: one package per domain, plus `common` plumbing. Their entry points
(the CLI, the launcher, each service's composition root) are in `entrypoints/`."""
