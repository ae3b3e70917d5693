"""Fault drills at scale, through Envoy, on a mesh that reads from a MariaDB replica and
caches on a six-node Redis Cluster (tests/plugins/scaled_mesh.py; every part a real process):

- the replica SIGKILLed under a read load of 10,000 JSON requests (statements, top 5,
  seller series; one in four a new key, so it reads the database): no request fails,
  the reads move to the primary while it is down and back to it once it has restarted
  (`paysystem_db_reads_total{target}` of every read instance);
- the Redis Cluster master that holds the seller's keys SIGKILLed under a read load: no
  request fails, the replica is promoted and the cache is hit again.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from services.common import db
from services.readpath.replicas import replica_name
from tests.plugins.faults import Client, Load, fault_mesh, metric, percentile, scrape
from tests.plugins.readside import Daily, publish_day
from tests.plugins.scaled_mesh import scaled_mesh

pytestmark = [pytest.mark.faults, pytest.mark.mesh]

READ_SERVICES = ("statistics", "settlement")
DAY = dt.date(2020, 6, 10)
ROWS = [(10, "10.5", "1"), (7, "7.25", "2"), (3, "3", "0")]  # views, video revenue, ad revenue
TOTAL = sum(Decimal(video) + Decimal(ad) for _, video, ad in ROWS)  # the statement of DAY
REQUESTS = 10_000
THREADS = 4


@pytest.fixture(scope="module")
def scaled(tmp_path_factory):
    with scaled_mesh(tmp_path_factory.mktemp("scale-drills"), make_mesh=fault_mesh) as running:
        mesh = running.mesh
        seller_id, token = mesh.sign_up_and_login("SELLER")
        videos = mesh.create_videos(token, len(ROWS))
        engine = db.make_engine(mesh.settings)
        try:
            publish_day(
                engine,
                DAY,
                [
                    Daily(v, views=views, video_revenue=video, ad_revenue=ad)
                    for v, (views, video, ad) in zip(videos, ROWS, strict=True)
                ],
            )
        finally:
            engine.dispose()
        running.pair.wait_caught_up()
        yield running, seller_id, token


def _read_figures(mesh) -> dict[str, float]:
    """Summed over the statistics and settlement instances."""
    totals = dict.fromkeys(("primary", "replica", "in_use", "hits", "errors"), 0.0)
    replica = replica_name(mesh.settings.db_read_urls)
    for service in READ_SERVICES:
        for instance in mesh.instances(service):
            samples = scrape(instance.metrics_port)
            totals["primary"] += metric(samples, "paysystem_db_reads_total", target="primary")
            totals["replica"] += metric(samples, "paysystem_db_reads_total", target=replica)
            totals["in_use"] += metric(samples, "paysystem_db_replica_in_use", replica=replica)
            totals["hits"] += metric(samples, "paysystem_cache_requests_total", result="hit")
            totals["errors"] += metric(samples, "paysystem_cache_requests_total", result="error")
    return totals


def _read_instances(mesh) -> int:
    return sum(len(mesh.instances(service)) for service in READ_SERVICES)


def _call(seller_id: int, token: str, kind: str, day: dt.date):
    """One JSON read of `day` and its check: None when right, else what was wrong."""
    filled = day == DAY
    if kind == "statement":
        path = f"/v1/sellers/{seller_id}/settlements?period=DAILY&date={day}"
    elif kind == "top5":
        path = f"/v1/sellers/{seller_id}/top-videos?period=DAILY&date={day}&metric=VIEWS"
    else:
        path = f"/v1/sellers/{seller_id}/stats?period=DAILY&from={day}&to={day}"

    def call(client: Client) -> str | None:
        status, body = client.json("GET", path, token=token)
        if status != 200:
            return f"HTTP {status}: {body}"
        if kind == "statement":
            right = Decimal(body["total"]) == (TOTAL if filled else 0)
        elif kind == "top5":
            right = len(body["videos"]) == (len(ROWS) if filled else 0)
        else:
            right = len(body["points"]) == 1 and int(body["points"][0]["views"]) == (
                sum(r[0] for r in ROWS) if filled else 0
            )
        return None if right else f"{path}: wrong answer {body}"

    return kind, call


KINDS = ("statement", "top5", "series")


def test_the_replica_killed_under_read_load_through_envoy_fails_no_request(scaled):
    running, seller_id, token = scaled
    mesh, pair = running.mesh, running.pair
    instances = _read_instances(mesh)
    client = Client(mesh.settings.http_port)

    def replica_in_use_everywhere() -> bool:
        for kind in KINDS:  # an instance's first read starts its health checks
            assert _call(seller_id, token, kind, DAY)[1](client) is None
        return _read_figures(mesh)["in_use"] == instances

    mesh.wait_until(replica_in_use_everywhere, 30, "the replica in use in every read instance")

    # One request in four is a new key (day DAY - 1 - i // 4), so it reads MariaDB; the others
    # read DAY again and again, as most readers do, and the cache answers them.
    def make_call(i: int):
        kind = KINDS[i % 3]
        if i % 4:
            return _call(seller_id, token, kind, DAY)
        return _call(seller_id, token, kind, DAY - dt.timedelta(days=1 + i // 4))

    before = _read_figures(mesh)
    load = Load(mesh.settings.http_port, make_call, REQUESTS, THREADS).start()
    load.wait_for(1500, 120)
    killed_at = time.monotonic()  # before kill(), which waits for the process to exit
    pair.replica.kill()
    at_kill = _read_figures(mesh)
    load.wait_for(load.done + 2500, 120)
    down = _read_figures(mesh)
    pair.replica.start()
    restarted_at = time.monotonic()
    mesh.wait_until(lambda: _read_figures(mesh)["in_use"] == instances, 60, "the replica back in use", interval=0.5)
    back_after = time.monotonic() - restarted_at
    back = _read_figures(mesh)
    load.join(300)
    end = _read_figures(mesh)
    extra = 0
    while end["replica"] <= back["replica"] and extra < 60:  # the load ended first: a few more reads
        assert make_call(REQUESTS + extra)[1](client) is None
        extra += 1
        end = _read_figures(mesh)
    client.close()

    failures = load.failures()
    latencies = [o.latency for o in load.outcomes]
    outage = [o.latency for o in load.outcomes if killed_at <= o.started < restarted_at]
    print(
        f"\nreplica killed under {load.done} JSON reads through Envoy ({THREADS} threads) in {load.elapsed:.1f} s"
        f" ({load.done / load.elapsed:.0f} req/s), {len(failures)} failed; p50"
        f" {percentile(latencies, 0.5) * 1000:.1f} ms p99 {percentile(latencies, 0.99) * 1000:.1f} ms, while it was"
        f" down ({len(outage)} reads) p99 {percentile(outage, 0.99) * 1000:.1f} ms max {max(outage) * 1000:.0f} ms;"
        f" reads on the replica before the kill {at_kill['replica'] - before['replica']:.0f}, on the primary while"
        f" it was down {down['primary'] - at_kill['primary']:.0f} (on the replica {down['replica'] - at_kill['replica']:.0f});"
        f" back in use {back_after:.1f} s after its restart, then {end['replica'] - back['replica']:.0f} reads on it"
    )
    assert failures == [], f"{len(failures)} failed requests, first: {failures[:5]}"
    assert load.done == REQUESTS
    assert at_kill["replica"] - before["replica"] >= 300  # it carried the reads before the kill
    assert down["primary"] - at_kill["primary"] >= 500  # the primary carried them while it was down
    assert down["replica"] - at_kill["replica"] <= 2 * THREADS  # at most the reads in flight at the kill
    assert end["replica"] > back["replica"]  # and it carries them again


def test_a_redis_cluster_master_killed_under_read_load_through_envoy_fails_no_request(scaled):
    running, seller_id, token = scaled
    mesh, cluster = running.mesh, running.cluster
    # A few keys read again and again: the cache answers them.
    calls = [_call(seller_id, token, kind, day) for kind in KINDS for day in (DAY, DAY - dt.timedelta(days=1))]
    load = Load(mesh.settings.http_port, lambda i: calls[i % len(calls)], 20_000, THREADS).start()
    try:
        load.wait_for(600, 120)
        before = _read_figures(mesh)
        assert before["hits"] > 0, before
        victim = cluster.master_of_seller(seller_id)
        survivor = next(port for port in cluster.ports if port != victim)
        cluster.kill_master(victim)
        killed_at = time.monotonic()
        mesh.wait_until(
            lambda: victim not in cluster.masters(survivor) and len(cluster.masters(survivor)) == 3,
            60,
            "a replica promoted in the killed master's place",
        )
        promoted_after = time.monotonic() - killed_at
        promoted = _read_figures(mesh)
        mesh.wait_until(lambda: _read_figures(mesh)["hits"] > promoted["hits"] + 5, 60, "cache hits again")
        cached_after = time.monotonic() - killed_at
        load.stop()
        load.join(60)
    finally:
        load.stop()
    end = _read_figures(mesh)
    failures = load.failures()
    outage = [o.latency for o in load.outcomes if killed_at <= o.started < killed_at + promoted_after]
    print(
        f"\nRedis Cluster master {victim} killed under {load.done} JSON reads through Envoy in {load.elapsed:.1f} s,"
        f" {len(failures)} failed; until the promotion ({promoted_after:.1f} s, {len(outage)} reads) p99"
        f" {percentile(outage, 0.99) * 1000:.1f} ms max {max(outage, default=0) * 1000:.0f} ms; cache errors"
        f" {end['errors'] - before['errors']:.0f}; Redis hits again {cached_after:.1f} s after the kill"
    )
    assert failures == [], f"{len(failures)} failed requests, first: {failures[:5]}"
    assert end["hits"] > promoted["hits"]
