"""What the read services (statistics, settlement) share: their dependencies and arguments.

`ReadSide` bundles the engine behind its MySQL circuit breaker (and the read replicas, each
behind its own, chosen by readrouter.py), the cache (Redis, optional,
with each process's short-lived copy), the watch on the batch's data version and the
platform calendar. `build_read_side(ctx, read_state)` is called from a service's `build(ctx)`:
nothing connects at import or at build time.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from domain.errors import BadPeriod
from domain.periods import Period
from services.common import db
from services.common.breakers import Breaker, db_breaker, redis_breaker
from services.common.clock import SYSTEM_CLOCK, Clock, clock_for
from services.readpath.cache import Cache, LocalTier, make_redis, ttl_for
from services.readpath.dataversion import DataState, DataVersionWatch
from services.readpath.readrouter import PRIMARY, TARGET_DOWN_ERRORS, ReadRouter, ReadTarget, run_on
from services.readpath.replicas import replica_engine, replica_name

T = TypeVar("T")


class CacheableRead(Protocol):
    """A read use case's request once it is validated and authorized, with the data state it
    will read at: what the adapter's cache of rendered answers keys on (ReadSide.cached)."""

    @property
    def state(self) -> DataState: ...

    @property
    def cache_parts(self) -> tuple[object, ...]:  # the first part groups keys (a seller)
        ...

    @property
    def period_end(self) -> dt.date: ...


@dataclasses.dataclass(frozen=True)
class Replica:
    """A read replica of the primary: its name (host:port/db), engine and circuit breaker."""

    name: str
    engine: sa.Engine
    breaker: Breaker


@dataclasses.dataclass(frozen=True)
class ReadSide:
    engine: sa.Engine
    db: Breaker
    cache: Cache
    zone: ZoneInfo
    # The query of the published data version (the batch's, batch/published.py), which the
    # read service's entry point hands in: this plumbing knows no owner's tables.
    read_state: Callable[[sa.Connection], DataState]
    # 0: the data version is read on every request (no background poll).
    version_poll_ms: int = 0
    version_max_age_ms: int = 0
    # Read replicas (PAYSYSTEM_DB_READ_URLS); empty: every read on the primary, as always.
    replicas: tuple[Replica, ...] = ()
    replica_max_lag_ms: int = 2000
    # The business clock: which day is today (services/common/clock.py).
    clock: Clock = SYSTEM_CLOCK
    versions: DataVersionWatch = dataclasses.field(init=False, repr=False, compare=False)
    router: ReadRouter = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        watch = self._watch(lambda: self.read(self.read_state))
        targets = [ReadTarget(r.name, r.engine, r.breaker, replica=True) for r in self.replicas]
        for target in targets:
            target.versions = self._watch(functools.partial(_replica_state, target, self.read_state))
        router = ReadRouter(
            ReadTarget(PRIMARY, self.engine, self.db, watch), targets, max_lag_ms=self.replica_max_lag_ms
        )
        object.__setattr__(self, "versions", watch)  # frozen: set once, here
        object.__setattr__(self, "router", router)

    def _watch(self, read_state: Callable[[], DataState]) -> DataVersionWatch:
        return DataVersionWatch(
            read_state, poll_sec=self.version_poll_ms / 1000, max_age_sec=self.version_max_age_ms / 1000
        )

    def data_state(self) -> DataState:
        """The batch's published version and last computed day (see dataversion.py), from
        the first target in use (readrouter.py); `source` names it, for `read_at`."""
        if not self.replicas:
            return self.versions.current()
        for target in self.router.candidates():
            if not target.replica or target.versions is None:  # (a replica's target has its watch)
                return self.versions.current()
            try:
                return target.versions.current()
            except TARGET_DOWN_ERRORS as exc:
                self.router.failed(target, exc)
        raise AssertionError("unreachable: the primary is always a candidate")

    def today(self) -> dt.date:
        return self.clock.today(self.zone)

    def cached(self, request: CacheableRead, kind: str, render: Callable[[], bytes], *, name: str) -> bytes:
        """The rendered answer to `request` from the cache, or `render()` stored there. An
        adapter's concern: the use case returns a plain value, the adapter renders it in its
        wire format, and each rendering has its own `kind` in the key (the protobuf message
        "stmt", the CSV file "stmt.csv"). Keyed by the data version the request pinned, so a
        new batch publication is a new key; kept briefly while the period can still change."""
        key = self.cache.key(kind, request.state.version, *request.cache_parts)
        ttl = ttl_for(request.period_end, request.state.data_through, self.today())
        return self.cache.get_or_compute(key, ttl, render, name=name)

    def read(self, use_case: Callable[[sa.Connection], T]) -> T:
        """Runs use_case(conn) on one connection of the primary, behind its circuit breaker."""

        return run_on(self.router.primary, use_case)

    def read_at(self, state: DataState, use_case: Callable[[sa.Connection, DataState], T]) -> T:
        """Runs use_case(conn, state) where `state` was read, with the state of the rows it reads.

        On the primary (no replicas, or `state` read there): the given state, as `read`.
        On a replica: in one consistent snapshot, whose own data version is passed (a
        replica applies commits in order, so it is `state` or newer: the rows and the
        version always belong together, and are never older than the key built from `state`).
        A replica that fails the read sends it to the primary, which reads its version with
        the rows (newer or equal, never older): the request does not fail.
        """
        if state.source == PRIMARY:
            return self.read(lambda conn: use_case(conn, state))
        target = self.router.target(state.source)
        try:
            return run_on(target, lambda conn: _in_snapshot(conn, self.read_state, use_case))
        except TARGET_DOWN_ERRORS as exc:
            self.router.failed(target, exc)
        return self.read(lambda conn: use_case(conn, self.read_state(conn)))


