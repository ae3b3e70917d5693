"""Redis cache-aside for read models (statements, top-5 lists), keyed by a data version.

Freshness contract (why a figure the batch changed is never served stale):

* Every cache key embeds the **data version**: a fingerprint of the `computed_days` table
  (row count, latest day, latest `computed_at_us`, and a checksum of every `computed_at_us`),
  read from MySQL on each request with one small query (`read_data_state`).
* The batch, when it finishes (or re-runs) a day, upserts that day's `computed_days` row with
  a new `computed_at_us`, in the same transaction as that day's daily and period rows or after
  they are committed. That changes the fingerprint, so every request that starts after the
  job committed builds new keys: the old entries are never read again and expire by TTL.
* A request reads the version *before* the figures. If the batch commits in between, the
  entry stored under the old version holds newer figures than its key says, which is
  harmless: nobody reads the old version once the new one is visible.
* No message to Redis is involved, so a Redis that was down (or unreachable) when the batch
  finished cannot keep stale entries alive: the version comes from MySQL, the system of
  record, on every request. The batch needs no invalidation call; `invalidate_after_batch`
  exists only to free memory early and is optional.

TTL policy (memory hygiene, not correctness, since keys are versioned):
* `OPEN_TTL_SEC` (60 s) for a period that can still change: it ends today or later, or it has
  days after `data_through` (not computed yet).
* `CLOSED_TTL_SEC` (1 hour) for a period whose days are all computed and in the past.

Stampede protection: on a miss, one caller takes a short lock (`SET key:lock NX PX`) and
computes; the others poll the cache every `poll_sec` for up to `wait_sec`, then compute
anyway, so a slow or crashed lock holder costs at most `wait_sec`.

Redis is optional and never an error: every Redis operation goes through a circuit breaker
with short socket timeouts; a failure or an open circuit means "compute from MySQL", and
`redis_url` empty means no cache at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable

import pybreaker
import redis
import sqlalchemy as sa
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.common.breakers import Breaker, redis_breaker
from services.common.metrics import CACHE_REQUESTS
from services.common.schema import computed_days

log = logging.getLogger(__name__)

OPEN_TTL_SEC = 60
CLOSED_TTL_SEC = 3600

# A prime modulus keeps the checksum inside 64 bits on every engine (SQLite's SUM overflows).
_CHECKSUM_MOD = 4294967291


@dataclasses.dataclass(frozen=True)
class DataState:
    """What the batch has published: a version for cache keys and the last computed day."""

    version: str
    data_through: dt.date | None


_STATE_QUERY = sa.select(
    sa.func.count(),
    sa.func.max(computed_days.c.day),
    sa.func.max(computed_days.c.computed_at_us),
    sa.func.coalesce(sa.func.sum(computed_days.c.computed_at_us % _CHECKSUM_MOD), 0),
)


# The same figures as one text column, for the DBAPI fast path below: pymysql parses a
# column descriptor per column, so one column instead of four saves a third of the query's
# CPU. No parameters, so the driver sends the text as written.
_STATE_SQL_MYSQL = (
    "SELECT CONCAT(COUNT(*), ',', IFNULL(MAX(day), ''), ',', IFNULL(MAX(computed_at_us), 0), ',',"
    f" COALESCE(SUM(computed_at_us % {_CHECKSUM_MOD}), 0)) FROM {computed_days.name}"
)


def _fast_state_row(conn: sa.Connection):
    """(count, latest_day, latest_at, checksum) through the DBAPI cursor; None on any driver
    error (the caller then runs the query through SQLAlchemy)."""
    try:
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(_STATE_SQL_MYSQL)
            (text,) = cursor.fetchone()
        finally:
            cursor.close()
    except conn.dialect.loaded_dbapi.Error:
        return None
    if isinstance(text, bytes):
        text = text.decode()
    count, day, latest_at, checksum = text.split(",")
    return int(count), dt.date.fromisoformat(day) if day else None, int(latest_at), int(checksum)


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
        row = conn.execute(_STATE_QUERY).one()
    count, latest_day, latest_at, checksum = row
    if isinstance(latest_day, str):  # SQLite returns MAX() of a DATE column as text
        latest_day = dt.date.fromisoformat(latest_day)
    version = f"{count:x}.{latest_day or 0}.{(latest_at or 0):x}.{int(checksum):x}"
    return DataState(version=version, data_through=latest_day)


def ttl_for(period_end: dt.date, data_through: dt.date | None, today: dt.date) -> int:
    """Short TTL while the period can still gain figures, long once it is fully computed."""
    if data_through is None or period_end > data_through or period_end >= today:
        return OPEN_TTL_SEC
    return CLOSED_TTL_SEC


def make_redis(url: str, *, socket_timeout: float = 0.1, max_connections: int = 64) -> redis.Redis | None:
    """A Redis client that fails fast (no retries, 100 ms timeouts); None when url is empty.

    Nothing connects here: the pool opens connections on first use.
    """
    if not url:
        return None
    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 0),
        retry_on_timeout=False,
        health_check_interval=0,
        max_connections=max_connections,
        decode_responses=False,
    )


_FAILED = object()  # a Redis call that failed or was refused by the open circuit

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Cache:
    """Cache-aside with single-flight per key; every Redis error degrades to a miss."""

    def __init__(
        self,
        client: redis.Redis | None,
        *,
        prefix: str = "ps",
        breaker: Breaker | None = None,
        lock_ms: int = 3000,
        wait_sec: float = 0.5,
        poll_sec: float = 0.01,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.breaker = breaker or redis_breaker()
        self.lock_ms = lock_ms
        self.wait_sec = wait_sec
        self.poll_sec = poll_sec
        self._release = client.register_script(_RELEASE) if client is not None else None

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def key(self, kind: str, version: str, *parts: object) -> str:
        return ":".join([self.prefix, kind, version, *map(str, parts)])

    def _redis(self, func: Callable, *args, **kwargs):
        """A Redis call through the breaker; _FAILED (and a log line) on any failure."""
        try:
            return self.breaker.call(func, *args, **kwargs)
        except pybreaker.CircuitBreakerError:
            return _FAILED
        except redis.RedisError as exc:
            log.warning("redis unavailable, answering from the database: %s", exc)
            return _FAILED

    def _get(self, key: str):
        return self._redis(self.client.get, key)

    def get(self, key: str) -> bytes | None:
        if self.client is None:
            return None
        value = self._get(key)
        return None if value is _FAILED else value

    def set(self, key: str, value: bytes, ttl_sec: int) -> None:
        if self.client is not None:
            self._redis(self.client.set, key, value, ex=ttl_sec)

    def get_or_compute(self, key: str, ttl_sec: int, compute: Callable[[], bytes], *, name: str = "read") -> bytes:
        """The cached bytes for key, or compute() stored for ttl_sec (one computer per key).

        Counted in paysystem_cache_requests_total{cache=name, result=hit|miss|error}:
        a value found after waiting on another computer is a hit, a wait that timed out a
        miss, a Redis failure or open circuit an error.
        """
        if self.client is None:
            return compute()
        value = self._get(key)
        if value is _FAILED:
            CACHE_REQUESTS.labels(name, "error").inc()
            return compute()
        if value is not None:
            CACHE_REQUESTS.labels(name, "hit").inc()
            return value
        token = uuid.uuid4().hex
        lock_key = key + ":lock"
        locked = self._redis(self.client.set, lock_key, token, nx=True, px=self.lock_ms)
        if locked is _FAILED:
            CACHE_REQUESTS.labels(name, "error").inc()
            return compute()
        if locked:
            CACHE_REQUESTS.labels(name, "miss").inc()
            try:
                value = compute()
                self.set(key, value, ttl_sec)
                return value
            finally:
                self._redis(self._release, keys=[lock_key], args=[token])
        # Someone else is computing this key: wait briefly for their result.
        deadline = time.monotonic() + self.wait_sec
        while time.monotonic() < deadline:
            time.sleep(self.poll_sec)
            value = self._get(key)
            if value is _FAILED:
                break
            if value is not None:
                CACHE_REQUESTS.labels(name, "hit").inc()
                return value
        CACHE_REQUESTS.labels(name, "miss").inc()
        value = compute()
        self.set(key, value, ttl_sec)
        return value

    def invalidate_after_batch(self) -> int:
        """Optional: deletes every cached read model under this prefix; returns the count.

        Correctness never depends on it (keys are versioned, see the module docstring);
        it only frees memory early. Safe to call when Redis is down (returns 0).
        """
        if self.client is None:
            return 0

        def delete_all() -> int:
            deleted = 0
            batch = []
            for key in self.client.scan_iter(match=f"{self.prefix}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += self.client.unlink(*batch)
                    batch.clear()
            if batch:
                deleted += self.client.unlink(*batch)
            return deleted

        deleted = self._redis(delete_all)
        return 0 if deleted is _FAILED else deleted


def invalidate_after_batch(redis_url: str, prefix: str = "ps") -> int:
    """For the batch, optional: frees the read-model cache after a job (see `Cache`)."""
    client = make_redis(redis_url, socket_timeout=1.0)
    if client is None:
        return 0
    try:
        return Cache(client, prefix=prefix, breaker=redis_breaker("redis-invalidate")).invalidate_after_batch()
    finally:
        client.close()
