"""Statements through Envoy while the mesh's Redis is stopped, then restarted.

This mesh has a Redis of its own (a redis-server on port 20380 that the test stops; the
machine's shared Redis is never touched), so it does not use the session's `mesh` fixture.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
import redis

from services.common import db
from tests.databases import fresh_database
from tests.mesh import Mesh
from tests.plugins.readside import Daily, RedisProcess, publish_day

REDIS_PORT = 20380
pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def outage_mesh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redis-outage")
    server = RedisProcess(REDIS_PORT, tmp)
    server.start()
    try:
        with fresh_database("mariadb", "paysystem_stats_", tmp) as url:
            with Mesh.on_free_ports(tmp / "mesh", db_url=url, redis_url=server.url) as mesh:
                yield mesh, server
    finally:
        server.stop()


def _statement(mesh, seller_id, token):
    return mesh.json(
        "GET", f"/v1/sellers/{seller_id}/settlements?period=MONTHLY&date=2020-05-15", token=token, timeout=10
    )


def _statement_keys(server) -> int:
    return len(redis.Redis(port=server.port).keys("ps:stmt:*"))


def test_statements_keep_coming_through_envoy_while_redis_is_down_and_are_cached_again_after(outage_mesh):
    mesh, server = outage_mesh
    seller_id, token = mesh.sign_up_and_login("SELLER")
    _, body = mesh.json("POST", "/v1/videos", {"title": "v", "duration_sec": 600}, token=token)
    video_id = int(body["video_id"])
    engine = db.make_engine(mesh.settings)
    try:
        publish_day(engine, dt.date(2020, 5, 15), [Daily(video_id, views=10, video_revenue="10.5", ad_revenue="24")])
        status, first = _statement(mesh, seller_id, token)
        assert status == 200 and first["total"] == "34.5"
        assert _statement_keys(server) == 1

        server.stop()
        answers = [_statement(mesh, seller_id, token) for _ in range(40)]
        assert [status for status, _ in answers] == [200] * 40
        assert all(body == first for _, body in answers)
        time.sleep(2.5)  # a readiness round: Redis is optional, so the instances stay in rotation
        assert {mesh.health(i.name) for i in mesh.instances("settlement")} == {"SERVING"}
        # A figure the batch changes during the outage is read from MariaDB at once.
        publish_day(engine, dt.date(2020, 5, 15), [Daily(video_id, views=10, video_revenue="11.5", ad_revenue="24")])
        status, changed = _statement(mesh, seller_id, token)
        assert status == 200 and changed["total"] == "35.5"

        server.start()  # empty: no persistence
        deadline = time.monotonic() + 30
        while _statement_keys(server) == 0 and time.monotonic() < deadline:
            status, body = _statement(mesh, seller_id, token)
            assert status == 200 and body["total"] == "35.5"
            time.sleep(0.2)
        assert _statement_keys(server) >= 1, "the services should use Redis again once it is back"
    finally:
        engine.dispose()
