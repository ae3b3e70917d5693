"""PaySystem's gRPC services: one package per domain, plus `common` plumbing and the CLI."""
