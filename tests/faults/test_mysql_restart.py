"""The mesh's MariaDB crashes (SIGKILL) under ingest load and is started again on the same
data dir: while it is down calls fail fast with UNAVAILABLE (gRPC) / 503 (JSON), never hang;
the instances go NOT_SERVING and come back SERVING by themselves (no restart); and a client
that retries each batch of plays with the same event ids ends with every event id stored
exactly once.

The MariaDB is this drill's own mariadbd (tests/plugins/faults.py), never the machine's
shared server on 3306. Redis is not used (the ingest path does not touch it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp

from paysystem.v1 import video_pb2, video_pb2_grpc
from tests.plugins.faults import DB_PREFIX, Client, fault_mesh, own_mariadb, percentile

pytestmark = [pytest.mark.faults, pytest.mark.mesh]

CLIENTS = 4  # two gRPC, two JSON
EVENTS_PER_BATCH = 20
MAX_BATCHES = 400  # per client: a bound, the drill stops them much earlier
DOWN_SEC = 5.0
FAIL_FAST_SEC = 1.0  # the longest a failed call may take while the database is down
RETRY_PAUSE_SEC = 0.1  # the client's pause before sending the same batch again
PLAY_START = dt.datetime(2024, 4, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def mysql_mesh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mysql-restart")
    with own_mariadb(tmp / "mariadb") as server:
        url = server.create_database(f"{DB_PREFIX}{uuid.uuid4().hex[:10]}")
        with fault_mesh(tmp / "mesh", db_url=url) as mesh:
            yield mesh, server


@dataclasses.dataclass(frozen=True)
class Attempt:
    client: int
    batch: int
    started: float
    latency: float
    outcome: str  # "OK", "UNAVAILABLE" (gRPC 14 or HTTP 503), or what else came back


class IngestClient(threading.Thread):
    """Sends batches of plays with fixed event ids; each batch is sent again, same ids, until
    an answer says every event is STORED or DUPLICATE."""

    def __init__(self, number: int, mesh, token: str, video_id: int, viewer_id: int, stop: threading.Event) -> None:
        super().__init__(name=f"ingest-{number}", daemon=True)
        self.number = number
        self.json = number % 2 == 1
        self.mesh = mesh
        self.token = token
        self.video_id = video_id
        self.viewer_id = viewer_id
        self.stop = stop
        self.attempts: list[Attempt] = []
        self.acked: list[tuple[int, float]] = []  # (batch, time of the answer)
        self.sent_ids: set[str] = set()
        self.duplicates = 0

    def _events(self, batch: int) -> list[tuple[str, dt.datetime]]:
        return [
            (f"mysql-{self.number}-{batch}-{j}", PLAY_START + dt.timedelta(minutes=batch, seconds=j + self.number * 20))
            for j in range(EVENTS_PER_BATCH)
        ]

    def _send(self, client: Client, batch: int) -> tuple[str, int]:
        """(outcome, duplicates)."""
        events = self._events(batch)
        if self.json:
            body = {
                "events": [
                    {
                        "event_id": i,
                        "video_id": self.video_id,
                        "viewer_id": self.viewer_id,
                        "started_at": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "start_position_sec": 0,
                        "end_position_sec": 30,
                    }
                    for i, t in events
                ]
            }
            status, answer = client.json("POST", "/v1/plays:batch", body, token=self.token, timeout=60)
            if status == 503:
                return "UNAVAILABLE", 0
            if status != 200:
                return f"HTTP {status}: {answer}", 0
            stored, duplicates, rejected = int(answer["stored"]), int(answer["duplicates"]), int(answer["rejected"])
        else:
            messages = []
            for event_id, started in events:
                ts = Timestamp()
                ts.FromDatetime(started)
                messages.append(
                    video_pb2.PlayEvent(
                        event_id=event_id,
                        video_id=self.video_id,
                        viewer_id=self.viewer_id,
                        started_at=ts,
                        start_position_sec=0,
                        end_position_sec=30,
                    )
                )
            try:
                reply = video_pb2_grpc.VideoServiceStub(client.channel).RecordPlays(
                    video_pb2.RecordPlaysRequest(events=messages), metadata=self.mesh.metadata(self.token), timeout=60
                )
            except grpc.RpcError as exc:
                return (
                    exc.code().name
                    if exc.code() is grpc.StatusCode.UNAVAILABLE
                    else f"gRPC {exc.code().name}: {exc.details()}",
                    0,
                )
            stored, duplicates, rejected = reply.stored, reply.duplicates, reply.rejected
        if rejected or stored + duplicates != EVENTS_PER_BATCH:
            return f"bad answer: stored {stored}, duplicates {duplicates}, rejected {rejected}", 0
        return "OK", duplicates

    def run(self) -> None:
        client = Client(self.mesh.settings.http_port)
        try:
            for batch in range(MAX_BATCHES):
                if self.stop.is_set():
                    return
                self.sent_ids.update(i for i, _ in self._events(batch))
                while True:
                    started = time.monotonic()
                    try:
                        outcome, duplicates = self._send(client, batch)
                    except Exception as exc:  # noqa: BLE001 - recorded, then the batch is sent again
                        outcome, duplicates = f"{type(exc).__name__}: {exc}", 0
                    answered = time.monotonic()
                    self.attempts.append(Attempt(self.number, batch, started, answered - started, outcome))
                    if outcome == "OK":
                        self.acked.append((batch, answered))
                        self.duplicates += duplicates
                        break
                    time.sleep(RETRY_PAUSE_SEC)
        finally:
            client.close()


class HealthWatch(threading.Thread):
    """Polls the video instances' own health every 0.2 s and keeps every change."""

    def __init__(self, mesh, names: list[str]) -> None:
        super().__init__(name="health-watch", daemon=True)
        self.mesh = mesh
        self.names = names
        self.changes: dict[str, list[tuple[float, str]]] = {n: [] for n in names}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for name in self.names:
                status = self.mesh.health(name, timeout=1.0)
                seen = self.changes[name]
                if not seen or seen[-1][1] != status:
                    seen.append((time.monotonic(), status))
            self.halt.wait(0.2)

    def first(self, name: str, status: str, after: float) -> float | None:
        return next((t for t, s in self.changes[name] if s == status and t >= after), None)


