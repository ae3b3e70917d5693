"""Alembic migrations of the shared schema (services.common.db.migrate runs them)."""
