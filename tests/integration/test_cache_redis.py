"""The Redis cache-aside against a private redis-server that the tests stop and restart,
and statements served through a Redis outage (they come from MariaDB meanwhile).

Every test runs twice: on one redis-server (`node`) and on a six-node Redis Cluster of our
own (`cluster`, tests/redis_cluster.py), through the same `make_redis` URL setting.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
import uuid

import pytest
from prometheus_client import REGISTRY

from batch.data_state import read_data_state
from paysystem.v1 import common_pb2, settlement_pb2
from services.common.breakers import redis_breaker
from services.readpath.cache import Cache, LocalTier, make_redis
from tests.databases import fresh_database
from tests.plugins.readside import (
    Daily,
    RedisProcess,
    add_videos,
    make_read_side,
    mark_computed,
    migrated_engine,
    publish_day,
    serve_read_services,
)
from tests.redis_cluster import RedisClusterProcesses

REDIS_PORT = 20379
SELLER, VIDEO = 3001, 7001


@pytest.fixture(scope="module", params=["node", "cluster"])
def redis_server(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("redis")
    server = RedisProcess(REDIS_PORT, workdir) if request.param == "node" else RedisClusterProcesses(workdir)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def running_redis(redis_server):
    if not redis_server.running:
        redis_server.start()
    return redis_server


def _cache(url: str, **kwargs) -> Cache:
    name = uuid.uuid4().hex[:8]
    return Cache(
        make_redis(url), prefix=f"t{name}", breaker=redis_breaker(f"redis-t{name}", reset_timeout=0.5), **kwargs
    )


def test_a_miss_computes_and_stores_then_a_hit_does_not_compute(running_redis):
    cache = _cache(running_redis.url)
    calls = []
    compute = lambda: calls.append(1) or b"value"  # noqa: E731
    assert cache.get_or_compute(cache.key("k", "v1", SELLER), 60, compute) == b"value"
    assert cache.get_or_compute(cache.key("k", "v1", SELLER), 60, compute) == b"value"
    assert len(calls) == 1
    assert 0 < cache.client.ttl(cache.key("k", "v1", SELLER)) <= 60


def test_a_stampede_on_one_missing_key_computes_it_once(running_redis):
    cache = _cache(running_redis.url, wait_sec=2.0)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return b"figures"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute(cache.key("s", "v1", SELLER), 60, slow)))
        for _ in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [b"figures"] * 12
    assert len(calls) == 1


def test_waiters_compute_anyway_when_the_lock_holder_never_answers(running_redis):
    cache = _cache(running_redis.url, wait_sec=0.2)
    key = cache.key("w", "v1", SELLER)
    cache.client.set(key + ":lock", "someone-who-crashed", px=5000)
    started = time.monotonic()
    assert cache.get_or_compute(key, 60, lambda: b"computed") == b"computed"
    assert 0.2 <= time.monotonic() - started < 1.0


def test_a_stopped_redis_degrades_to_computing_quickly_and_the_cache_returns_with_redis(running_redis):
    cache = _cache(running_redis.url)
    key = cache.key("o", "v1", SELLER)
    running_redis.stop()
    started = time.monotonic()
    for _ in range(20):
        assert cache.get_or_compute(key, 60, lambda: b"from-db") == b"from-db"
    assert time.monotonic() - started < 3.0  # 20 calls; without the breaker and timeouts, seconds each
    assert cache.breaker.state == "open"
    assert REGISTRY.get_sample_value("paysystem_circuit_breaker_open", {"breaker": cache.breaker.name}) == 1.0
    running_redis.start()
    time.sleep(0.6)  # the breaker's reset timeout
    assert cache.get_or_compute(key, 60, lambda: b"fresh") == b"fresh"
    assert cache.breaker.state == "closed"
    assert cache.get_or_compute(key, 60, lambda: b"not-used") == b"fresh"


def test_a_hung_redis_costs_at_most_a_short_timeout_per_call_until_the_circuit_opens(running_redis):
    cache = _cache(running_redis.url)
    assert cache.get_or_compute(cache.key("h", "v1", SELLER), 60, lambda: b"cached") == b"cached"
    running_redis.send_signal(signal.SIGSTOP)  # SIGSTOP: connections hang instead of being refused
    try:
        started = time.monotonic()
        for _ in range(10):
            assert cache.get_or_compute(cache.key("h", "v1", SELLER), 60, lambda: b"from-db") == b"from-db"
        elapsed = time.monotonic() - started
    finally:
        running_redis.send_signal(signal.SIGCONT)
    assert cache.breaker.state == "open"
    assert elapsed < 2.0  # 3 timed-out GETs of 100 ms, then no Redis calls (a 5 s default each)


def _count(cache_name: str, result: str) -> float:
    return REGISTRY.get_sample_value("paysystem_cache_requests_total", {"cache": cache_name, "result": result}) or 0.0


def test_the_local_tier_answers_without_redis_and_keeps_only_what_redis_holds(running_redis):
    cache = _cache(running_redis.url, local=LocalTier(max_bytes=2**20, ttl_sec=0.3))
    name = f"local-{uuid.uuid4().hex[:6]}"
    key = cache.key("l", "v1", SELLER)
    assert cache.get_or_compute(key, 60, lambda: b"figures", name=name) == b"figures"
    cache.client.delete(key)  # gone from Redis: only the local copy can answer now
    assert cache.get_or_compute(key, 60, lambda: b"recomputed", name=name) == b"figures"
    assert _count(name, "local_hit") == 1 and _count(name, "miss") == 1

    running_redis.stop()
    time.sleep(0.35)  # the local copy runs out
    computed = []
    for _ in range(3):  # Redis down: computed from the database every time, never kept locally
        assert cache.get_or_compute(key, 60, lambda: computed.append(1) or b"from-db", name=name) == b"from-db"
    assert len(computed) == 3 and _count(name, "error") == 3
    running_redis.start()
    time.sleep(0.6)  # the breaker's reset timeout
    assert cache.get_or_compute(key, 60, lambda: b"fresh", name=name) == b"fresh"
    assert cache.client.get(key) == b"fresh"  # stored in Redis again, then locally
    cache.client.delete(key)
    assert cache.get_or_compute(key, 60, lambda: b"not-used", name=name) == b"fresh"


def test_invalidate_after_batch_deletes_only_this_prefix(running_redis):
    cache, other = _cache(running_redis.url), _cache(running_redis.url)
    for i in range(5):
        cache.set(cache.key("x", "v1", i), b"1", 60)
    other.set(other.key("x", "v1", SELLER), b"1", 60)
    assert cache.invalidate_after_batch() == 5
    assert other.get(other.key("x", "v1", SELLER)) == b"1"


def test_no_redis_url_means_no_cache():
    cache = Cache(make_redis(""))
    assert not cache.enabled
    assert cache.get_or_compute("k", 60, lambda: b"direct") == b"direct"


# --- statements through a Redis outage, and the data version -----------------------------


@pytest.fixture(scope="module")
def statement_services(tmp_path_factory, redis_server):
    tmp = tmp_path_factory.mktemp("outage")
    with fresh_database("mariadb", "paysystem_stats_", tmp) as url:
        engine = migrated_engine(url)
        with engine.begin() as conn:
            add_videos(conn, SELLER, [VIDEO])
        publish_day(engine, dt.date(2026, 10, 1), [Daily(VIDEO, views=3, video_revenue="3.5", ad_revenue="10")])
        read = make_read_side(engine, redis_server.url, f"outage{uuid.uuid4().hex[:6]}", reset_timeout=0.5)
        with serve_read_services(url, tmp, 20103, read) as svc:
            yield svc
        engine.dispose()


def _statement(svc):
    request = settlement_pb2.GetStatementRequest(seller_id=SELLER, period=common_pb2.MONTHLY, date="2026-10-20")
    return svc.settlement.GetStatement(request, metadata=svc.token(SELLER), timeout=5)


def _hits() -> float:
    return REGISTRY.get_sample_value("paysystem_cache_requests_total", {"cache": "statement", "result": "hit"}) or 0.0


def test_statements_keep_coming_from_the_database_while_redis_is_stopped(statement_services, running_redis):
    svc = statement_services
    first = _statement(svc)
    assert first.total == "13.5"
    assert _statement(svc) == first
    running_redis.stop()
    started = time.monotonic()
    during = [_statement(svc) for _ in range(30)]
    assert all(st == first for st in during)
    assert time.monotonic() - started < 10.0  # generous: the machine is shared; a stall is 5 s per call
    assert svc.read.cache.breaker.state == "open"
    running_redis.start()  # an empty Redis: it was started without persistence
    time.sleep(0.6)
    assert _statement(svc) == first  # the trial call closes the breaker and refills the cache
    hits = _hits()
    assert _statement(svc) == first
    assert _hits() == hits + 1
    assert svc.read.cache.breaker.state == "closed"


def test_a_figure_changed_while_redis_was_down_is_not_served_stale_when_redis_returns(
    statement_services, running_redis
):
    svc = statement_services
    assert _statement(svc).total == "13.5"  # cached in Redis now
    running_redis.send_signal(signal.SIGSTOP)  # SIGSTOP: Redis keeps its keys but cannot answer
    try:
        publish_day(svc.engine, dt.date(2026, 10, 1), [Daily(VIDEO, views=3, video_revenue="4.5", ad_revenue="10")])
        assert _statement(svc).total == "14.5"
    finally:
        running_redis.send_signal(signal.SIGCONT)  # SIGCONT: the old entry is still in Redis
    time.sleep(0.6)
    assert _statement(svc).total == "14.5"
    assert _statement(svc).total == "14.5"
    publish_day(svc.engine, dt.date(2026, 10, 1), [Daily(VIDEO, views=3, video_revenue="3.5", ad_revenue="10")])
    assert _statement(svc).total == "13.5"


def test_the_data_version_changes_whenever_the_batch_publishes_a_day(statement_services):
    engine = statement_services.engine
    with engine.connect() as conn:
        before = read_data_state(conn)
    mark_computed(engine, dt.date(2026, 10, 1))  # a re-run of an already computed day
    with engine.connect() as conn:
        after = read_data_state(conn)
    assert after.version != before.version
    assert after.data_through == before.data_through == dt.date(2026, 10, 1)
