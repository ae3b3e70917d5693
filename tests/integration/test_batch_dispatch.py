"""Dispatch mode on MariaDB: a coordinator hands each partition to worker instances
(BatchService.RunPartition on two real in-process gRPC servers, round robin), retries a
partition whose worker was lost with a NEW attempt, and never lets an attempt complete twice.

The through-Envoy version, with a worker process SIGKILLed mid-run, is
tests/faults/test_batch_worker_kill.py.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from batch.jobs import repository as repo
from batch.jobs.dispatch import DispatchError, GrpcDispatcher
from batch.jobs.model import BatchStatus, EventType, Partition, RunKind
from batch.jobs.runner import JobRunner
from entrypoints.servers import batch as batch_main
from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.common import auth, db
from services.common.server import Server, ServiceContext
from services.common.settings import Settings
from tests.databases import fresh_database
from tests.plugins.jobs import SEOUL, add_plays, add_videos, clear, random_plays, stats_snapshot

PORTS = (21100, 21101)  # two worker instances
DAYS = [dt.date(2026, 10, 12), dt.date(2026, 10, 13)]
VIDEOS = list(range(1, 41))
PARTITIONS = 4
PAYSYSTEM = Path(sys.executable).parent / "paysystem"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two BatchService instances (batch-a, batch-b) on one MariaDB database, each with its
    own engine as separate processes would have, and a fresh database for reference runs."""
    tmp = tmp_path_factory.mktemp("dispatch")
    with (
        fresh_database("mariadb", "paysystem_scale_", tmp) as url,
        fresh_database("mariadb", "paysystem_scale_", tmp) as reference_url,
    ):
        settings = Settings(data_dir=tmp, db_url=url, batch_workers=2)
        auth.ensure_keys(settings.keys_dir)
        servers = []
        for name, port in zip(("batch-a", "batch-b"), PORTS, strict=True):
            ctx = ServiceContext(settings=settings, engine=db.make_engine(settings), instance=name)
            server = Server("batch", batch_main.build(ctx), ctx, port)
            server.grpc_server.start()
            servers.append(server)
        # Round robin over both instances, as Envoy's batch cluster does.
        channel = grpc.insecure_channel(
            "ipv4:" + ",".join(f"127.0.0.1:{p}" for p in PORTS),
            options=[("grpc.lb_policy_name", "round_robin")],
        )
        engine = db.make_engine(settings)
        reference = db.make_engine(Settings(data_dir=tmp, db_url=reference_url))
        yield Cluster(settings, engine, reference, channel)
        channel.close()
        for server in servers:
            server.grpc_server.stop(0).wait()
            server.ctx.engine.dispose()
        engine.dispose()
        reference.dispose()


class Cluster:
    def __init__(self, settings, engine, reference, channel) -> None:
        self.settings, self.engine, self.reference, self.channel = settings, engine, reference, channel

    def metadata(self, role: str = "ADMIN"):
        token = auth.issue_token(
            auth.load_private_key(self.settings.keys_dir),
            auth.Principal(1, "admin", role),
            issuer=self.settings.jwt_issuer,
            ttl_sec=60,
        )
        return lambda: [("authorization", f"Bearer {token}")]

    def dispatcher(self, role: str = "ADMIN") -> GrpcDispatcher:
        return GrpcDispatcher(self.channel, self.metadata(role))

    def runner(self, dispatcher, **options) -> JobRunner:
        return JobRunner(
            self.engine,
            zone=SEOUL,
            workers=2,
            dispatcher=dispatcher,
            retry_backoff_sec=0.05,
            progress_interval_sec=0.5,
            **options,
        )

    def reference_stats(self) -> dict:
        """The same plays computed by the local thread pool on a fresh database."""
        clear(self.reference)
        _seed(self.reference)
        events = list(
            JobRunner(self.reference, zone=SEOUL, workers=2).run(
                "daily", DAYS[0], DAYS[-1], partitions=PARTITIONS, today=DAYS[-1]
            )
        )
        assert events[-1].type is EventType.JOB_FINISHED, events[-1].message
        return stats_snapshot(self.reference)


def _seed(engine) -> None:
    add_videos(engine, VIDEOS)
    add_plays(engine, random_plays(DAYS, VIDEOS, 1500, prefix="dispatch-"))


@pytest.fixture
def data(cluster):
    clear(cluster.engine)
    _seed(cluster.engine)
    return cluster