def _replica_state(target: ReadTarget, read_state: Callable[[sa.Connection], DataState]) -> DataState:
    state = run_on(target, read_state)
    return dataclasses.replace(state, source=target.name)


def _in_snapshot(
    conn: sa.Connection,
    read_state: Callable[[sa.Connection], DataState],
    use_case: Callable[[sa.Connection, DataState], T],
) -> T:
    conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
    try:
        result = use_case(conn, read_state(conn))
    except BaseException:
        with contextlib.suppress(Exception):  # the error that matters is the one raised
            conn.exec_driver_sql("ROLLBACK")
        raise
    conn.exec_driver_sql("COMMIT")
    return result


def read_engine(settings) -> sa.Engine:
    """An engine for read-only use cases that costs one round trip per query.

    The default engine spends two more round trips per request: a pre-ping at checkout and
    a ROLLBACK when the connection is closed. Reads here run in autocommit (each
    SELECT sees the latest committed data, which the cache's version check relies on
    anyway), so there is nothing to roll back. Without the pre-ping, a connection that died
    (MySQL restarted) fails once: SQLAlchemy then invalidates the whole pool, the caller
    gets UNAVAILABLE (which Envoy retries on another instance) and the next request
    reconnects. On SQLite (the embedded default) the ordinary engine is used.
    """
    if sa.make_url(settings.database_url).get_backend_name() == "sqlite":
        return db.make_engine(settings)
    return db.make_engine(
        settings,
        isolation_level="AUTOCOMMIT",
        skip_autocommit_rollback=True,
        pool_pre_ping=False,
        pool_reset_on_return=None,
    )


def local_tier(settings) -> LocalTier:
    """Each instance's short-lived copy of what it read from Redis, as the settings size it."""
    return LocalTier(max_bytes=settings.local_cache_mb * 2**20, ttl_sec=settings.local_cache_ttl_ms / 1000)


def build_read_side(ctx, read_state: Callable[[sa.Connection], DataState], *, cache_prefix: str = "ps") -> ReadSide:
    """The real dependencies of a read service, from its ServiceContext (the readiness check
    keeps using ctx.engine)."""
    return read_side_for(ctx.settings, read_state, cache_prefix=cache_prefix, clock=ctx.clock)


def read_side_for(
    settings,
    read_state: Callable[[sa.Connection], DataState],
    *,
    cache_prefix: str = "ps",
    reset_timeout: float = 5.0,
    clock: Clock | None = None,
) -> ReadSide:
    """A read side as the settings describe it: the primary, each replica of
    PAYSYSTEM_DB_READ_URLS behind its own breaker, the cache, the version watch, the clock
    (`clock`, or the one the settings describe)."""
    replicas = tuple(
        Replica(
            replica_name(url),
            replica_engine(settings, url),
            db_breaker(f"mysql-replica:{replica_name(url)}", reset_timeout=reset_timeout),
        )
        for url in settings.read_urls
    )
    engine = read_engine(settings)
    primary = db_breaker(reset_timeout=reset_timeout)
    # An idle instance's circuit closes too (replicas have their own health check, readrouter.py).
    primary.probe_when_open(functools.partial(_select_one, engine))
    return ReadSide(
        engine=engine,
        db=primary,
        replicas=replicas,
        replica_max_lag_ms=settings.db_replica_max_lag_ms,
        cache=Cache(
            make_redis(settings.redis_url),
            prefix=cache_prefix,
            breaker=redis_breaker(reset_timeout=reset_timeout),
            local=local_tier(settings),
        ),
        zone=settings.zone,
        read_state=read_state,
        version_poll_ms=settings.data_version_poll_ms,
        version_max_age_ms=settings.data_version_max_age_ms,
        clock=clock_for(settings) if clock is None else clock,
    )


def _select_one(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


def parse_period(name: str, field: str = "period") -> Period:
    """DAILY, WEEKLY or MONTHLY (PERIOD_UNSPECIFIED and anything else are refused)."""
    try:
        return Period(name)
    except ValueError:
        raise BadPeriod("must be DAILY, WEEKLY or MONTHLY", field=field) from None


def enum_name(enum, value: int) -> str:
    """A proto enum value's name, or a placeholder no parser accepts for an unknown number."""
    try:
        return enum.Name(value)
    except ValueError:
        return f"UNKNOWN_{value}"
