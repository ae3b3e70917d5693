"""Cache-aside for read models (statements, top-5 lists): Redis, with a short-lived copy in
each process, keyed by the data version.

Freshness contract (why a figure the batch changed is never served stale): every key embeds
the data version (services/readpath/dataversion.py), which changes whenever the batch publishes
a day. A request takes the version *before* it reads figures; if the batch commits in
between, the entry stored under the old version holds newer figures than its key says, which
is harmless: nobody reads the old version once the new one is visible. No message to Redis
is involved, so a Redis that was down (or unreachable) when the batch finished cannot keep
stale entries alive. `invalidate_after_batch` only frees memory early; nothing depends on it.

Two tiers:
* Redis, shared by every instance, with the TTL policy below and stampede protection.
* `LocalTier`, in each process, for `local_cache_ttl_ms` (5 s by default): a hot key costs no
  Redis round trip for that long. It holds only what Redis holds (a value is kept after a
  Redis hit or a successful Redis SET), so while Redis fails, local entries run out within
  `local_cache_ttl_ms` and reads go to MySQL, and Redis is tried (and its breaker fed) again at
  least that often. Versioned keys make it exactly as fresh as Redis.

TTL policy (memory hygiene, not correctness, since keys are versioned):
* `OPEN_TTL_SEC` (60 s) for a period that can still change: it ends today or later, or it has
  days after `data_through` (not computed yet).
* `CLOSED_TTL_SEC` (1 hour) for a period whose days are all computed and in the past.

Stampede protection: on a miss, one caller takes a short lock (`SET key:lock NX PX`) and
computes; the others poll the cache every `poll_sec` for up to `wait_sec`, then compute
anyway, so a slow or crashed lock holder costs at most `wait_sec`.

Redis Cluster (`redis+cluster://h1:p1,h2:p2`, see `make_redis`): the same code on
redis-py's cluster client. Keys carry a hash tag, the seller (`Cache.key`), so a key and
its lock are on one slot (the lock's Lua release touches one key anyway) and a seller's
keys stay together. Nothing here needs keys of two slots at once: the data version is part
of every key, so a new version needs no message to any node, and `invalidate_after_batch`
scans every master. A master that dies is a Redis failure like any other (the breaker,
then MySQL) until its replica is promoted and the client has re-read the slot map.

Redis is optional and never an error: every Redis operation goes through a circuit breaker
with short socket timeouts; a failure or an open circuit means "compute from MySQL", and
`redis_url` empty means no cache at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

import pybreaker
import redis
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.commands.core import Script
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from services.common.breakers import REDIS_ERRORS, Breaker, redis_breaker
from services.common.metrics import CACHE_REQUESTS

log = logging.getLogger(__name__)

OPEN_TTL_SEC = 60
CLOSED_TTL_SEC = 3600


def ttl_for(period_end: dt.date, data_through: dt.date | None, today: dt.date) -> int:
    """Short TTL while the period can still gain figures, long once it is fully computed."""
    if data_through is None or period_end > data_through or period_end >= today:
        return OPEN_TTL_SEC
    return CLOSED_TTL_SEC


CLUSTER_SCHEME = "redis+cluster://"


def make_redis(url: str, *, socket_timeout: float = 0.1, max_connections: int = 64) -> redis.Redis | LazyCluster | None:
    """A Redis client that fails fast (no retries, 100 ms timeouts); None when url is empty.

    `redis://host:port/db` is one node; `redis+cluster://host1:port1,host2:port2,...` is a
    Redis Cluster found through those seed nodes (any of them, see `LazyCluster`), with the
    same timeouts, no retries at the cluster level either, and `max_connections` per node.
    Nothing connects here: the pool opens connections on first use.
    """
    if not url:
        return None
    options = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_timeout,
        "health_check_interval": 0,
        "max_connections": max_connections,
        "decode_responses": False,
    }
    if url.startswith(CLUSTER_SCHEME):
        return LazyCluster(cluster_seeds(url), **options)
    return redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), retry_on_timeout=False, **options)


def cluster_seeds(url: str) -> list[ClusterNode]:
    """The seed nodes of a `redis+cluster://h1:p1,h2:p2` URL (port 6379 when omitted)."""
    seeds = []
    for address in url.removeprefix(CLUSTER_SCHEME).split("/", 1)[0].split(","):
        host, _, port = address.strip().rpartition(":") if ":" in address else (address.strip(), "", "6379")
        if not host:
            raise ValueError(f"bad Redis Cluster seed {address!r} in {url!r} (expected host:port)")
        seeds.append(ClusterNode(host, int(port)))
    return seeds


class LazyCluster:
    """A `redis.cluster.RedisCluster`, built on its first command.

    RedisCluster reads the slot map from a seed node in its constructor; a process must start
    (and answer from the database) while the cluster is down, so the client is built on first
    use instead, and built again on the next use while that fails. A construction failure is
    a `redis.ConnectionError`, so it counts in the breaker like any other Redis failure.

    Once built, every attribute is the RedisCluster's own (no wrapper on the hot path). The
    cluster client refreshes its slot map itself after a connection error or a MOVED reply,
    which is how a promoted replica is found after a failover.
    """

    def __init__(self, seeds: list[ClusterNode], **options) -> None:
        self.seeds = seeds
        self._options = options
        self._client: RedisCluster | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        """Whether the RedisCluster exists yet (it has read the slot map once)."""
        return self._client is not None

    def cluster(self) -> RedisCluster:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                try:
                    self._client = RedisCluster(
                        startup_nodes=list(self.seeds), retry=Retry(NoBackoff(), 0), **self._options
                    )
                except (redis.RedisError, RedisClusterException) as exc:
                    raise redis.ConnectionError(f"Redis Cluster unreachable: {exc}") from exc
            return self._client

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        client = self._client
        if client is not None:
            return getattr(client, name)

        def deferred(*args, **kwargs):  # built here, inside the caller's breaker
            return getattr(self.cluster(), name)(*args, **kwargs)

        return deferred

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@functools.cache
def _counted(name: str, result: str):
    """The labelled counter, looked up once (labels() takes a lock and builds a tuple)."""
    return CACHE_REQUESTS.labels(name, result)


_FAILED = object()  # a Redis call that failed or was refused by the open circuit

# One key: on a cluster the script runs on the lock's slot. Bytes, so that Script needs no
# encoder from the client (a LazyCluster is not built by registering a script).
_RELEASE = b"""
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class LocalTier:
    """Rendered read models kept in this process for a short time, within `max_bytes`.

    Reads take no lock (one dict lookup under the GIL); writes evict the oldest entries
    first, which for entries that all live `ttl_sec` is also the first to expire.
    """

    def __init__(self, *, max_bytes: int, ttl_sec: float) -> None:
        self.max_bytes = max_bytes
        self.ttl_sec = ttl_sec
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0 and self.ttl_sec > 0

    def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def put(self, key: str, value: bytes, ttl_sec: float) -> None:
        if not self.enabled or len(value) > self.max_bytes:
            return
        expires = time.monotonic() + min(ttl_sec, self.ttl_sec)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._entries[key] = (value, expires)
            self._bytes += len(value)
            while self._bytes > self.max_bytes:
                _, (evicted, _) = self._entries.popitem(last=False)
                self._bytes -= len(evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


class Cache:
    """Cache-aside with single-flight per key; every Redis error degrades to a miss."""

    def __init__(
        self,
        client: redis.Redis | LazyCluster | None,
        *,
        prefix: str = "ps",
        breaker: Breaker | None = None,
        lock_ms: int = 3000,
        wait_sec: float = 0.5,
        poll_sec: float = 0.01,
        local: LocalTier | None = None,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.breaker = breaker or redis_breaker()
        if client is not None:
            self.breaker.probe_when_open(client.ping)  # an idle instance's circuit closes too
        self.lock_ms = lock_ms
        self.wait_sec = wait_sec
        self.poll_sec = poll_sec
        self.local = local if local is not None and client is not None else LocalTier(max_bytes=0, ttl_sec=0)
        # A LazyCluster stands in for its RedisCluster (every attribute is the cluster's).
        self._release = Script(client, _RELEASE) if client is not None else None  # type: ignore[arg-type]

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def key(self, kind: str, version: str, group: object, *parts: object) -> str:
        """`prefix:kind:{group}:version:parts...`; the lock of a key is that key + ":lock".

        `{group}` is the Redis Cluster hash tag: only it decides the slot, so a key, its
        stampede lock (one Lua script touches it) and every other key of the group (a
        seller: statements and top-5 lists, under any data version) live on one slot, and
        the groups spread over the masters.
        """
        return ":".join([self.prefix, kind, "{" + str(group) + "}", version, *map(str, parts)])

    def _redis(self, func: Callable, *args, **kwargs):
        """A Redis call through the breaker; _FAILED (and a log line) on any failure."""
        try:
            return self.breaker.call(func, *args, **kwargs)
        except pybreaker.CircuitBreakerError:
            return _FAILED
        except REDIS_ERRORS as exc:
            log.warning("redis unavailable, answering from the database: %s", exc)
            return _FAILED

    def _get(self, client: redis.Redis | LazyCluster, key: str):
        return self._redis(client.get, key)

    def get(self, key: str) -> bytes | None:
        if self.client is None:
            return None
        value = self._get(self.client, key)
        return None if value is _FAILED else value

    def set(self, key: str, value: bytes, ttl_sec: int) -> bool:
        """Stores value in Redis (and then in the local tier); False if Redis failed."""
        if self.client is None or self._redis(self.client.set, key, value, ex=ttl_sec) is _FAILED:
            return False
        self.local.put(key, value, ttl_sec)
        return True

    def _found(self, key: str, value: bytes, ttl_sec: int, name: str) -> bytes:
        _counted(name, "hit").inc()
        self.local.put(key, value, ttl_sec)
        return value

    def get_or_compute(self, key: str, ttl_sec: int, compute: Callable[[], bytes], *, name: str = "read") -> bytes:
        """The cached bytes for key, or compute() stored for ttl_sec (one computer per key).

        Counted in paysystem_cache_requests_total{cache=name, result=local_hit|hit|miss|error}:
        local_hit is the process's own copy; hit a Redis hit (also after waiting on another
        computer); miss a computation (also after a wait that timed out); error a Redis
        failure or open circuit (computed from MySQL).
        """
        if self.client is None:
            return compute()
        value = self.local.get(key)
        if value is not None:
            _counted(name, "local_hit").inc()
            return value
        value = self._get(self.client, key)
        if value is _FAILED:
            _counted(name, "error").inc()
            return compute()
        if value is not None:
            return self._found(key, value, ttl_sec, name)
        token = uuid.uuid4().hex
        lock_key = key + ":lock"
        locked = self._redis(self.client.set, lock_key, token, nx=True, px=self.lock_ms)
        if locked is _FAILED:
            _counted(name, "error").inc()
            return compute()
        if locked:
            _counted(name, "miss").inc()
            try:
                value = compute()
                self.set(key, value, ttl_sec)
                return value
            finally:
                if self._release is not None:  # (it is, with a client)
                    self._redis(self._release, keys=[lock_key], args=[token])
        # Someone else is computing this key: wait briefly for their result.
        deadline = time.monotonic() + self.wait_sec
        while time.monotonic() < deadline:
            time.sleep(self.poll_sec)
            value = self._get(self.client, key)
            if value is _FAILED:
                break
            if value is not None:
                return self._found(key, value, ttl_sec, name)
        _counted(name, "miss").inc()
        value = compute()
        self.set(key, value, ttl_sec)
        return value

    def invalidate_after_batch(self) -> int:
        """Optional: deletes every cached read model under this prefix; returns the count.

        Correctness never depends on it (keys are versioned, see the module docstring);
        it only frees memory early. Safe to call when Redis is down (returns 0). On a
        cluster, SCAN runs on every master and each batch of UNLINKs is split by slot into
        one pipeline (redis-py's cluster client does both).
        """
        client = self.client
        if client is None:
            return 0
        self.local.clear()

        def delete_all() -> int:
            deleted = 0
            batch = []
            for key in client.scan_iter(match=f"{self.prefix}:*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += client.unlink(*batch)
                    batch.clear()
            if batch:
                deleted += client.unlink(*batch)
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