def _attempts(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT job_execution_id, partition_key, attempt, status, worker, error FROM partition_execution"
                " ORDER BY job_execution_id, partition_key, attempt"
            )
        ).all()


def _run(runner: JobRunner) -> list:
    return list(runner.run("daily", DAYS[0], DAYS[-1], partitions=PARTITIONS, today=DAYS[-1]))


class FlakyDispatcher:
    """The real dispatcher, except that the first `lose` calls are lost the way a killed
    worker loses them: before the call reaches a worker (`when="before"`, as a connection
    refused), or after the worker reported PARTITION_STARTED (`when="after_start"`: the
    stream is cut while the worker goes on computing, so it must be fenced)."""

    def __init__(self, real: GrpcDispatcher, lose: int, when: str) -> None:
        self.real, self.lose, self.when = real, lose, when
        self.lost: list[int] = []

    def run_partition(self, partition_execution_id: int):
        if len(self.lost) < self.lose:
            self.lost.append(partition_execution_id)
            if self.when == "after_start":
                stream = self.real.run_partition(partition_execution_id)
                first = next(stream)
                assert first.type is EventType.PARTITION_STARTED
                yield first
            raise DispatchError("UNAVAILABLE: simulated lost worker", retryable=True)
        yield from self.real.run_partition(partition_execution_id)


def test_dispatched_partitions_run_on_both_worker_instances_and_equal_a_local_run(data):
    events = _run(data.runner(data.dispatcher()))

    assert events[-1].type is EventType.JOB_FINISHED, events[-1].message
    rows = _attempts(data.engine)
    assert len(rows) == PARTITIONS * len(DAYS)
    assert {(r.attempt, r.status) for r in rows} == {(1, "COMPLETED")}
    instances = {r.worker.split("@")[0] for r in rows}
    assert instances == {"batch-a", "batch-b"}
    finished = [e for e in events if e.type is EventType.PARTITION_FINISHED]
    assert [e.partitions_done for e in finished[:PARTITIONS]] == list(range(1, PARTITIONS + 1))
    assert all(e.partitions_total == PARTITIONS and not e.final for e in finished)
    assert stats_snapshot(data.engine) == data.reference_stats()


