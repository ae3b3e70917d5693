"""Fault drill (issue 14): a hostile client at the edge while an honest one works.

While a hostile client repeats, each at a bounded rate, the attacks issue 14 found on a fresh
clone, a well-behaved client's 2,000 calls through Envoy (JSON and gRPC, reads and writes)
must all succeed, with p99 under 100 ms:

1. ImportPlays streams held open by an ingest client, an empty chunk every 5 s (34 such
   streams made every video endpoint answer 504: each holds a service thread);
2. JSON posted to a raw gRPC path (reset by the service, it made Envoy eject instances);
3. statistics requests over huge date ranges (millions of dates built before any check);
4. a log-in flood, 20 a second, from one client address;
5. oversized sign-up bodies, unfinished 15 MiB bodies and connections that never finish
   their headers.

Items 2, 4 and 5 are refused at Envoy (envoy/envoy.yaml.j2); 1 and 3 are the services' to
refuse (limits on import streams, range sizes checked before work). Envoy must eject no
instance, and every attack must meet its documented answer.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
import uuid
from collections import Counter

import pytest

from paysystem.v1 import video_pb2, video_pb2_grpc
from tests.mesh import PASSWORD
from tests.plugins.edge import HELD_STREAMS, envoy_stats, fresh_client_address, json_log_in, run_hostile
from tests.plugins.faults import Client, Load, percentile

pytestmark = [pytest.mark.faults, pytest.mark.mesh]

HONEST_CALLS = 2_000
HONEST_THREADS = 4
P99_LIMIT_SEC = 0.100
# Under attack the honest p99 stays under the limit, or, on a machine loaded by other work, under
# this many times the p99 of the same calls measured just before the attack (the run's own floor).
FLOOR_FACTOR = 3
CLUSTERS = ["account", "video", "statistics", "settlement", "batch"]


class Honest:
    """The well-behaved client: a rotation of JSON and gRPC reads and writes, every answer checked."""

    def __init__(self, mesh, seller, viewer, video_id: int) -> None:
        self.mesh = mesh
        self.seller_id, self.seller_token = seller
        self.viewer_id, self.viewer_token = viewer
        self.video_id = video_id
        today = dt.date.today()
        self.top_path = (
            f"/v1/sellers/{self.seller_id}/top-videos?period=DAILY&date={today - dt.timedelta(days=2)}&metric=VIEWS"
        )
        self.stats_path = (
            f"/v1/videos/{video_id}/stats?period=DAILY"
            f"&from={today - dt.timedelta(days=9)}&to={today - dt.timedelta(days=2)}"
        )

    def call(self, index: int):
        kinds = [self.json_video, self.grpc_video, self.json_top, self.json_plays, self.json_stats]
        kind = kinds[index % len(kinds)]
        return kind.__name__, kind

    @staticmethod
    def _ok(answer) -> str | None:
        status, body = answer
        return None if status == 200 else f"HTTP {status}: {body}"

    def json_video(self, client: Client):
        status, body = client.json("GET", f"/v1/videos/{self.video_id}", token=self.seller_token)
        return self._ok((status, body)) or (None if body["video_id"] == str(self.video_id) else f"wrong video {body}")

    def grpc_video(self, client: Client):
        reply = video_pb2_grpc.VideoServiceStub(client.channel).GetVideo(
            video_pb2.GetVideoRequest(video_id=self.video_id),
            metadata=[("authorization", f"Bearer {self.seller_token}")],
            timeout=30,
        )
        return None if reply.video_id == self.video_id else f"wrong video {reply}"

    def json_top(self, client: Client):
        return self._ok(client.json("GET", self.top_path, token=self.seller_token))

    def json_stats(self, client: Client):
        return self._ok(client.json("GET", self.stats_path, token=self.seller_token))

    def json_plays(self, client: Client):
        started = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "event_id": uuid.uuid4().hex,
            "video_id": str(self.video_id),
            "viewer_id": str(self.viewer_id),
            "started_at": started,
            "start_position_sec": "0",
            "end_position_sec": "30",
        }
        status, body = client.json("POST", "/v1/plays:batch", {"events": [event]}, token=self.viewer_token)
        return self._ok((status, body)) or (None if int(body["stored"]) == 1 else f"not stored: {body}")


def _ejections(mesh) -> dict[str, int]:
    stats = envoy_stats(mesh, r"cluster\.[a-z]+\.outlier_detection\.ejections_enforced_total")
    return {name: stats.get(f"cluster.{name}.outlier_detection.ejections_enforced_total", 0) for name in CLUSTERS}


def test_an_honest_client_is_served_fast_while_a_hostile_one_attacks_the_edge(fault_mesh):
    mesh = fault_mesh
    seller = mesh.sign_up_and_login("SELLER")
    viewer_username = mesh.unique_username("honest")
    viewer = mesh.sign_up_and_login("VIEWER", username=viewer_username)
    target = mesh.unique_username("target")
    mesh.sign_up_and_login("VIEWER", username=target)
    status, video = mesh.json("POST", "/v1/videos", {"title": "under attack", "duration_sec": 600}, token=seller[1])
    assert status == 200, video
    video_id = int(video["video_id"])
    ejections_before = _ejections(mesh)
    honest = Honest(mesh, seller, viewer, video_id)
    for _ in range(2):  # the first round warms connections and caches; the second is the floor
        calm = Load(mesh.settings.http_port, honest.call, HONEST_CALLS // 4, HONEST_THREADS).start()
        calm.join(45)
    floor_p99 = percentile([o.latency for o in calm.outcomes], 0.99)

    _, ingest_token = mesh.create_account_directly("INGEST")  # a leaked ingest credential
    context = multiprocessing.get_context("spawn")
    streams_opened, stop, results = context.Value("i", 0), context.Event(), context.Queue()
    hostile = context.Process(
        target=run_hostile,
        daemon=True,
        args=(
            mesh.settings.http_port,
            viewer[1],
            ingest_token,
            video_id,
            target,
            fresh_client_address(),
            streams_opened,
            stop,
            results,
        ),
    )
    hostile.start()
    try:
        mesh.wait_until(lambda: streams_opened.value >= HELD_STREAMS, 30, "the held-open import streams")
        time.sleep(1.0)  # every attack under way
        load = Load(mesh.settings.http_port, honest.call, HONEST_CALLS, HONEST_THREADS).start()
        try:
            load.join(45)
            unfinished = ""
        except TimeoutError as exc:
            unfinished = str(exc)
        # The honest viewer still logs in from its own address, whatever the attacker's.
        assert json_log_in(mesh, viewer_username, PASSWORD, source=fresh_client_address())[0] == 200
    finally:
        stop.set()
    answers, unexpected = results.get(timeout=40)
    hostile.join(10)

    failures = load.failures()
    latencies = [o.latency for o in load.outcomes]
    p99 = percentile(latencies, 0.99)
    by_kind = {
        kind: f"{percentile([o.latency for o in load.outcomes if o.kind == kind], 0.99) * 1000:.0f} ms"
        for kind in sorted({o.kind for o in load.outcomes})
    }
    summary = (
        f"{len(failures)} of {load.done} honest calls failed, p99 {p99 * 1000:.1f} ms in {load.elapsed:.1f} s "
        f"(p99 by kind {by_kind}; before the attack {floor_p99 * 1000:.1f} ms); hostile answers: {answers}"
    )
    print(summary)
    assert not unfinished, f"{unfinished}; {summary}"
    assert not failures, f"{summary}; first failures: {[(o.kind, o.error) for o in failures[:5]]}"
    assert p99 < max(P99_LIMIT_SEC, FLOOR_FACTOR * floor_p99), summary
    assert not unexpected, f"{summary}; unexpected: {Counter(unexpected)}"
    assert answers.get("password guess: 429", 0) > 0, summary
    assert _ejections(mesh) == ejections_before, "Envoy ejected an instance"
    for name in CLUSTERS:
        assert all(host.healthy for host in mesh.envoy_hosts(name).values()), name
