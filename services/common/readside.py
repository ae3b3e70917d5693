"""What the read services (statistics, settlement) share: their dependencies and arguments.

`ReadSide` bundles the engine behind its MySQL circuit breaker, the cache (Redis, optional,
with each process's short-lived copy), the watch on the batch's data version and the
platform calendar. `build_read_side(ctx)` is called from a service's `build(ctx)`:
nothing connects at import or at build time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import TypeVar
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.common import db
from services.common.breakers import Breaker, db_breaker, redis_breaker
from services.common.cache import Cache, LocalTier, make_redis
from services.common.dataversion import DataState, DataVersionWatch, read_data_state
from services.common.errors import BadId, BadPeriod
from services.common.periods import Period

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class ReadSide:
    engine: sa.Engine
    db: Breaker
    cache: Cache
    zone: ZoneInfo
    # 0: the data version is read on every request (no background poll).
    version_poll_ms: int = 0
    version_max_age_ms: int = 0
    versions: DataVersionWatch = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        watch = DataVersionWatch(
            lambda: self.read(read_data_state),
            poll_sec=self.version_poll_ms / 1000,
            max_age_sec=self.version_max_age_ms / 1000,
        )
        object.__setattr__(self, "versions", watch)  # frozen: set once, here

    def data_state(self) -> DataState:
        """The batch's published version and last computed day (see dataversion.py)."""
        return self.versions.current()

    def today(self) -> dt.date:
        return dt.datetime.now(self.zone).date()

    def read(self, use_case: Callable[[sa.Connection], T]) -> T:
        """Runs use_case(conn) on one connection, behind the MySQL circuit breaker."""

        def run() -> T:
            with self.engine.connect() as conn:
                return use_case(conn)

        return self.db.call(run)


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


def build_read_side(ctx, *, cache_prefix: str = "ps") -> ReadSide:
    """The real dependencies of a read service, from its ServiceContext (the readiness check
    keeps using ctx.engine)."""
    settings = ctx.settings
    return ReadSide(
        engine=read_engine(settings),
        db=db_breaker(),
        cache=Cache(
            make_redis(settings.redis_url), prefix=cache_prefix, breaker=redis_breaker(), local=local_tier(settings)
        ),
        zone=settings.zone,
        version_poll_ms=settings.data_version_poll_ms,
        version_max_age_ms=settings.data_version_max_age_ms,
    )


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


def parse_id(value: int, field: str) -> int:
    if value <= 0:
        raise BadId("must be a positive id", field=field)
    return value
