"""The SQLAlchemy engine and the unit of work, shared by every process (the migrations that
shape the database: the top-level `migrations` package)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import DBAPIConnection

from services.common import money_sql
from services.common.settings import Settings

# Set on every MySQL/MariaDB connection, whatever the server's default: with strict mode a
# value that does not fit its column (a too-long string, an out-of-range number) is an
# error instead of being silently cut to fit, and division by zero is an error, not NULL.
T = TypeVar("T")

SQL_MODE = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"


def make_engine(settings: Settings, **overrides) -> sa.Engine:
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, **overrides)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options = {
        "pool_pre_ping": True,
        "pool_recycle": 1800,
        "pool_size": 10,
        "max_overflow": 20,
        # READ COMMITTED avoids gap locks between concurrent upserts of disjoint keys.
        "isolation_level": "READ COMMITTED",
        # No LOCAL INFILE: only benchmarks that load files ask for it, on their own engine.
        "connect_args": {"connect_timeout": 5, "init_command": f"SET SESSION sql_mode = '{SQL_MODE}'"},
    }
    options.update(overrides)
    return sa.create_engine(url, **options)


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key that a one-row INSERT generated."""
    key = result.inserted_primary_key
    if key is None:  # not an INSERT of one row
        raise sa.exc.InvalidRequestError("no primary key was generated")
    return int(key[0])


def dbapi_connection(conn: sa.Connection) -> DBAPIConnection:
    """The driver's connection under `conn`, for the few statements run on its own cursor
    (the ingest's multi-row inserts, the data-state read)."""
    raw = conn.connection.dbapi_connection
    if raw is None:  # only once `conn` was closed or invalidated
        raise sa.exc.ResourceClosedError("This Connection is closed")
    return raw


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Exact money arithmetic in SQL (SQLite's own would be float): services/common/money_sql.py.
    money_sql.register_sqlite_functions(dbapi_connection)
    # WAL lets the many service processes of the embedded mesh read while one writes.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def write_lock_at_begin(engine: sa.Engine) -> None:
    """On SQLite, every transaction of `engine` takes the database's write lock when it
    begins (BEGIN IMMEDIATE); elsewhere nothing changes. For the batch, whose transactions
    read the history into temporary tables before they write: a deferred SQLite transaction
    that has read cannot become a writer once another process has committed since its read
    ("database is locked" at once, the busy timeout does not apply). Taking the lock first
    makes such a transaction wait its turn instead. Read-only processes keep deferred
    transactions, so their readers never queue behind the batch. Idempotent."""
    if engine.dialect.name == "sqlite" and not sa.event.contains(engine, "begin", _begin_immediate):
        sa.event.listen(engine, "begin", _begin_immediate)


def _begin_immediate(conn: sa.Connection) -> None:
    # The driver (legacy transaction control) then sees a transaction open and adds no BEGIN.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# MariaDB/MySQL: the server chose this transaction as a deadlock's victim and rolled it back
# whole (ER_LOCK_DEADLOCK). Running the transaction again is the server's own advice.
_DEADLOCK = 1213


def retried_after_deadlock(transaction: Callable[[], T], attempts: int = 3) -> T:
    """`transaction()` (a whole transaction, nothing kept from a failed try) run again when
    the database rolled it back as a deadlock victim; the last attempt's error is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return transaction()
        except sa.exc.OperationalError as error:
            code = error.orig.args[0] if error.orig is not None and error.orig.args else None
            if code != _DEADLOCK or attempt == attempts:
                raise
            time.sleep(0.05 * attempt)  # let the winner commit
    raise AssertionError("attempts must be at least 1")


def wait_until_reachable(engine: sa.Engine, timeout_sec: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_sec
    while True:
        try:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            return
        except sa.exc.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@contextlib.contextmanager
def unit_of_work(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction around a use case: committed on success, rolled back on any error."""
    with engine.begin() as connection:
        yield connection


class SqlTransaction:
    """The SQL side of a service's unit of work (its ports.UnitOfWork): `with` opens a
    connection and begins a transaction, as engine.begin() does; commit() commits it;
    leaving the block without a commit rolls it back. A service's SqlUnitOfWork adds its
    repositories over `connection`. One instance serves one use case call at a time."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._connection: sa.Connection | None = None
        self._transaction: sa.RootTransaction | None = None

    @property
    def connection(self) -> sa.Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._connection

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("the unit of work is in use already: build one per use case call")
        connection = self._engine.connect()
        self._transaction = connection.begin()
        self._connection = connection
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        connection, transaction = self.connection, self._transaction
        self._connection = self._transaction = None
        try:
            if transaction is not None and transaction.is_active:
                transaction.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        self._active().commit()

    def rollback(self) -> None:
        self._active().rollback()

    def _active(self) -> sa.RootTransaction:
        if self._transaction is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return self._transaction