@pytest.mark.parametrize("when", ["before", "after_start"])
def test_a_lost_worker_s_partition_runs_again_as_a_new_attempt_and_completes_exactly_once(data, when):
    flaky = FlakyDispatcher(data.dispatcher(), lose=2, when=when)

    events = _run(data.runner(flaky))

    assert events[-1].type is EventType.JOB_FINISHED, events[-1].message
    rows = _attempts(data.engine)
    by_key: dict[tuple, list] = {}
    for r in rows:
        by_key.setdefault((r.job_execution_id, r.partition_key), []).append(r)
    assert len(by_key) == PARTITIONS * len(DAYS)
    for attempts in by_key.values():
        assert [r.status for r in attempts].count("COMPLETED") == 1
        assert attempts[-1].status == "COMPLETED"
        assert all(r.status == "FAILED" and "attempt" in r.error for r in attempts[:-1])
    retried = [a for a in by_key.values() if len(a) > 1]
    if when == "before":  # nothing reached a worker: both lost attempts were retried
        assert len(retried) == 2
        assert all(a[0].worker is None and "attempt 1 lost: UNAVAILABLE" in a[0].error for a in retried)
        assert sum(1 for e in events if e.status == "RETRYING") == 2
        # `paysystem batch status` counts each partition once (its newest attempt) and the retries.
        env = {
            **os.environ,
            "PAYSYSTEM_DB_URL": data.settings.db_url,
            "PAYSYSTEM_DATA_DIR": str(data.settings.data_dir),
        }
        shown = subprocess.run(
            [str(PAYSYSTEM), "batch", "status"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.count(f"completed={PARTITIONS}") == len(DAYS)
        per_execution: dict[int, int] = {}
        for a in retried:
            per_execution[a[0].job_execution_id] = per_execution.get(a[0].job_execution_id, 0) + len(a) - 1
        for n in (1, 2):
            assert shown.stdout.count(f"retries={n}") == sum(1 for v in per_execution.values() if v == n)
    else:
        # The cut worker went on: it was fenced (attempt FAILED, writes rolled back) unless
        # it had committed before the coordinator settled the attempt (then no attempt 2).
        assert len(retried) <= 2
    assert stats_snapshot(data.engine) == data.reference_stats()


def test_a_refused_dispatch_is_not_retried_and_fails_the_day(data):
    events = _run(data.runner(data.dispatcher(role="SELLER")))

    assert events[-1].type is EventType.JOB_FAILED
    assert "PERMISSION_DENIED" in events[-1].message
    rows = _attempts(data.engine)
    assert {r.attempt for r in rows} == {1}
    assert {r.status for r in rows} <= {"FAILED", "STOPPED"}


def test_attempts_are_bounded_and_a_restart_runs_the_partition_again(data):
    always_lost = FlakyDispatcher(data.dispatcher(), lose=10**6, when="before")

    events = list(
        data.runner(always_lost, partition_attempts=3).run("daily", DAYS[0], partitions=PARTITIONS, today=DAYS[-1])
    )

    assert events[-1].type is EventType.JOB_FAILED
    rows = _attempts(data.engine)
    assert sorted({r.attempt for r in rows}) == [1, 2, 3]
    assert {r.status for r in rows} == {"FAILED"}
    assert len(always_lost.lost) == 3 * PARTITIONS
    # The execution is FAILED and restartable: the next run (local pool here) completes it.
    again = list(JobRunner(data.engine, zone=SEOUL, workers=2).run("daily", DAYS[0], today=DAYS[-1]))
    assert again[-1].type is EventType.JOB_FINISHED, again[-1].message
    with data.engine.connect() as conn:
        kinds = conn.execute(sa.text("SELECT run_kind FROM job_execution ORDER BY job_execution_id")).scalars().all()
    assert kinds == [RunKind.FIRST.value, RunKind.RESTART.value]


def test_an_attempt_failed_by_the_coordinator_can_never_complete(data):
    """The fence, at the repository: the coordinator settles a lost attempt while its worker
    is in fact still running; the worker's COMPLETED mark then fails and its transaction
    (with the partition's writes) rolls back."""
    with data.engine.begin() as conn:
        instance = repo.insert_instance(conn, "daily", {"date": "2026-10-12"}, 1)
        execution_id = repo.insert_execution(conn, instance.job_instance_id, owner="test:1", now_us=1)
        repo.start_execution(
            conn,
            execution_id,
            version=0,
            run_kind=RunKind.FIRST,
            play_id_watermark=0,
            partitions=[Partition("p0", 0, 100)],
            now_us=1,
        )
        (first,) = repo.partition_executions(conn, execution_id)
        repo.start_partition(conn, first.partition_execution_id, worker="batch-a@x:1", now_us=2)
    with data.engine.begin() as conn:
        second = repo.retry_partition(conn, first.partition_execution_id, error="attempt 1 lost: CANCELLED", now_us=3)
    assert (second.attempt, second.status) == (2, BatchStatus.STARTING)

    with pytest.raises(repo.LostUpdate), data.engine.begin() as conn:
        repo.complete_partition(conn, first.partition_execution_id, rows_read=1, rows_written=1, now_us=4)

    with data.engine.begin() as conn:
        attempts = repo.partition_executions(conn, execution_id)
    assert [(p.attempt, p.status) for p in attempts] == [(1, BatchStatus.FAILED), (2, BatchStatus.STARTING)]
    assert attempts[0].error == "attempt 1 lost: CANCELLED"


def test_run_partition_runs_an_attempt_once_and_refuses_it_afterwards(data):
    with data.engine.begin() as conn:
        instance = repo.insert_instance(conn, "daily", {"date": DAYS[0].isoformat()}, 1)
        execution_id = repo.insert_execution(conn, instance.job_instance_id, owner="test:1", now_us=1)
        repo.start_execution(
            conn,
            execution_id,
            version=0,
            run_kind=RunKind.FIRST,
            play_id_watermark=0,
            partitions=[Partition("p0", 0, 2**63 - 1)],
            now_us=1,
        )
        (pe,) = repo.partition_executions(conn, execution_id)
    stub = batch_pb2_grpc.BatchServiceStub(data.channel)
    request = batch_pb2.RunPartitionRequest(partition_execution_id=pe.partition_execution_id)

    events = list(stub.RunPartition(request, metadata=data.metadata()()))

    types = [batch_pb2.JobEventType.Name(e.type) for e in events]
    assert types[0] == "PARTITION_STARTED" and types[-1] == "PARTITION_FINISHED"
    assert events[-1].final and events[-1].rows_read == 1500 and events[-1].day == DAYS[0].isoformat()
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.RunPartition(request, metadata=data.metadata()()))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "COMPLETED, not STARTING" in caught.value.details()
