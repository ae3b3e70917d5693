"""The mesh's Redis crashes (SIGKILL) and comes back, empty, under a load of statement and
top-5 reads (JSON and gRPC): no call fails or slows down much, and the cache is used again.

tests/e2e/test_settlement_redis_outage.py already shows, call by call, that statements stay
right while Redis is stopped (SIGTERM) and that a figure changed by the batch meanwhile is
read at once; this drill adds what an operator sees under load: a crash rather than a clean
stop, both read services at once, concurrent calls, latency during the outage, and the Redis
circuit breaker opening and closing again in each instance's Prometheus metrics.

The Redis is this drill's own redis-server (tests/plugins/faults.py); the machine's shared
Redis is never touched.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
import redis

from paysystem.v1 import common_pb2, settlement_pb2, settlement_pb2_grpc, statistics_pb2, statistics_pb2_grpc
from services.common import db
from tests.databases import fresh_database
from tests.plugins.faults import DB_PREFIX, Client, Load, fault_mesh, metric, own_redis, percentile, scrape
from tests.plugins.readside import Daily, publish_day

pytestmark = [pytest.mark.faults, pytest.mark.mesh]

THREADS = 6
MAX_CALLS = 20_000  # a bound; the load is stopped once the cache is seen in use again
DOWN_SEC = 7.0  # longer than the instances' local copies live (local_cache_ttl_ms, 5 s)
DAY = dt.date(2020, 6, 10)
READ_SERVICES = ("statistics", "settlement")


@pytest.fixture(scope="module")
def redis_mesh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redis-restart")
    with own_redis(tmp) as server, fresh_database("mariadb", DB_PREFIX, tmp) as url:
        with fault_mesh(tmp / "mesh", db_url=url, redis_url=server.url) as mesh:
            yield mesh, server


def _cache_figures(mesh) -> dict[str, float]:
    """Summed over the statistics and settlement instances: Redis hits, hits on the
    instances' own short-lived copies, cache errors, and how many instances have their
    Redis breaker open (or half-open)."""
    hits = local_hits = errors = open_breakers = 0.0
    for service in READ_SERVICES:
        for instance in mesh.instances(service):
            samples = scrape(instance.metrics_port)
            hits += metric(samples, "paysystem_cache_requests_total", result="hit")
            local_hits += metric(samples, "paysystem_cache_requests_total", result="local_hit")
            errors += metric(samples, "paysystem_cache_requests_total", result="error")
            open_breakers += metric(samples, "paysystem_circuit_breaker_open", breaker="redis") > 0
    return {"hits": hits, "local_hits": local_hits, "errors": errors, "open_breakers": open_breakers}


def test_a_redis_crash_and_restart_under_read_load_fails_no_call_and_the_cache_is_used_again(redis_mesh):
    mesh, server = redis_mesh
    seller_id, token = mesh.sign_up_and_login("SELLER")
    videos = mesh.create_videos(token, 6)
    engine = db.make_engine(mesh.settings)
    try:
        publish_day(
            engine,
            DAY,
            [Daily(v, views=10 + i, video_revenue=f"{10 + i}", ad_revenue="1") for i, v in enumerate(videos)],
        )
    finally:
        engine.dispose()

    statement_path = f"/v1/sellers/{seller_id}/settlements?period=WEEKLY&date={DAY}"
    top_path = f"/v1/sellers/{seller_id}/top-videos?period=DAILY&date={DAY}&metric=VIEWS"
    status, statement = mesh.json("GET", statement_path, token=token)
    assert status == 200 and statement["total"] == "81.0"  # (10+11+...+15) + 6 x 1
    status, top = mesh.json("GET", top_path, token=token)
    assert status == 200 and [int(v["video_id"]) for v in top["videos"]] == videos[::-1][:5]
    statement_request = settlement_pb2.GetStatementRequest(seller_id=seller_id, period=common_pb2.WEEKLY, date=str(DAY))
    top_request = statistics_pb2.GetTopVideosRequest(
        seller_id=seller_id, period=common_pb2.DAILY, date=str(DAY), metric=statistics_pb2.VIEWS
    )
    md = mesh.metadata(token)
    statement_grpc = settlement_pb2_grpc.SettlementServiceStub(mesh.channel()).GetStatement(
        statement_request, metadata=md, timeout=10
    )
    top_grpc = statistics_pb2_grpc.StatisticsServiceStub(mesh.channel()).GetTopVideos(
        top_request, metadata=md, timeout=10
    )

    def json_call(path, expected):
        def call(client: Client):
            status, body = client.json("GET", path, token=token)
            return None if status == 200 and body == expected else f"HTTP {status}: {body}"

        return call

    def statement_call(client: Client):
        reply = settlement_pb2_grpc.SettlementServiceStub(client.channel).GetStatement(
            statement_request, metadata=md, timeout=30
        )
        return None if reply == statement_grpc else f"different statement {reply}"

    def top_call(client: Client):
        reply = statistics_pb2_grpc.StatisticsServiceStub(client.channel).GetTopVideos(
            top_request, metadata=md, timeout=30
        )
        return None if reply == top_grpc else f"different top 5 {reply}"

    calls = [
        ("statement-json", json_call(statement_path, statement)),
        ("top5-json", json_call(top_path, top)),
        ("statement-grpc", statement_call),
        ("top5-grpc", top_call),
    ]
    keys = redis.Redis(port=server.port, socket_timeout=1)

    load = Load(mesh.settings.http_port, lambda i: calls[i % len(calls)], MAX_CALLS, THREADS).start()
    try:
        load.wait_for(600, 60)
        before = _cache_figures(mesh)
        assert before["hits"] + before["local_hits"] > 300, before  # warm: answered from the cache
        assert before["hits"] > 0, before  # and Redis answers when a local copy runs out
        assert keys.keys("ps:stmt:*") and keys.keys("ps:top5:*")

        down_at = time.monotonic()  # before kill(), which waits for the process to exit
        server.kill()
        time.sleep(DOWN_SEC)
        during = _cache_figures(mesh)  # Redis still down
        server.start()  # empty: no persistence
        up_at = time.monotonic()

        # The cache is used again: every Redis breaker closed (a trial call after its 5 s
        # reset timeout), entries written back, and Redis answering again (a hit once a
        # local copy made after the restart runs out).
        def cached_again() -> bool:
            figures = _cache_figures(mesh)
            return (
                figures["open_breakers"] == 0
                and figures["hits"] > after_restart["hits"]
                and bool(keys.keys("ps:stmt:*"))
                and bool(keys.keys("ps:top5:*"))
            )

        after_restart = _cache_figures(mesh)
        mesh.wait_until(cached_again, 30, "the cache in use again after Redis came back", interval=0.2)
        reused_after = time.monotonic() - up_at
        load.stop()
        load.join(60)
    finally:
        load.stop()
        keys.close()

    end = _cache_figures(mesh)
    failures = load.failures()
    outage = [o.latency for o in load.outcomes if down_at <= o.started < up_at]
    normal = [o.latency for o in load.outcomes if o.started < down_at]
    print(
        f"\n{load.done} calls in {load.elapsed:.1f}s, {len(failures)} failed; before the crash p50 "
        f"{percentile(normal, 0.5) * 1000:.1f} ms p99 {percentile(normal, 0.99) * 1000:.1f} ms; {len(outage)} calls "
        f"while Redis was down: p50 {percentile(outage, 0.5) * 1000:.1f} ms p99 {percentile(outage, 0.99) * 1000:.1f} ms"
        f" max {max(outage) * 1000:.0f} ms; cache errors during the outage {during['errors'] - before['errors']:.0f},"
        f" breakers open {during['open_breakers']:.0f}/4; cache hits again {reused_after:.1f}s after the restart"
    )
    assert failures == [], f"{len(failures)} failed calls, first: {failures[:5]}"
    assert len(outage) > 100, "the outage should have been under load"
    assert max(outage) < 2.0, "a Redis outage must not make reads hang"
    # While Redis was down the instances saw it (errors, breakers open) and answered from MariaDB.
    assert during["errors"] > before["errors"]
    assert during["open_breakers"] >= 1
    # After: every Redis breaker closed again, every read instance SERVING and healthy in Envoy.
    assert end["open_breakers"] == 0, end
    assert end["hits"] > after_restart["hits"]
    for service in READ_SERVICES:
        for instance in mesh.instances(service):
            assert mesh.health(instance.name) == "SERVING"
            assert mesh.envoy_hosts(service)[instance.name].healthy
