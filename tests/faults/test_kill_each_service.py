"""One instance of every service SIGKILLed during 10,000 calls through Envoy: none fails.

Every service runs two instances in the mesh (entrypoints/launcher/topology.py; account too,
since log-in is the door to everything else). While 8 threads make 10,000 calls, a mix of
JSON and gRPC, of reads (GetVideo, GetTopVideos, GetStatement, GetJobExecution, Login) and
idempotent writes (RecordPlays with fixed event ids, each batch sent several times), one
instance of each service is killed with SIGKILL, one after another. Envoy's retries (on
reset / refused / unavailable, to another instance), health checks and outlier detection
hide each death; the supervisor starts each victim again and Envoy puts it back in rotation.
Every answer is checked, not only its status: the same figures as before the load, every
play STORED or DUPLICATE, and in the end each event id stored exactly once.
"""

from __future__ import annotations

import datetime as dt
import signal

import pytest
import sqlalchemy as sa
from google.protobuf.timestamp_pb2 import Timestamp

from paysystem.v1 import (
    account_pb2,
    account_pb2_grpc,
    batch_pb2,
    batch_pb2_grpc,
    common_pb2,
    settlement_pb2,
    settlement_pb2_grpc,
    statistics_pb2,
    statistics_pb2_grpc,
    video_pb2,
    video_pb2_grpc,
)
from services.common import db
from tests.databases import fresh_database
from tests.mesh import PASSWORD
from tests.plugins.faults import DB_PREFIX, SHARED_REDIS_URL, Client, Load, envoy_stat, fault_mesh, percentile
from tests.plugins.readside import Daily, publish_day

pytestmark = [pytest.mark.faults, pytest.mark.mesh]

CALLS = 10_000
THREADS = 8
# One instance of each service, killed when the load has made this many calls.
KILLS = [(1_000, "video-1"), (2_500, "statistics-2"), (4_000, "settlement-1"), (5_500, "batch-2"), (7_000, "account-2")]
DAY = dt.date(2020, 5, 15)
PLAY_GROUPS = 300  # distinct batches of fixed event ids; each is sent about 6 times
EVENTS_PER_CALL = 5
# The viewer records its own playbacks: within the 7-day late window (a whole minute, so
# the JSON and gRPC forms of an event, written to the second, are identical).
PLAY_START = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(second=0, microsecond=0)


@pytest.fixture(scope="module")
def kill_mesh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kill-each")
    with fresh_database("mariadb", DB_PREFIX, tmp) as url:
        with fault_mesh(tmp / "mesh", db_url=url, redis_url=SHARED_REDIS_URL) as mesh:
            yield mesh


def _play_ids(group: int) -> list[str]:
    return [f"kill-{group}-{j}" for j in range(EVENTS_PER_CALL)]


def _started_at(group: int, j: int) -> dt.datetime:
    return PLAY_START + dt.timedelta(minutes=group, seconds=j)


