"""The per-request data-version query on MariaDB: its DBAPI fast path agrees with the portable
SQLAlchemy query, and a lost connection is still a SQLAlchemy disconnect error."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from batch.data_state import STATE_QUERY, announce_reader_max_age, read_data_state
from services.common.breakers import DB_DOWN_ERRORS
from services.common.settings import Settings
from services.readpath.readside import read_engine
from tests.databases import fresh_database
from tests.plugins.readside import mark_computed, migrated_engine


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    with fresh_database("mariadb", "paysystem_rperf_", tmp_path_factory.mktemp("version")) as url:
        writer = migrated_engine(url)
        reader = read_engine(Settings(db_url=url))
        yield writer, reader
        reader.dispose()
        writer.dispose()


def _portable_version(conn: sa.Connection) -> str:
    count, latest_day, latest_at, checksum, _window, closings = conn.execute(STATE_QUERY).one()
    return f"{count:x}.{latest_day or 0}.{(latest_at or 0):x}.{int(checksum):x}.{int(closings):x}"


def test_the_fast_query_reads_the_published_trust_window_as_the_portable_query_does(engines):
    writer, reader = engines
    with writer.begin() as conn:
        announce_reader_max_age(conn, 1_234, now_us=0)
    with reader.connect() as conn:
        assert read_data_state(conn).reader_max_age_ms == conn.execute(STATE_QUERY).one()[4] == 1_234


def test_the_fast_version_query_gives_the_same_version_as_the_portable_query(engines):
    writer, reader = engines
    with reader.connect() as conn:
        empty = read_data_state(conn)
        assert empty.data_through is None and empty.version == _portable_version(conn)
    mark_computed(writer, dt.date(2026, 3, 1), dt.date(2026, 3, 2))
    with reader.connect() as conn:
        state = read_data_state(conn)
        assert state.data_through == dt.date(2026, 3, 2)
        assert state.version == _portable_version(conn) != empty.version


def test_a_killed_connection_is_a_database_down_error_and_the_next_request_reconnects(engines):
    writer, reader = engines
    mark_computed(writer, dt.date(2026, 3, 3))
    with reader.connect() as conn:
        before = read_data_state(conn)
        connection_id = conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
    with writer.connect() as admin:
        admin.exec_driver_sql(f"KILL {int(connection_id)}")
    with pytest.raises(DB_DOWN_ERRORS) as raised, reader.connect() as conn:
        read_data_state(conn)
    assert raised.value.connection_invalidated
    with reader.connect() as conn:
        assert read_data_state(conn) == before
