"""Fresh, migrated databases for tests: a MariaDB database per use, or an SQLite file."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

import migrations
from services.common import db
from services.common.settings import Settings

MYSQL_SERVER_URL = "mysql+pymysql://root@127.0.0.1:3306"


@contextlib.contextmanager
def fresh_database(backend: str, prefix: str, tmp_dir: Path) -> Iterator[str]:
    """Yields the URL of a new, migrated database; MariaDB ones are dropped afterwards.

    TESTS_DB_PREFIX (optional) goes before every name, so runs that share the server (one per
    git worktree) can tell their databases apart."""
    prefix = os.environ.get("TESTS_DB_PREFIX", "") + prefix
    if backend == "sqlite":
        url = f"sqlite:///{tmp_dir / f'{prefix}{uuid.uuid4().hex[:8]}.db'}"
        _migrate(url)
        yield url
        return
    name = f"{prefix}{uuid.uuid4().hex[:10]}"
    server = sa.create_engine(MYSQL_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    url = f"{MYSQL_SERVER_URL}/{name}"
    try:
        _migrate(url)
        yield url
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@contextlib.contextmanager
def fresh_engine(backend: str, prefix: str, tmp_dir: Path) -> Iterator[sa.Engine]:
    """An engine on a new, migrated database (fresh_database), disposed of afterwards."""
    with fresh_database(backend, prefix, tmp_dir) as url:
        engine = db.make_engine(Settings(data_dir=tmp_dir, db_url=url))
        try:
            yield engine
        finally:
            engine.dispose()


def _migrate(url: str) -> None:
    engine = db.make_engine(Settings(db_url=url))
    migrations.migrate(engine)
    engine.dispose()
