"""Plumbing shared by every service: settings, database, gRPC bootstrap, auth, errors, logging."""
