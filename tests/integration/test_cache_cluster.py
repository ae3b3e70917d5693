"""The cache on a Redis Cluster of our own (six redis-server processes, tests/redis_cluster.py):
key placement (CLUSTER KEYSLOT), invalidation across masters, and a master killed under the
read load of the real statement and top-5 servicers (in-process, with their interceptors).

The behaviour tests of the cache itself run against the cluster too
(tests/integration/test_cache_redis.py, parametrized).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import grpc
import pytest
import redis
from prometheus_client import REGISTRY

from domain import realtime
from domain.errors import TooManyRequests
from paysystem.v1 import common_pb2, settlement_pb2, statistics_pb2
from services.account.throttle import make_throttle
from services.common.breakers import REDIS_ERRORS, redis_breaker
from services.common.settings import Settings
from services.readpath.cache import make_redis
from services.video.published import RedisRealtime
from tests.databases import fresh_database
from tests.plugins.readside import Daily, add_videos, make_read_side, migrated_engine, publish_day, serve_read_services
from tests.redis_cluster import RedisClusterProcesses, free_cluster_ports

DAY = dt.date(2026, 9, 14)
SELLERS_PER_MASTER = 3
REQUESTS = 2000
THREADS = 4
KILL_AFTER = 400


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    server = RedisClusterProcesses(tmp_path_factory.mktemp("cluster"))
    server.start()
    yield server
    server.stop()


def _owner(cluster, seller_id: int) -> int:
    """The port of the master that serves the slot of the seller's hash tag."""
    return make_redis(cluster.url).cluster().get_node_from_key(f"{{{seller_id}}}").port


def _sellers_on_every_master(cluster) -> dict[int, int]:
    """{seller_id: master port}, SELLERS_PER_MASTER sellers on each of the three masters."""
    chosen: dict[int, int] = {}
    per_master: dict[int, int] = {}
    seller = 5000
    while len(chosen) < 3 * SELLERS_PER_MASTER:
        seller += 1
        port = _owner(cluster, seller)
        if per_master.get(port, 0) < SELLERS_PER_MASTER:
            per_master[port] = per_master.get(port, 0) + 1
            chosen[seller] = port
    return chosen


