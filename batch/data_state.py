"""The data version's queries: the batch's `computed_days` fingerprint as read services read
it, and the trust window the batch publishes before it commits new days.

Why the fingerprint and the window make a finished job's figures visible to every reader:
services/readpath/dataversion.py (the watch that polls it, on the read side). The query
reads the batch's own tables and the settlement's `month_closings` (a closing changes the
statements without a computed day changing).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from batch.tables import computed_days, data_publication
from services.common.db import dbapi_connection
from services.readpath.dataversion import DataState
from services.settlement.published import month_closings

# A prime modulus keeps the checksum inside 64 bits on every engine (SQLite's SUM overflows).
_CHECKSUM_MOD = 4294967291

_PUBLISHED_WINDOW = sa.select(data_publication.c.reader_max_age_ms).where(data_publication.c.id == 1).scalar_subquery()


# Closing a month changes its statements (CLOSED, frozen figures, adjustments) without a
# computed day changing: the number of closings is part of the version too.
_CLOSINGS = sa.select(sa.func.count()).select_from(month_closings).scalar_subquery()

STATE_QUERY = sa.select(
    sa.func.count(),
    sa.func.max(computed_days.c.day),
    sa.func.max(computed_days.c.computed_at_us),
    sa.func.coalesce(sa.func.sum(computed_days.c.computed_at_us % _CHECKSUM_MOD), 0),
    sa.func.coalesce(_PUBLISHED_WINDOW, 0),
    _CLOSINGS,
)


# The same figures as one text column, for the DBAPI fast path below: pymysql parses a
# column descriptor per column, so one column instead of four saves a third of the query's
# CPU. No parameters, so the driver sends the text as written.
_STATE_SQL_MYSQL = (
    "SELECT CONCAT(COUNT(*), ',', IFNULL(MAX(day), ''), ',', IFNULL(MAX(computed_at_us), 0), ',',"
    f" COALESCE(SUM(computed_at_us % {_CHECKSUM_MOD}), 0), ',',"
    f" IFNULL((SELECT reader_max_age_ms FROM {data_publication.name} WHERE id = 1), 0), ',',"
    f" (SELECT COUNT(*) FROM {month_closings.name}))"
    f" FROM {computed_days.name}"
)


def _fast_state_row(conn: sa.Connection) -> tuple[int, dt.date | None, int, int, int, int] | None:
    """(count, latest_day, latest_at, checksum, published window, closings) through the DBAPI cursor; None on any driver
    error (the caller then runs the query through SQLAlchemy)."""
    try:
        cursor = dbapi_connection(conn).cursor()
        try:
            cursor.execute(_STATE_SQL_MYSQL)
            row = cursor.fetchone()
        finally:
            cursor.close()
    except conn.dialect.loaded_dbapi.Error:
        return None
    if row is None:  # (one aggregate row always comes back)
        return None
    (text,) = row
    if isinstance(text, bytes):
        text = text.decode()
    count, day, latest_at, checksum, window, closings = text.split(",")
    latest_day = dt.date.fromisoformat(day) if day else None
    return int(count), latest_day, int(latest_at), int(checksum), int(window), int(closings)


def read_data_state(conn: sa.Connection) -> DataState:
    """One cheap query on `computed_days`; `data_through` is its latest day (None if empty).

    On MySQL/MariaDB (pymysql) the query runs on the pooled connection's DBAPI cursor, as one
    text column: the SQLAlchemy execute path and four column descriptors cost about twice
    the CPU. Any driver error makes it run again through SQLAlchemy, which is then what
    reports it: a lost connection (pymysql has closed it, so the retry fails with its "closed"
    error) becomes a SQLAlchemy disconnect error that invalidates the pool, counts in the MySQL
    breaker and maps to UNAVAILABLE, exactly as before; anything transient just succeeds.
    """
    row = _fast_state_row(conn) if conn.dialect.driver == "pymysql" else None
    if row is None:
        row = conn.execute(STATE_QUERY).one()
    count, latest_day, latest_at, checksum, window, closings = row
    if isinstance(latest_day, str):  # SQLite returns MAX() of a DATE column as text
        latest_day = dt.date.fromisoformat(latest_day)
    version = f"{count:x}.{latest_day or 0}.{(latest_at or 0):x}.{int(checksum):x}.{int(closings):x}"
    return DataState(version=version, data_through=latest_day, reader_max_age_ms=int(window))


def announce_reader_max_age(conn: sa.Connection, max_age_ms: int, now_us: int) -> int:
    """Publishes `max_age_ms` as the trust window of read services and returns the window it
    replaced (0 if none). Call in a transaction, before committing new days, and wait out
    `publication_delay_sec(max(previous, max_age_ms))` after that commit. The row is read
    FOR UPDATE, so two jobs publishing at once each see the other's window."""
    if max_age_ms < 0:
        raise ValueError("max_age_ms must be 0 or more")
    t = data_publication
    previous = conn.execute(sa.select(t.c.reader_max_age_ms).where(t.c.id == 1).with_for_update()).scalar()
    values = {"reader_max_age_ms": max_age_ms, "published_at_us": now_us}
    if previous is None:
        conn.execute(sa.insert(t).values(id=1, **values))
        return 0
    conn.execute(sa.update(t).where(t.c.id == 1).values(**values))
    return int(previous)


def publication_delay_sec(max_age_ms: int) -> float:
    """How long a publisher of `computed_days` waits before it reports the new figures as
    visible: longer than any reading a read service still trusts (0 when nobody trusts one)."""
    return max_age_ms / 1000 + 0.05 if max_age_ms > 0 else 0.0
