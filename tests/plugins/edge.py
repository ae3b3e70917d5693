"""Clients that misbehave at Envoy's edge, for tests/e2e/test_envoy_edge.py and the hostile
edge drill (tests/faults/test_hostile_edge.py).

Envoy's per-client limits are keyed by the client's address, and the mesh's own machine
(127.0.0.1) is not limited (entrypoints/launcher/envoy_config.py, LOCAL_UNTHROTTLED_CLIENTS).
A "client" here is another loopback address (127.x.y.z reaches 127.0.0.1 on Linux), fresh
for each test, so buckets left by earlier tests do not matter.
"""

from __future__ import annotations

import http.client
import itertools
import json as jsonlib
import os
import socket
import struct
import threading
import types
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable

import grpc

from paysystem.v1 import account_pb2, video_pb2, video_pb2_grpc
from tests.mesh import PASSWORD, Mesh

# The hostile edge drill's held-open import streams (34 made every video endpoint answer 504).
HELD_STREAMS = 34
STREAM_CHUNK_EVERY_SEC = 5.0

_addresses = itertools.count(1)


def fresh_client_address() -> str:
    """A loopback address no other test of this process has used (127.<pid>.<n>.<n>)."""
    n = next(_addresses)
    return f"127.{os.getpid() % 200 + 20}.{n // 250 % 250 + 1}.{n % 250 + 1}"


