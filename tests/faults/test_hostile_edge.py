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
import json as jsonlib
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable

import grpc
import pytest

from paysystem.v1 import video_pb2, video_pb2_grpc
from tests.fixtures_edge import envoy_stats, fresh_client_address, http_call, json_log_in, open_connection
from tests.fixtures_faults import Client, Load, percentile
from tests.mesh import PASSWORD

pytestmark = [pytest.mark.faults, pytest.mark.mesh]

HONEST_CALLS = 2_000
HONEST_THREADS = 4
P99_LIMIT_SEC = 0.100
HELD_STREAMS = 34
STREAM_CHUNK_EVERY_SEC = 5.0
CLUSTERS = ["account", "video", "statistics", "settlement", "batch"]


class Hostile:
    """The attacker: one thread per attack, each at its own bounded rate, until stop()."""

    def __init__(self, mesh, viewer_token: str, ingest_token: str, video_id: int, target: str) -> None:
        self.mesh = mesh
        self.viewer_token = viewer_token
        self.ingest_token = ingest_token
        self.video_id = video_id
        self.target = target
        self.streams_opened = 0
        self.address = fresh_client_address()
        self.answers: Counter[str] = Counter()
        self.unexpected: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _record(self, attack: str, answer: str, expected: Callable[[str], bool]) -> None:
        with self._lock:
            self.answers[f"{attack}: {answer}"] += 1
            if not expected(answer):
                self.unexpected.append(f"{attack}: {answer}")

    def _every(self, interval: float, attack: Callable[[], None]) -> None:
        while not self._stop.is_set():
            try:
                attack()
            except OSError as exc:
                self._record(attack.__name__, f"{type(exc).__name__}", lambda _: True)
            self._stop.wait(interval)

    def start(self) -> Hostile:
        plan = [
            (0.25, self.hold_import_stream),       # 4 new streams a second up to HELD_STREAMS
            (0.2, self.json_on_grpc_path),
            (0.5, self.huge_stats_range),
            (0.05, self.guess_password),
            (0.5, self.oversized_sign_up),
            (1.0, self.unfinished_large_body),
            (1.0, self.slow_headers),
        ]
        for interval, attack in plan:
            thread = threading.Thread(target=self._every, args=(interval, attack), name=attack.__name__, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    # --- 1. held-open import streams ----------------------------------------------------

    def _held_streams(self) -> int:
        return sum(1 for t in threading.enumerate() if t.name == "held-import")

    def hold_import_stream(self) -> None:
        if self._held_streams() < HELD_STREAMS:
            self.streams_opened += 1
            threading.Thread(target=self._import_stream, name="held-import", daemon=True).start()

    def _import_stream(self) -> None:
        def chunks():
            while not self._stop.is_set():
                yield video_pb2.ImportPlaysChunk()
                self._stop.wait(STREAM_CHUNK_EVERY_SEC)

        with grpc.insecure_channel(f"127.0.0.1:{self.mesh.settings.http_port}") as channel:
            try:
                video_pb2_grpc.VideoServiceStub(channel).ImportPlays(
                    chunks(), metadata=[("authorization", f"Bearer {self.ingest_token}")], timeout=120)
                answer = "OK"
            except grpc.RpcError as exc:
                answer = exc.code().name
        # Cut by the service (idle limit, stream cap) or by the drill's end: all acceptable.
        self._record("import stream", answer, lambda _: True)

    # --- 2. JSON on a gRPC path ---------------------------------------------------------

    def json_on_grpc_path(self) -> None:
        status, _, _ = http_call(self.mesh, "POST", "/paysystem.v1.AccountService/Login", b"{}",
                                 source=self.address, headers={"content-type": "application/json"})
        self._record("json on grpc path", str(status), lambda a: a == "415")

    # --- 3. a huge date range -----------------------------------------------------------

    def huge_stats_range(self) -> None:
        path = f"/v1/videos/{self.video_id}/stats?period=DAILY&from=0001-01-01&to=9999-12-30"
        status, _, _ = http_call(self.mesh, "GET", path, source=self.address,
                                 headers={"authorization": f"Bearer {self.viewer_token}"})
        # Refused: not the owner (403) or too many points (400); never worked out.
        self._record("huge stats range", str(status), lambda a: a in ("400", "403"))

    # --- 4. password guessing -----------------------------------------------------------

    def guess_password(self) -> None:
        status, _, _ = json_log_in(self.mesh, self.target, f"guess-{uuid.uuid4().hex[:8]}", source=self.address)
        self._record("password guess", str(status), lambda a: a in ("401", "429"))

    # --- 5. big, unfinished and slow requests ---------------------------------------------

    def oversized_sign_up(self) -> None:
        body = jsonlib.dumps({"username": "x" * 20_000, "password": PASSWORD, "role": "VIEWER"}).encode()
        status, _, _ = http_call(self.mesh, "POST", "/v1/accounts", body, source=self.address,
                                 headers={"content-type": "application/json"})
        self._record("oversized sign-up", str(status), lambda a: a == "413")

    def unfinished_large_body(self) -> None:
        with open_connection(self.mesh, self.address) as sock:
            sock.sendall(b"POST /v1/accounts HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                         b"content-length: 15728640\r\n\r\n" + b"x" * (1 << 20))
            sock.settimeout(10)
            answer = sock.recv(12).decode(errors="replace")
        self._record("unfinished 15 MiB body", answer, lambda a: a == "HTTP/1.1 413")

    def slow_headers(self) -> None:
        # A thread per connection: each waits for Envoy's header timeout.
        threading.Thread(target=self._slow_headers, name="slow-headers", daemon=True).start()

    def _slow_headers(self) -> None:
        with open_connection(self.mesh, self.address) as sock:
            sock.sendall(b"GET /v1/videos/1 HTTP/1.1\r\nhost: x\r\n")
            sock.settimeout(30)
            answer = sock.recv(12).decode(errors="replace")
        self._record("slow headers", answer, lambda a: a == "HTTP/1.1 408")


class Honest:
    """The well-behaved client: a rotation of JSON and gRPC reads and writes, every answer checked."""

    def __init__(self, mesh, seller, viewer, video_id: int) -> None:
        self.mesh = mesh
        self.seller_id, self.seller_token = seller
        self.viewer_id, self.viewer_token = viewer
        self.video_id = video_id
        today = dt.date.today()
        self.top_path = f"/v1/sellers/{self.seller_id}/top-videos?period=DAILY&date={today - dt.timedelta(days=2)}&metric=VIEWS"
        self.stats_path = (f"/v1/videos/{video_id}/stats?period=DAILY"
                           f"&from={today - dt.timedelta(days=9)}&to={today - dt.timedelta(days=2)}")

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
            metadata=[("authorization", f"Bearer {self.seller_token}")], timeout=30)
        return None if reply.video_id == self.video_id else f"wrong video {reply}"

    def json_top(self, client: Client):
        return self._ok(client.json("GET", self.top_path, token=self.seller_token))

    def json_stats(self, client: Client):
        return self._ok(client.json("GET", self.stats_path, token=self.seller_token))

    def json_plays(self, client: Client):
        started = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {"event_id": uuid.uuid4().hex, "video_id": str(self.video_id), "viewer_id": str(self.viewer_id),
                 "started_at": started, "start_position_sec": "0", "end_position_sec": "30"}
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

    _, ingest_token = mesh.create_account_directly("INGEST")  # a leaked ingest credential
    hostile = Hostile(mesh, viewer[1], ingest_token, video_id, target).start()
    try:
        mesh.wait_until(lambda: hostile.streams_opened >= HELD_STREAMS, 20, "the held-open import streams")
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
        hostile.stop()

    failures = load.failures()
    latencies = [o.latency for o in load.outcomes]
    p99 = percentile(latencies, 0.99)
    by_kind = {kind: f"{percentile([o.latency for o in load.outcomes if o.kind == kind], 0.99) * 1000:.0f} ms"
               for kind in sorted({o.kind for o in load.outcomes})}
    summary = (f"{len(failures)} of {load.done} honest calls failed, p99 {p99 * 1000:.1f} ms in {load.elapsed:.1f} s "
               f"(p99 by kind {by_kind}); hostile answers: {dict(hostile.answers)}")
    print(summary)
    assert not unfinished, f"{unfinished}; {summary}"
    assert not failures, f"{summary}; first failures: {[(o.kind, o.error) for o in failures[:5]]}"
    assert p99 < P99_LIMIT_SEC, summary
    assert not hostile.unexpected, f"{summary}; unexpected: {Counter(hostile.unexpected)}"
    assert hostile.answers["password guess: 429"] > 0, summary
    assert _ejections(mesh) == ejections_before, "Envoy ejected an instance"
    for name in CLUSTERS:
        assert all(host.healthy for host in mesh.envoy_hosts(name).values()), name
