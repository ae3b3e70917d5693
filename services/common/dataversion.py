"""The data version: what the batch has published, and how read services learn it cheaply.

Every cache key embeds the **data version**, a fingerprint of the `computed_days` table (row
count, latest day, latest `computed_at_us`, and a checksum of every `computed_at_us`). The
batch, when it finishes (or re-runs) a day, upserts that day's `computed_days` row with a new
`computed_at_us`, after the day's figures are committed: the fingerprint changes, so every
reader that sees it builds new keys and never reads the old entries again.

Reading the fingerprint on every request cost a MySQL round trip per cached read (about 50 us
of the service's CPU, and MySQL's own). `DataVersionWatch` reads it in the background
instead, every `poll_sec`, and trusts a reading only while it is younger than `max_age_sec`, counted from
the moment the query was *sent*. Older than that (the poll is late, or MySQL is down), the
request reads it itself, as before.

Why a job's result is never served stale once the job has finished, whatever each read
service is configured with: the trust window is published by the batch, in one row of
`data_publication`, and read with the version itself. A reading is trusted for the smaller
of the reader's own `max_age_sec` and the window read with it (no row: no trust, every
request reads the version). Before it commits new days, a job replaces the published window
W_old by its own W_new in one locked read-modify-write (`announce_reader_max_age`); it
commits the days at time C and waits `publication_delay_sec(max(W_old, W_new))` before it
reports the job finished, at F. A reading any reader still trusts at t >= F carries W_old or
W_new (or an older window, which the previous job waited out before W_old replaced it), was
sent at p > t - max(W_old, W_new) > C, and so sees the commit (reads run in autocommit: each
SELECT sees the latest committed data). Only durations are compared, each on its own host's
monotonic clock, so clock skew between hosts does not matter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from services.common.db import dbapi_connection
from services.common.schema import computed_days, data_publication, month_closings

log = logging.getLogger(__name__)

# A prime modulus keeps the checksum inside 64 bits on every engine (SQLite's SUM overflows).
_CHECKSUM_MOD = 4294967291


@dataclasses.dataclass(frozen=True)
class DataState:
    """What the batch has published: a version for cache keys and the last computed day."""

    version: str
    data_through: dt.date | None
    # The window published with it (0 when none is); None: not read from a database, no limit.
    reader_max_age_ms: int | None = None
    # Where it was read: "primary" or a read replica's name (services/common/readrouter.py);
    # the read it keys runs there too.
    source: str = dataclasses.field(default="primary", compare=False)


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


def _fast_state_row(conn: sa.Connection):
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


class DataVersionWatch:
    """The current DataState, from a background poll no older than `max_age_sec`.

    `read_state()` runs the query (through the MySQL circuit breaker) and raises when MySQL
    is down; `current()` then raises too once the last good reading is too old, so requests
    fail fast exactly as when they read the version themselves. With `max_age_sec` 0 every
    `current()` reads the version itself (no thread).
    """

    def __init__(self, read_state: Callable[[], DataState], *, poll_sec: float, max_age_sec: float) -> None:
        self._read_state = read_state
        self.poll_sec = poll_sec
        self.max_age_sec = max_age_sec if poll_sec > 0 else 0.0
        self._latest: tuple[DataState, float] | None = None  # (state, when its query was sent)
        self._not_before = 0.0  # readings sent before this (monotonic) are not kept
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def current(self) -> DataState:
        latest = self._latest
        if latest is not None and time.monotonic() - latest[1] < self._trusted_sec(latest[0]):
            return latest[0]
        if self.max_age_sec > 0 and self._thread is None:
            self._start()  # on first use: nothing connects when a service is built
        return self.refresh()

    def _trusted_sec(self, state: DataState) -> float:
        """How long a reading is trusted: never longer than the window published with it."""
        if state.reader_max_age_ms is None:
            return self.max_age_sec
        return min(self.max_age_sec, state.reader_max_age_ms / 1000)

    def refresh(self) -> DataState:
        sent = time.monotonic()
        state = self._read_state()
        with self._lock:
            if sent >= self._not_before and (self._latest is None or sent > self._latest[1]):
                self._latest = (state, sent)
        return state

    def forget(self) -> None:
        """Drops the reading: the next `current()` reads the version afresh (a read replica
        back in use after it was behind, whose last reading may predate what it applied)."""
        with self._lock:
            self._latest = None
            self._not_before = time.monotonic()

    def close(self) -> None:
        self._closed.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="data-version", daemon=True)
                self._thread.start()

    def _poll(self) -> None:
        failing = False
        while not self._closed.wait(self.poll_sec):
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - requests read it themselves meanwhile
                if not failing:
                    log.warning("data version poll failing (requests read it themselves): %s", exc)
                failing = True
                continue
            if failing:
                log.info("data version poll recovered")
            failing = False
