"""The database as a whole: every owner's tables on one metadata, and the Alembic history
that brings a database to it.

Each table is defined by the package that writes it (its `tables.py`); this package sits
above all of them (the layers contract in pyproject.toml) because the migrations and the
schema diagram need the whole schema at once. `migrate(engine)` is what every process,
test and benchmark calls before it uses a database.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from migrations.schema import metadata

SCRIPT_LOCATION = Path(__file__).parent

__all__ = ["alembic_config", "metadata", "migrate"]


def alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def migrate(engine: sa.Engine) -> None:
    """Brings the schema to the newest revision; safe to run again."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
