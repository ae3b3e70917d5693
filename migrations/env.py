"""Alembic environment: runs against the connection handed in by migrations.migrate."""

from alembic import context

from migrations.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