def test_a_mariadb_crash_under_ingest_fails_calls_fast_recovers_alone_and_stores_each_event_once(mysql_mesh):
    mesh, server = mysql_mesh
    seller_id, seller_token = mesh.sign_up_and_login("SELLER")
    status, video = mesh.json("POST", "/v1/videos", {"title": "ingested", "duration_sec": 600}, token=seller_token)
    assert status == 200
    viewer_id, _ = mesh.sign_up_and_login("VIEWER")
    _, ingest_token = mesh.create_account_directly("INGEST")
    video_names = [i.name for i in mesh.instances("video")]
    pids = {name: mesh.pid(name) for name in video_names}

    stop = threading.Event()
    clients = [IngestClient(n, mesh, ingest_token, int(video["video_id"]), viewer_id, stop) for n in range(CLIENTS)]
    watch = HealthWatch(mesh, video_names)
    watch.start()
    for client in clients:
        client.start()
    try:
        mesh.wait_until(
            lambda: sum(len(c.acked) for c in clients) >= 20, 60, "20 batches stored before the crash", 0.05
        )
        # The crash is the signal, not the reaping: kill() waits for the process to exit, which
        # on a loaded machine can take longer than the instances need to go NOT_SERVING.
        down_at = time.monotonic()
        server.kill()
        # Both video instances leave rotation on their own (readiness check every 2 s).
        mesh.wait_until(
            lambda: all(watch.first(n, "NOT_SERVING", down_at) for n in video_names),
            10,
            "the video instances NOT_SERVING while MariaDB is down",
        )
        time.sleep(max(0.0, DOWN_SEC - (time.monotonic() - down_at)))
        up_at = time.monotonic()
        boot_sec = server.start()  # same data dir: InnoDB crash recovery
        mesh.wait_until(
            lambda: all(watch.first(n, "SERVING", up_at) for n in video_names), 30, "the video instances SERVING again"
        )

        def ingesting_again() -> bool:
            return sum(1 for c in clients for _, t in c.acked if t > up_at) >= 20

        mesh.wait_until(ingesting_again, 30, "20 batches stored after MariaDB came back", 0.05)
    finally:
        stop.set()
        for client in clients:
            client.join(60)
        watch.halt.set()
        watch.join(10)

    attempts = [a for c in clients for a in c.attempts]
    failed = [a for a in attempts if a.outcome != "OK"]
    unexpected = [a for a in failed if a.outcome != "UNAVAILABLE"]
    first_ok_after = min(t for c in clients for _, t in c.acked if t > up_at) - up_at
    duplicates = sum(c.duplicates for c in clients)
    print(
        f"\n{len(attempts)} attempts ({sum(len(c.acked) for c in clients)} batches of {EVENTS_PER_BATCH} acked), "
        f"{len(failed)} failed while MariaDB was down ({DOWN_SEC:.0f} s + {boot_sec:.1f} s to boot): failure latency "
        f"p50 {percentile([a.latency for a in failed], 0.5) * 1000:.0f} ms, max {max(a.latency for a in failed) * 1000:.0f} ms; "
        f"first batch stored {first_ok_after:.2f} s after the restart began; "
        f"{duplicates} events answered DUPLICATE (stored by an attempt whose answer was lost); health changes "
        f"{ {n: [(round(t - down_at, 1), s) for t, s in c] for n, c in watch.changes.items()} }"
    )
    assert not any(c.is_alive() for c in clients)
    assert unexpected == [], f"failures other than UNAVAILABLE: {unexpected[:5]}"
    assert failed, "the outage should have failed some calls"
    assert max(a.latency for a in failed) < FAIL_FAST_SEC, "calls must fail fast while MariaDB is down, not hang"
    # Failures only around the outage: from the crash until shortly after MariaDB answered again.
    assert all(down_at - 1.0 <= a.started <= up_at + boot_sec + 5.0 for a in failed)
    # The services reconnected by themselves: same processes.
    assert {name: mesh.pid(name) for name in video_names} == pids

    # Every event id sent is stored, and exactly once.
    sent = set().union(*(c.sent_ids for c in clients))
    engine = sa.create_engine(mesh.settings.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT event_id, COUNT(*) FROM plays WHERE event_id LIKE 'mysql-%' GROUP BY event_id")
            ).all()
    finally:
        engine.dispose()
    stored = {r[0].decode() if isinstance(r[0], bytes) else r[0] for r in rows}
    assert stored == sent
    assert all(r[1] == 1 for r in rows)