def http_call(
    mesh: Mesh,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request to Envoy from `source`: (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", mesh.settings.http_port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def json_log_in(mesh: Mesh, username: str, password: str, *, source: str) -> tuple[int, dict[str, str], object]:
    body = jsonlib.dumps({"username": username, "password": password}).encode()
    status, headers, data = http_call(
        mesh, "POST", "/v1/auth/token", body, source=source, headers={"content-type": "application/json"}
    )
    return status, headers, jsonlib.loads(data)


def grpc_log_in_over_http1(mesh: Mesh, username: str, password: str, *, source: str) -> dict[str, str]:
    """A gRPC Login from `source` (gRPC framing over HTTP/1.1: Python's gRPC client cannot pick
    its source address). Returns the response headers: an error, from the service or from
    Envoy, is a trailers-only answer, so its grpc-status is among them."""
    message = account_pb2.LoginRequest(username=username, password=password).SerializeToString()
    frame = struct.pack(">?I", False, len(message)) + message
    _, headers, _ = http_call(
        mesh,
        "POST",
        "/paysystem.v1.AccountService/Login",
        frame,
        source=source,
        headers={"content-type": "application/grpc", "te": "trailers"},
    )
    return headers


def open_connection(mesh: Mesh, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", mesh.settings.http_port), timeout=30, source_address=(source, 0))
    return sock


def envoy_stats(mesh: Mesh, prefix: str) -> dict[str, int]:
    """Envoy's counters and gauges whose names start with `prefix` (admin /stats)."""
    url = f"http://127.0.0.1:{mesh.settings.envoy_admin_port}/stats?filter=^{prefix}"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    stats = {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if value.isdigit():
            stats[key] = int(value)
    return stats


def listener_stat(mesh: Mesh, name: str) -> int:
    """A counter of the public listener, e.g. downstream_cx_overflow."""
    key = f"listener.127.0.0.1_{mesh.settings.http_port}.{name}"
    return envoy_stats(mesh, key.replace(".", "\\.")).get(key, 0)


# --- the hostile client of tests/faults/test_hostile_edge.py ------------------------------


class Hostile:
    """The attacker of the hostile edge drill: one thread per attack, each at its own bounded rate,
    until stop(). It runs in a process of its own (run_hostile), so that its threads do not
    slow the honest client down by holding that client's interpreter lock."""

    def __init__(
        self, mesh, viewer_token: str, ingest_token: str, video_id: int, target: str, address: str, streams_opened
    ) -> None:
        self.mesh = mesh
        self.viewer_token = viewer_token
        self.ingest_token = ingest_token
        self.video_id = video_id
        self.target = target
        self.address = address
        self.streams_opened = streams_opened  # a multiprocessing Value: the drill waits on it
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
            (0.25, self.hold_import_stream),  # 4 new streams a second up to HELD_STREAMS
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
            with self.streams_opened.get_lock():
                self.streams_opened.value += 1
            threading.Thread(target=self._import_stream, name="held-import", daemon=True).start()

    def _import_stream(self) -> None:
        def chunks():
            while not self._stop.is_set():
                yield video_pb2.ImportPlaysChunk()
                self._stop.wait(STREAM_CHUNK_EVERY_SEC)

        with grpc.insecure_channel(f"127.0.0.1:{self.mesh.settings.http_port}") as channel:
            try:
                video_pb2_grpc.VideoServiceStub(channel).ImportPlays(
                    chunks(), metadata=[("authorization", f"Bearer {self.ingest_token}")], timeout=120
                )
                answer = "OK"
            except grpc.RpcError as exc:
                answer = exc.code().name
        # Cut by the service (idle limit, stream cap) or by the drill's end: all acceptable.
        self._record("import stream", answer, lambda _: True)

    # --- 2. JSON on a gRPC path ---------------------------------------------------------

    def json_on_grpc_path(self) -> None:
        status, _, _ = http_call(
            self.mesh,
            "POST",
            "/paysystem.v1.AccountService/Login",
            b"{}",
            source=self.address,
            headers={"content-type": "application/json"},
        )
        self._record("json on grpc path", str(status), lambda a: a == "415")

    # --- 3. a huge date range -----------------------------------------------------------

    def huge_stats_range(self) -> None:
        path = f"/v1/videos/{self.video_id}/stats?period=DAILY&from=0001-01-01&to=9999-12-30"
        status, _, _ = http_call(
            self.mesh, "GET", path, source=self.address, headers={"authorization": f"Bearer {self.viewer_token}"}
        )
        # Refused: not the owner (403) or too many points (400); never worked out.
        self._record("huge stats range", str(status), lambda a: a in ("400", "403"))

    # --- 4. password guessing -----------------------------------------------------------

    def guess_password(self) -> None:
        status, _, _ = json_log_in(self.mesh, self.target, f"guess-{uuid.uuid4().hex[:8]}", source=self.address)
        self._record("password guess", str(status), lambda a: a in ("401", "429"))

    # --- 5. big, unfinished and slow requests ---------------------------------------------

    def oversized_sign_up(self) -> None:
        body = jsonlib.dumps({"username": "x" * 20_000, "password": PASSWORD, "role": "VIEWER"}).encode()
        status, _, _ = http_call(
            self.mesh, "POST", "/v1/accounts", body, source=self.address, headers={"content-type": "application/json"}
        )
        # 413, or 429 once this address has started more sign-ups than its bucket (20, then 2 a
        # second, with the unfinished bodies below) allows: refused at the edge either way.
        self._record("oversized sign-up", str(status), lambda a: a in ("413", "429"))

    def unfinished_large_body(self) -> None:
        with open_connection(self.mesh, self.address) as sock:
            sock.sendall(
                b"POST /v1/accounts HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                b"content-length: 15728640\r\n\r\n" + b"x" * (1 << 20)
            )
            sock.settimeout(10)
            answer = sock.recv(12).decode(errors="replace")
        self._record("unfinished 15 MiB body", answer, lambda a: a in ("HTTP/1.1 413", "HTTP/1.1 429"))

    def slow_headers(self) -> None:
        # A thread per connection: each waits for Envoy's header timeout.
        threading.Thread(target=self._slow_headers, name="slow-headers", daemon=True).start()

    def _slow_headers(self) -> None:
        with open_connection(self.mesh, self.address) as sock:
            sock.sendall(b"GET /v1/videos/1 HTTP/1.1\r\nhost: x\r\n")
            sock.settimeout(30)
            answer = sock.recv(12).decode(errors="replace")
        self._record("slow headers", answer, lambda a: a == "HTTP/1.1 408")


def run_hostile(
    port: int,
    viewer_token: str,
    ingest_token: str,
    video_id: int,
    target: str,
    address: str,
    streams_opened,
    stop,
    results,
) -> None:
    """A child process's life: attack until `stop` is set, then put (answers, unexpected) on `results`."""
    edge = types.SimpleNamespace(settings=types.SimpleNamespace(http_port=port))
    hostile = Hostile(edge, viewer_token, ingest_token, video_id, target, address, streams_opened).start()
    stop.wait()
    hostile.stop()
    results.put((dict(hostile.answers), hostile.unexpected))
