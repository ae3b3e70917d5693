"""The job repository on MariaDB and SQLite: unique instances, the launch guard, optimistic
locking, and recover of crashed executions."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys

import pytest
import sqlalchemy as sa

from batch.jobs import repository as repo
from batch.jobs.model import BatchStatus, Partition, RunKind
from batch.jobs.recovery import recover
from domain.errors import ExecutionNotFound

NOW = 1_700_000_000_000_000  # long ago: any heartbeat at NOW is stale
PLAN = [Partition("p0", 0, 100), Partition("p1", 100, 2**63 - 1)]


def _instance(engine, date="2026-11-01"):
    with engine.begin() as conn:
        return repo.insert_instance(conn, "daily", {"date": date}, NOW)


def _started_execution(engine, instance_id, *, owner="elsewhere:1", now=NOW):
    with engine.begin() as conn:
        execution_id = repo.insert_execution(conn, instance_id, owner=owner, now_us=now)
        version = repo.start_execution(
            conn, execution_id, version=0, run_kind=RunKind.FIRST, play_id_watermark=5, partitions=PLAN, now_us=now
        )
    return execution_id, version


def test_the_same_job_name_and_parameters_are_one_instance(engine):
    first = _instance(engine)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        repo.insert_instance(conn, "daily", {"date": "2026-11-01"}, NOW)
    with engine.connect() as conn:
        assert repo.find_instance(conn, "daily", {"date": "2026-11-01"}).job_instance_id == first.job_instance_id
        assert repo.find_instance(conn, "daily", {"date": "2026-11-02"}) is None


def test_a_second_execution_of_a_running_instance_is_refused_by_the_database(engine):
    instance = _instance(engine)
    other = _instance(engine, "2026-11-02")
    execution_id, _ = _started_execution(engine, instance.job_instance_id)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        repo.insert_execution(conn, instance.job_instance_id, owner="x:2", now_us=NOW)
    _started_execution(engine, other.job_instance_id)  # another instance is not blocked
    with engine.connect() as conn:
        assert repo.running_execution(conn, instance.job_instance_id).job_execution_id == execution_id


def test_an_ended_execution_releases_the_launch_guard(engine):
    instance = _instance(engine)
    execution_id, version = _started_execution(engine, instance.job_instance_id)
    with engine.begin() as conn:
        repo.end_execution(conn, execution_id, version, BatchStatus.COMPLETED, None, NOW + 1)
    second, _ = _started_execution(engine, instance.job_instance_id)
    assert second > execution_id


def test_an_update_based_on_an_old_version_is_a_lost_update_and_changes_nothing(engine):
    instance = _instance(engine)
    execution_id, version = _started_execution(engine, instance.job_instance_id)
    with engine.begin() as conn:
        repo.end_execution(conn, execution_id, version, BatchStatus.FAILED, "first", NOW + 1)
    with pytest.raises(repo.LostUpdate, match="FAILED: first"), engine.begin() as conn:
        repo.end_execution(conn, execution_id, version, BatchStatus.COMPLETED, None, NOW + 2)
    with engine.connect() as conn:
        assert repo.get_execution(conn, execution_id).status is BatchStatus.FAILED


def test_a_partition_marked_failed_by_recover_cannot_be_completed_afterwards(engine):
    instance = _instance(engine)
    execution_id, _ = _started_execution(engine, instance.job_instance_id)
    with engine.begin() as conn:
        (p0, _p1) = repo.partition_executions(conn, execution_id)
        repo.start_partition(conn, p0.partition_execution_id, worker="w", now_us=NOW)
        repo.fail_partition(conn, p0.partition_execution_id, error="abandoned", now_us=NOW)
    with pytest.raises(repo.LostUpdate), engine.begin() as conn:
        repo.complete_partition(conn, p0.partition_execution_id, rows_read=1, rows_written=1, now_us=NOW)


def test_a_missing_execution_is_not_found(engine):
    with pytest.raises(ExecutionNotFound), engine.connect() as conn:
        repo.get_execution(conn, 424242)


def test_recover_fails_a_stale_execution_of_another_host_and_its_unfinished_partitions(engine):
    instance = _instance(engine)
    execution_id, _ = _started_execution(engine, instance.job_instance_id, owner="far-away-host:77", now=NOW)
    with engine.begin() as conn:
        p0 = repo.partition_executions(conn, execution_id)[0]
        repo.start_partition(conn, p0.partition_execution_id, worker="w", now_us=NOW)
        repo.complete_partition(conn, p0.partition_execution_id, rows_read=3, rows_written=2, now_us=NOW)

    recovered, alive = recover(engine, stale_after_sec=30)

    assert [r.job_execution_id for r in recovered] == [execution_id] and alive == []
    assert recovered[0].partitions_failed == ("p1",)
    assert "heartbeat stale" in recovered[0].reason
    with engine.connect() as conn:
        execution = repo.get_execution(conn, execution_id)
        assert execution.status is BatchStatus.FAILED and "far-away-host:77" in execution.exit_message
        assert {p.partition_key: p.status for p in execution.partitions} == {
            "p0": BatchStatus.COMPLETED,
            "p1": BatchStatus.FAILED,
        }
        assert repo.running_execution(conn, instance.job_instance_id) is None
    _started_execution(engine, instance.job_instance_id)  # the guard is free again


def test_recover_leaves_executions_with_a_fresh_heartbeat_on_any_host(engine):
    remote = _instance(engine)
    local = _instance(engine, "2026-11-02")
    _started_execution(engine, remote.job_instance_id, owner="far-away-host:77", now=repo_now())
    _started_execution(engine, local.job_instance_id, owner=f"{socket.gethostname()}:{os.getpid()}", now=repo_now())

    recovered, alive = recover(engine, stale_after_sec=30)

    assert recovered == []
    assert sorted(a.reason for a in alive) == ["heartbeat is fresh", "owner process is alive on this host"]


def test_recover_fails_an_execution_whose_live_local_owner_stopped_beating(engine):
    instance = _instance(engine)
    execution_id, _ = _started_execution(
        engine, instance.job_instance_id, owner=f"{socket.gethostname()}:{os.getpid()}", now=NOW
    )

    recovered, _ = recover(engine, stale_after_sec=30)

    assert [r.job_execution_id for r in recovered] == [execution_id]
    assert "heartbeat stale" in recovered[0].reason


def test_recover_fails_at_once_an_execution_whose_local_owner_process_is_gone(engine):
    instance = _instance(engine)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    pid = int(gone.stdout)
    execution_id, _ = _started_execution(
        engine, instance.job_instance_id, owner=f"{socket.gethostname()}:{pid}", now=repo_now()
    )

    recovered, _ = recover(engine, stale_after_sec=3600)

    assert [r.job_execution_id for r in recovered] == [execution_id]
    assert "is gone" in recovered[0].reason


def repo_now() -> int:
    import time

    return time.time_ns() // 1000


@contextlib.contextmanager
def _statements(engine):
    """The SQL statements run on `engine` inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def test_recent_executions_are_newest_first_each_with_its_own_partitions_in_two_queries(engine):
    first, second, third = (_instance(engine, f"2026-11-0{d}") for d in (1, 2, 3))
    oldest, version = _started_execution(engine, first.job_instance_id)
    with engine.begin() as conn:
        p0 = repo.partition_executions(conn, oldest)[0]
        repo.start_partition(conn, p0.partition_execution_id, worker="w", now_us=NOW)
        repo.complete_partition(conn, p0.partition_execution_id, rows_read=7, rows_written=3, now_us=NOW + 5)
        repo.retry_partition(
            conn, repo.partition_executions(conn, oldest)[1].partition_execution_id, error="lost", now_us=NOW
        )
        repo.end_execution(conn, oldest, version, BatchStatus.FAILED, "p1 lost", NOW + 9)
    middle, _ = _started_execution(engine, second.job_instance_id)
    with engine.begin() as conn:  # an execution not started yet: no partitions
        newest = repo.insert_execution(conn, third.job_instance_id, owner="x:1", now_us=NOW)

    with engine.connect() as conn, _statements(engine) as statements:
        executions = repo.recent_executions(conn, 3)
    assert len(statements) == 2, statements  # executions, then all their partitions: not one query each

    assert [e.job_execution_id for e in executions] == [newest, middle, oldest]
    assert [e.parameters for e in executions] == [
        {"date": "2026-11-03"},
        {"date": "2026-11-02"},
        {"date": "2026-11-01"},
    ]
    assert executions[0].partitions == ()
    assert [(p.partition_key, p.status) for p in executions[1].partitions] == [
        ("p0", BatchStatus.STARTING),
        ("p1", BatchStatus.STARTING),
    ]
    failed = executions[2]
    assert failed.status is BatchStatus.FAILED and failed.exit_message == "p1 lost"
    assert [(p.partition_key, p.attempt, p.status) for p in failed.partitions] == [
        ("p0", 1, BatchStatus.COMPLETED),
        ("p1", 1, BatchStatus.FAILED),
        ("p1", 2, BatchStatus.STARTING),
    ]
    assert (failed.partitions[0].rows_read, failed.partitions[0].rows_written) == (7, 3)
    with engine.connect() as conn:
        assert [e.job_execution_id for e in repo.recent_executions(conn, 2)] == [newest, middle]