class Scenario:
    """The data the calls read and what each must answer, set up through the API."""

    def __init__(self, mesh) -> None:
        self.mesh = mesh
        self.seller_id, self.seller_token = mesh.sign_up_and_login("SELLER")
        self.viewer_username = mesh.unique_username("viewer")
        self.viewer_id, self.viewer_token = mesh.sign_up_and_login("VIEWER", username=self.viewer_username)
        _, self.admin_token = mesh.create_admin()
        status, video = mesh.json(
            "POST", "/v1/videos", {"title": "under fire", "duration_sec": 600}, token=self.seller_token
        )
        assert status == 200, video
        self.video_id = int(video["video_id"])

        # A batch execution for GetJobExecution (a day with no plays), then figures for the reads.
        stub = batch_pb2_grpc.BatchServiceStub(mesh.channel())
        events = list(
            stub.RunJob(
                batch_pb2.RunJobRequest(job="daily", date=DAY.isoformat()),
                metadata=mesh.metadata(self.admin_token),
                timeout=120,
            )
        )
        assert events[-1].final and events[-1].type == batch_pb2.JOB_FINISHED, events[-1]
        self.execution_id = events[-1].job_execution_id
        engine = db.make_engine(mesh.settings)
        try:
            publish_day(
                engine,
                DAY,
                [
                    Daily(
                        self.video_id, views=12, watch_time_sec=3600, ad_views=3, video_revenue="12.5", ad_revenue="30"
                    )
                ],
            )
        finally:
            engine.dispose()

        # The right answers, read once before the load.
        self.statement_path = f"/v1/sellers/{self.seller_id}/settlements?period=MONTHLY&date={DAY}"
        self.top_path = f"/v1/sellers/{self.seller_id}/top-videos?period=MONTHLY&date={DAY}&metric=VIEWS"
        self.statement_json = self._json_ok("GET", self.statement_path, token=self.seller_token)
        assert self.statement_json["total"] == "42.5"
        self.top_json = self._json_ok("GET", self.top_path, token=self.seller_token)
        assert [v["video_id"] for v in self.top_json["videos"]] == [str(self.video_id)]
        self.video_json = self._json_ok("GET", f"/v1/videos/{self.video_id}", token=self.seller_token)
        self.execution_json = self._json_ok("GET", f"/v1/batch/jobs/{self.execution_id}", token=self.admin_token)
        assert self.execution_json["status"] == "COMPLETED"
        channel = mesh.channel()
        self.statement_request = settlement_pb2.GetStatementRequest(
            seller_id=self.seller_id, period=common_pb2.MONTHLY, date=DAY.isoformat()
        )
        self.top_request = statistics_pb2.GetTopVideosRequest(
            seller_id=self.seller_id, period=common_pb2.MONTHLY, date=DAY.isoformat(), metric=statistics_pb2.VIEWS
        )
        self.statement_grpc = settlement_pb2_grpc.SettlementServiceStub(channel).GetStatement(
            self.statement_request, metadata=mesh.metadata(self.seller_token), timeout=10
        )
        self.top_grpc = statistics_pb2_grpc.StatisticsServiceStub(channel).GetTopVideos(
            self.top_request, metadata=mesh.metadata(self.seller_token), timeout=10
        )
        self.execution_grpc = batch_pb2_grpc.BatchServiceStub(channel).GetJobExecution(
            batch_pb2.GetJobExecutionRequest(job_execution_id=self.execution_id),
            metadata=mesh.metadata(self.admin_token),
            timeout=10,
        )
        self.sent_event_ids: set[str] = set()

    def _json_ok(self, method, path, body=None, token=None):
        status, answer = self.mesh.json(method, path, body, token=token)
        assert status == 200, (path, answer)
        return answer

    # --- the calls: each returns None when the answer is right, else what is wrong ---------

    def call(self, index: int):
        """Call `index` of the load: a fixed rotation over 11 kinds (login one call in 44)."""
        kinds = [
            self.grpc_get_video,
            self.json_get_video,
            self.grpc_top,
            self.json_top,
            self.grpc_statement,
            self.json_statement,
            self.grpc_plays,
            self.json_plays,
            self.grpc_execution,
            self.json_execution,
        ]
        if index % 44 == 43:
            return ("login-json" if index % 88 == 87 else "login-grpc"), (
                self.json_login if index % 88 == 87 else self.grpc_login
            )
        call = kinds[index % len(kinds)]
        if call in (self.grpc_plays, self.json_plays):
            group = (index // len(kinds)) % PLAY_GROUPS
            self.sent_event_ids.update(_play_ids(group))
            return call.__name__, lambda client: call(client, group)
        return call.__name__, call

    def _md(self, token):
        return [("authorization", f"Bearer {token}")]

    def grpc_get_video(self, client: Client):
        reply = video_pb2_grpc.VideoServiceStub(client.channel).GetVideo(
            video_pb2.GetVideoRequest(video_id=self.video_id), metadata=self._md(self.seller_token), timeout=30
        )
        return None if reply.video_id == self.video_id and reply.title == "under fire" else f"wrong video {reply}"

    def json_get_video(self, client: Client):
        return _same(client.json("GET", f"/v1/videos/{self.video_id}", token=self.seller_token), self.video_json)

    def grpc_top(self, client: Client):
        reply = statistics_pb2_grpc.StatisticsServiceStub(client.channel).GetTopVideos(
            self.top_request, metadata=self._md(self.seller_token), timeout=30
        )
        return None if reply == self.top_grpc else f"different top 5: {reply}"

    def json_top(self, client: Client):
        return _same(client.json("GET", self.top_path, token=self.seller_token), self.top_json)

    def grpc_statement(self, client: Client):
        reply = settlement_pb2_grpc.SettlementServiceStub(client.channel).GetStatement(
            self.statement_request, metadata=self._md(self.seller_token), timeout=30
        )
        return None if reply == self.statement_grpc else f"different statement: {reply}"

    def json_statement(self, client: Client):
        return _same(client.json("GET", self.statement_path, token=self.seller_token), self.statement_json)

    def grpc_execution(self, client: Client):
        reply = batch_pb2_grpc.BatchServiceStub(client.channel).GetJobExecution(
            batch_pb2.GetJobExecutionRequest(job_execution_id=self.execution_id),
            metadata=self._md(self.admin_token),
            timeout=30,
        )
        return None if reply == self.execution_grpc else f"different execution: {reply}"

    def json_execution(self, client: Client):
        return _same(
            client.json("GET", f"/v1/batch/jobs/{self.execution_id}", token=self.admin_token), self.execution_json
        )

    def grpc_login(self, client: Client):
        reply = account_pb2_grpc.AccountServiceStub(client.channel).Login(
            account_pb2.LoginRequest(username=self.viewer_username, password=PASSWORD), timeout=30
        )
        return None if reply.account_id == self.viewer_id and reply.access_token else f"bad login {reply}"

    def json_login(self, client: Client):
        status, body = client.json("POST", "/v1/auth/token", {"username": self.viewer_username, "password": PASSWORD})
        if status != 200:
            return f"HTTP {status}: {body}"
        return None if int(body["account_id"]) == self.viewer_id else f"bad login {body}"

    def _events(self, group: int):
        return [(event_id, _started_at(group, j)) for j, event_id in enumerate(_play_ids(group))]

    def grpc_plays(self, client: Client, group: int):
        events = []
        for event_id, started in self._events(group):
            ts = Timestamp()
            ts.FromDatetime(started)
            events.append(
                video_pb2.PlayEvent(
                    event_id=event_id,
                    video_id=self.video_id,
                    viewer_id=self.viewer_id,
                    started_at=ts,
                    start_position_sec=10,
                    end_position_sec=70,
                )
            )
        reply = video_pb2_grpc.VideoServiceStub(client.channel).RecordPlays(
            video_pb2.RecordPlaysRequest(events=events), metadata=self._md(self.viewer_token), timeout=30
        )
        if reply.stored + reply.duplicates != EVENTS_PER_CALL or reply.rejected:
            return f"plays not all stored or duplicate: {reply}"
        return None

    def json_plays(self, client: Client, group: int):
        events = [
            {
                "event_id": event_id,
                "video_id": self.video_id,
                "viewer_id": self.viewer_id,
                "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "start_position_sec": 10,
                "end_position_sec": 70,
            }
            for event_id, started in self._events(group)
        ]
        status, body = client.json("POST", "/v1/plays:batch", {"events": events}, token=self.viewer_token)
        if status != 200:
            return f"HTTP {status}: {body}"
        if int(body["stored"]) + int(body["duplicates"]) != EVENTS_PER_CALL or int(body["rejected"]):
            return f"plays not all stored or duplicate: {body}"
        return None


def _same(answer, expected):
    status, body = answer
    if status != 200:
        return f"HTTP {status}: {body}"
    return None if body == expected else f"different answer: {body}"


def test_killing_one_instance_of_every_service_during_10000_calls_fails_none_and_each_comes_back(kill_mesh):
    mesh = kill_mesh
    scenario = Scenario(mesh)
    old_pids = {name: mesh.pid(name) for _, name in KILLS}
    retries_before = {
        s: envoy_stat(mesh, f"cluster.{s}.upstream_rq_retry")
        for s in ("account", "video", "statistics", "settlement", "batch")
    }

    _wait_until_envoy_spreads_calls(mesh, scenario)
    load = Load(mesh.settings.http_port, scenario.call, CALLS, THREADS).start()
    killed_at = {}
    for at, victim in KILLS:
        load.wait_for(at, 120)
        mesh.kill(victim, signal.SIGKILL)
        killed_at[victim] = load.done
    load.join(240)

    failures = load.failures()
    latencies = [o.latency for o in load.outcomes]
    retries = {s: envoy_stat(mesh, f"cluster.{s}.upstream_rq_retry") - n for s, n in retries_before.items()}
    print(
        f"\n{load.done} calls in {load.elapsed:.1f}s ({load.done / load.elapsed:.0f}/s), {len(failures)} failed;"
        f" p50 {percentile(latencies, 0.5) * 1000:.1f} ms, p99 {percentile(latencies, 0.99) * 1000:.1f} ms,"
        f" max {max(latencies) * 1000:.0f} ms; killed at {killed_at}; Envoy retries per cluster {retries}"
    )
    assert load.done == CALLS
    assert failures == [], f"{len(failures)} failed calls, first: {failures[:5]}"
    assert {o.kind for o in load.outcomes} >= {
        "grpc_plays",
        "json_plays",
        "grpc_top",
        "json_statement",
        "login-grpc",
        "login-json",
        "grpc_execution",
    }
    # Each kill came while the load still had most of its calls to make.
    assert all(done < CALLS - 2_000 for done in killed_at.values()), killed_at

    # The supervisor restarted each victim; it is SERVING and back in rotation in Envoy.
    for _, victim in KILLS:
        mesh.wait_until(lambda v=victim: mesh.pid(v) not in (None, old_pids[v]), 30, f"{victim} restarted")
        assert mesh.restarts(victim) >= 1
    for _, victim in KILLS:
        mesh.wait_until(lambda v=victim: mesh.health(v) == "SERVING", 60, f"{victim} SERVING again")
        service = victim.rsplit("-", 1)[0]
        mesh.wait_until(lambda v=victim, s=service: mesh.envoy_hosts(s)[v].healthy, 30, f"{victim} healthy in Envoy")

    # Each event id sent is stored once, however many times (and on however many instances) it came.
    engine = db.make_engine(mesh.settings)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT event_id, COUNT(*) FROM plays WHERE event_id LIKE 'kill-%' GROUP BY event_id")
            ).all()
    finally:
        engine.dispose()
    assert {r[0].decode() if isinstance(r[0], bytes) else r[0] for r in rows} == scenario.sent_event_ids
    assert all(r[1] == 1 for r in rows)
    assert len(scenario.sent_event_ids) == PLAY_GROUPS * EVENTS_PER_CALL


def _wait_until_envoy_spreads_calls(mesh, scenario) -> None:
    """The drill starts once every victim's cluster routes to both its instances (see
    envoy/README.md, "Just after start"); warm-up calls are not counted in the 10,000."""
    services = {victim.rsplit("-", 1)[0] for _, victim in KILLS}
    baseline = {s: {n: h.rq_total for n, h in mesh.envoy_hosts(s).items()} for s in services}

    def spread() -> bool:
        Load(mesh.settings.http_port, scenario.call, 200, THREADS).start().join(60)
        return all(
            all(host.rq_total > baseline[s][name] for name, host in mesh.envoy_hosts(s).items()) for s in services
        )

    mesh.wait_until(spread, 60, "Envoy to route calls to every instance of each victim's service")