@pytest.fixture(scope="module")
def services(tmp_path_factory, cluster):
    tmp = tmp_path_factory.mktemp("cluster-read")
    sellers = _sellers_on_every_master(cluster)
    with fresh_database("mariadb", "paysystem_cluster_", tmp) as url:
        engine = migrated_engine(url)
        rows = []
        with engine.begin() as conn:
            for seller in sellers:
                add_videos(conn, seller, [seller * 10])
                rows.append(Daily(seller * 10, views=seller % 7 + 1, video_revenue=f"{seller}.5", ad_revenue="10"))
        publish_day(engine, DAY, rows)
        # The production breaker (3 failures, 5 s reset) and data version watch, so the figures
        # below are the real ones; no local tier, so every read asks Redis.
        settings = Settings(local_cache_ttl_ms=0)
        read = make_read_side(engine, cluster.url, f"cl{uuid.uuid4().hex[:6]}", reset_timeout=5.0, settings=settings)
        with serve_read_services(url, tmp, free_cluster_ports(1)[0], read) as svc:
            yield svc, sellers, {r.video_id // 10: r for r in rows}
        engine.dispose()


_TOKENS: dict[int, list[tuple[str, str]]] = {}


def _token(svc, seller):
    """One token per seller (signing costs tens of ms on this machine, the load is the reads')."""
    if seller not in _TOKENS:
        _TOKENS[seller] = svc.token(seller)
    return _TOKENS[seller]


def _statement(svc, seller):
    request = settlement_pb2.GetStatementRequest(seller_id=seller, period=common_pb2.MONTHLY, date=DAY.isoformat())
    return svc.settlement.GetStatement(request, metadata=_token(svc, seller), timeout=5)


def _top5(svc, seller):
    request = statistics_pb2.GetTopVideosRequest(
        seller_id=seller, period=common_pb2.DAILY, date=DAY.isoformat(), metric=statistics_pb2.VIEWS
    )
    return svc.stats.GetTopVideos(request, metadata=_token(svc, seller), timeout=5)


def _count(cache: str, result: str) -> float:
    return REGISTRY.get_sample_value("paysystem_cache_requests_total", {"cache": cache, "result": result}) or 0.0


def _keys(cluster, prefix: str) -> list[bytes]:
    client = make_redis(cluster.url).cluster()
    return list(client.scan_iter(match=f"{prefix}:*", count=1000))


def test_a_read_its_lock_and_a_seller_s_keys_share_one_slot_and_sellers_spread_over_masters(services, cluster):
    svc, sellers, _ = services
    for _ in range(3):  # on a loaded machine a SET may time out (100 ms): that read is not cached
        for seller in sellers:
            _statement(svc, seller)
            _top5(svc, seller)
        # (a lock whose release timed out stays until it expires: not a cached value)
        keys = [key for key in _keys(cluster, svc.read.cache.prefix) if not key.endswith(b":lock")]
        if len(keys) == 2 * len(sellers):  # one statement and one top-5 list each
            break
    assert len(keys) == 2 * len(sellers)
    node = cluster.node(cluster.masters()[0])
    by_seller: dict[int, set[int]] = {}
    for key in keys:
        text = key.decode()
        seller = int(text[text.index("{") + 1 : text.index("}")])
        slot = node.cluster("keyslot", key)
        assert node.cluster("keyslot", text + ":lock") == slot
        by_seller.setdefault(seller, set()).add(slot)
    assert set(by_seller) == set(sellers)
    assert all(len(slots) == 1 for slots in by_seller.values())  # statement and top 5 together
    assert len({_owner(cluster, seller) for seller in sellers}) == 3  # every master holds sellers


def test_the_realtime_counters_of_a_seller_and_its_videos_share_the_seller_s_slot(cluster):
    """services/video/realtime.py on the cluster: one pipeline per count and per read works
    because every key of a seller (its total and its videos', every hour) is on one slot."""
    client = make_redis(cluster.url)
    store = RedisRealtime(client, redis_breaker(f"redis-rt-{uuid.uuid4().hex[:6]}"))
    seller = 900_000 + int(uuid.uuid4().int % 100_000)
    now = time.time_ns() // 1000
    starts = [now - 10**6, now - 61 * 60 * 10**6, now - 30 * 3600 * 10**6]
    assert store.count([(seller, 11, t) for t in starts] + [(seller, 12, now)], now)
    assert realtime.figures(now, store.per_minute(seller, None, now)).last_48_hours == 4
    assert realtime.figures(now, store.per_minute(seller, 11, now)).last_48_hours == 3
    assert realtime.figures(now, store.per_minute(seller, 12, now)).last_60_minutes == 1
    keys = [k for node in (cluster.node(p) for p in cluster.ports) for k in node.keys(f"psrt:{{{seller}}}:*")]
    assert {k.split(b":")[2] for k in keys} == {b"s", b"v11", b"v12"}
    assert {client.cluster().keyslot(k) for k in keys} == {client.cluster().keyslot(f"{{{seller}}}")}


def test_invalidation_after_a_batch_deletes_this_prefix_on_every_master(services, cluster):
    svc, sellers, _ = services
    cache = svc.read.cache
    for seller in sellers:
        for i in range(20):
            cache.set(cache.key("inv", "v1", seller, i), b"1", 60)
    other = make_redis(cluster.url)
    other.set("other:{1}:kept", b"1", ex=60)
    before = len(_keys(cluster, cache.prefix))
    assert before >= 20 * len(sellers)
    per_master = {port: cluster.node(port).dbsize() for port in cluster.masters()}
    assert all(size > 0 for size in per_master.values())
    assert cache.invalidate_after_batch() == before
    assert _keys(cluster, cache.prefix) == []
    assert other.get("other:{1}:kept") == b"1"


def test_a_master_killed_under_read_load_costs_no_request_and_the_cache_returns_after_failover(services, cluster):
    svc, sellers, rows = services
    expected = {seller: str(Decimal(row.video_revenue) + Decimal(row.ad_revenue)) for seller, row in rows.items()}
    for seller in sellers:  # warm: every seller's statement in Redis
        assert _statement(svc, seller).total == expected[seller]
    victim = next(iter(sellers.values()))
    victim_sellers = [seller for seller, port in sellers.items() if port == victim]
    order = list(sellers)
    failures: list[BaseException] = []
    wrong: list[int] = []
    done = 0
    lock = threading.Lock()
    killed = threading.Event()
    kill_at: list[float] = []
    errors_before = _count("statement", "error")
    month = DAY.replace(day=1).isoformat()
    victim_key = svc.read.cache.key("stmt", svc.read.data_state().version, victim_sellers[0], "MONTHLY", month)
    recovered: dict[str, float] = {}

    def watch_failover() -> None:
        """When a surviving node sees the replica promoted, and when the killed master's
        sellers are in Redis again (written by the load once the breaker let it through)."""
        killed.wait()
        client = make_redis(cluster.url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(recovered) < 2:
            if "promoted" not in recovered:
                with contextlib.suppress(redis.RedisError):
                    if victim not in cluster.masters() and len(cluster.masters()) == 3:
                        recovered["promoted"] = time.monotonic() - kill_at[0]
            else:
                with contextlib.suppress(*REDIS_ERRORS):
                    if client.exists(victim_key):
                        recovered["cached"] = time.monotonic() - kill_at[0]
            time.sleep(0.05)

    def worker(n: int) -> None:
        nonlocal done
        for i in range(REQUESTS // THREADS):
            seller = order[(i * THREADS + n) % len(order)]
            try:
                if _statement(svc, seller).total != expected[seller]:
                    wrong.append(seller)
            except grpc.RpcError as exc:
                failures.append(exc)
            with lock:
                done += 1
                if done == KILL_AFTER and not killed.is_set():
                    kill_at.append(time.monotonic())
                    cluster.kill_master(victim)
                    killed.set()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    threads.append(threading.Thread(target=watch_failover))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert killed.is_set()
    assert failures == [] and wrong == []
    fallbacks = _count("statement", "error") - errors_before
    assert fallbacks > 0  # the killed master's sellers came from the database meanwhile

    # The replica took over; reads of the killed master's sellers hit Redis again.
    cluster.wait_ok(timeout=30)
    seller = victim_sellers[0]
    deadline = time.monotonic() + 30
    while True:
        hits = _count("statement", "hit")
        assert _statement(svc, seller).total == expected[seller]
        if _count("statement", "hit") == hits + 1:
            break
        assert time.monotonic() < deadline, "the cache was not used again after the failover"
        time.sleep(0.05)
    recovered.setdefault("cached", time.monotonic() - kill_at[0])  # the load had ended before
    assert _owner(cluster, seller) != victim
    assert svc.read.cache.breaker.state == "closed"
    for other in victim_sellers:  # the other sellers of that slot range: cached on the new master
        _statement(svc, other)
        hits = _count("statement", "hit")
        assert _statement(svc, other).total == expected[other]
        assert _count("statement", "hit") == hits + 1
    print(
        f"\nfailover: {REQUESTS} requests in {elapsed:.1f} s, 0 failed, {fallbacks:.0f} answered from MariaDB;"
        f" replica promoted {recovered['promoted']:.1f} s after the kill, the killed master's sellers"
        f" cached again after {recovered['cached']:.1f} s"
    )


def test_an_unreachable_cluster_is_a_redis_connection_error_at_first_use():
    """So it counts in the breaker; the next command tries to build the client again."""
    client = make_redis("redis+cluster://127.0.0.1:1", socket_timeout=0.05)
    with pytest.raises(redis.ConnectionError):
        client.get("k")


def test_the_log_in_throttle_counts_in_the_cluster_shared_by_every_account_instance(cluster):
    """The account service takes the same URL: its MULTI (SET NX + INCR of one key) and its
    GET + PTTL pipeline touch one key, so one slot."""
    username = f"user-{uuid.uuid4().hex[:8]}"
    one, other = (make_throttle(make_redis(cluster.url), max_failures=2, window_sec=60) for _ in range(2))
    one.failed(username)
    other.failed(username)
    with pytest.raises(TooManyRequests):
        one.check(username)
    other.succeeded(username)
    one.check(username)
