"""A batch worker instance SIGKILLed mid-run, through Envoy on MariaDB: the job still
completes, the partition the worker was running is run again as a new attempt on a live
instance, and the figures equal those of a clean run (fresh database, same plays, local
thread pool).

The mesh runs two batch instances that dispatch partitions to the batch cluster through
Envoy (entrypoints/launcher/topology.py). Which one to kill: RunJob reaches one of them, the
coordinator; its pid is in job_execution.owner (host:pid). The victim is the OTHER instance
(killing the coordinator is a crash of the whole run, tests/faults/test_batch_kill.py), killed
at a moment it is running a partition: a partition_execution row STARTED with its name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from batch.jobs.runner import JobRunner
from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.common import db
from services.common.settings import Settings
from tests.databases import fresh_database
from tests.plugins.jobs import SEOUL, add_videos, generate_plays_in_mariadb, stats_snapshot
from tests.plugins.scale import scale_mesh

pytestmark = [pytest.mark.faults, pytest.mark.mesh]

DAYS = [dt.date(2026, 8, 24) + dt.timedelta(days=i) for i in range(12)]  # crosses a month
PLAYS_PER_DAY = 100_000
VIDEOS = 2000
PARTITIONS = 4


def _seed(url: str, tmp: Path) -> None:
    engine = db.make_engine(Settings(data_dir=tmp, db_url=url))
    try:
        add_videos(engine, range(1, VIDEOS + 1))
        generate_plays_in_mariadb(engine, DAYS, PLAYS_PER_DAY, VIDEOS)
    finally:
        engine.dispose()


@pytest.fixture
def databases(tmp_path):
    with (
        fresh_database("mariadb", "paysystem_scale_", tmp_path) as mesh_url,
        fresh_database("mariadb", "paysystem_scale_", tmp_path) as clean_url,
    ):
        yield mesh_url, clean_url


def _attempts(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT job_execution_id, partition_key, attempt, status, worker, error FROM partition_execution"
                " ORDER BY job_execution_id, partition_key, attempt"
            )
        ).all()


def test_a_worker_killed_mid_run_loses_nothing_its_partition_runs_again_and_figures_are_exact(tmp_path, databases):
    mesh_url, clean_url = databases
    # The reference database is filled while the mesh starts.
    clean_seed = threading.Thread(target=_seed, args=(clean_url, tmp_path))
    clean_seed.start()
    _seed(mesh_url, tmp_path)
    engine = db.make_engine(Settings(data_dir=tmp_path, db_url=mesh_url))
    with contextlib.ExitStack() as stack:
        stack.callback(engine.dispose)
        stack.callback(clean_seed.join)
        mesh = stack.enter_context(scale_mesh(tmp_path / "mesh", mesh_url))
        assert set(mesh.pids("batch")) == {"batch-1", "batch-2"}
        _, admin = mesh.create_admin()

        # 1. RunJob through Envoy (gRPC), read in a thread.
        events: list = []
        failure: list[BaseException] = []

        def run() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{mesh.settings.http_port}") as channel:
                stub = batch_pb2_grpc.BatchServiceStub(channel)
                request = batch_pb2.RunJobRequest(
                    job="daily", date=DAYS[0].isoformat(), to_date=DAYS[-1].isoformat(), partitions=PARTITIONS
                )
                try:
                    events.extend(stub.RunJob(request, metadata=mesh.metadata(admin), timeout=600))
                except BaseException as exc:  # noqa: BLE001 - asserted below
                    failure.append(exc)

        started = time.monotonic()
        runner = threading.Thread(target=run)
        runner.start()

        # 2. The coordinator is the instance whose pid owns the execution; the victim is the
        #    other one, killed while it runs a partition (after it completed one, so both
        #    instances are seen doing work).
        pids = mesh.pids("batch")
        coordinator = victim = None
        killed_attempt = None
        while runner.is_alive() and time.monotonic() - started < 300:
            with engine.connect() as conn:
                owner = conn.execute(
                    sa.text("SELECT owner FROM job_execution ORDER BY job_execution_id LIMIT 1")
                ).scalar()
                rows = conn.execute(
                    sa.text(
                        "SELECT partition_execution_id, status, worker FROM partition_execution WHERE worker IS NOT NULL"
                    )
                ).all()
            if owner and coordinator is None:
                owner_pid = int(owner.rpartition(":")[2])
                coordinator = next(name for name, pid in pids.items() if pid == owner_pid)
                victim = next(name for name in pids if name != coordinator)
            if victim is not None:
                mine = [r for r in rows if r.worker.startswith(f"{victim}@")]
                running = [r for r in mine if r.status == "STARTED"]
                if running and any(r.status == "COMPLETED" for r in mine):
                    mesh.kill(victim)
                    killed_attempt = running[0].partition_execution_id
                    break
            time.sleep(0.005)
        assert killed_attempt is not None, "the run ended before a worker could be killed mid-partition"
        runner.join(timeout=600)

        # 3. The job completed; the coordinator kept running it.
        assert not failure, failure
        assert events[-1].final and batch_pb2.JobEventType.Name(events[-1].type) == "JOB_FINISHED", events[-1].message
        assert mesh.pids("batch")[coordinator] == pids[coordinator]
        assert any(e.status == "RETRYING" for e in events)
        with engine.connect() as conn:
            statuses = conn.execute(sa.text("SELECT status FROM job_execution")).scalars().all()
        assert statuses == ["COMPLETED"] * len(DAYS)

        # 4. The killed attempt is FAILED ("lost"), its partition completed exactly once, as a
        #    later attempt; every partition of every day completed exactly once.
        attempts = _attempts(engine)
        by_key: dict[tuple, list] = {}
        for r in attempts:
            by_key.setdefault((r.job_execution_id, r.partition_key), []).append(r)
        assert len(by_key) == PARTITIONS * len(DAYS)
        for rows in by_key.values():
            assert [r.status for r in rows].count("COMPLETED") == 1 and rows[-1].status == "COMPLETED"
        with engine.connect() as conn:
            killed = conn.execute(
                sa.text(
                    "SELECT job_execution_id, partition_key, attempt, status, worker, error FROM partition_execution"
                    " WHERE partition_execution_id = :id"
                ),
                {"id": killed_attempt},
            ).one()
        assert killed.status == "FAILED" and killed.worker.startswith(f"{victim}@")
        assert f"attempt {killed.attempt} lost" in killed.error
        retried = by_key[(killed.job_execution_id, killed.partition_key)]
        assert retried[-1].attempt > killed.attempt
        # Both instances ran partitions through Envoy.
        workers = {r.worker.split("@")[0] for r in attempts if r.status == "COMPLETED"}
        assert workers == {"batch-1", "batch-2"}

    # 5. The figures equal a clean run's: fresh database, same plays, local thread pool.
    clean = db.make_engine(Settings(data_dir=tmp_path, db_url=clean_url))
    try:
        reference = list(
            JobRunner(clean, zone=SEOUL, workers=2).run(
                "daily", DAYS[0], DAYS[-1], partitions=PARTITIONS, today=DAYS[-1]
            )
        )
        assert reference[-1].type.value == "JOB_FINISHED", reference[-1].message
        mesh_engine = db.make_engine(Settings(data_dir=tmp_path, db_url=mesh_url))
        try:
            assert stats_snapshot(mesh_engine) == stats_snapshot(clean)
            assert len(stats_snapshot(clean)["daily"]) > len(DAYS) * 1000
        finally:
            mesh_engine.dispose()
    finally:
        clean.dispose()
