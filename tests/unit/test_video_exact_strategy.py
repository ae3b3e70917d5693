"""Which exact insert the play log uses on which server (repository.exact_strategy)."""

from __future__ import annotations

import types

import pytest
from sqlalchemy.dialects import mysql, sqlite

from services.video import repository


def _connection(dialect, *, mariadb: bool = False):
    dialect.is_mariadb = mariadb  # what SQLAlchemy learns from the server's version string
    return types.SimpleNamespace(dialect=dialect)


def test_mysql_8_selects_then_inserts_because_it_has_no_insert_returning():
    assert repository.exact_strategy(_connection(mysql.pymysql.dialect())) == repository.SELECT_THEN_INSERT


def test_mysql_cannot_be_forced_to_use_returning():
    with pytest.raises(ValueError, match="MariaDB"):
        repository.exact_strategy(_connection(mysql.pymysql.dialect()), repository.RETURNING)


def test_mariadb_uses_returning_by_default_and_select_then_insert_when_forced():
    conn = _connection(mysql.pymysql.dialect(), mariadb=True)
    assert repository.exact_strategy(conn) == repository.RETURNING
    assert repository.exact_strategy(conn, repository.SELECT_THEN_INSERT) == repository.SELECT_THEN_INSERT


def test_sqlite_always_uses_returning():
    conn = types.SimpleNamespace(dialect=sqlite.pysqlite.dialect())
    assert repository.exact_strategy(conn) == repository.RETURNING
    assert repository.exact_strategy(conn, repository.SELECT_THEN_INSERT) == repository.RETURNING
