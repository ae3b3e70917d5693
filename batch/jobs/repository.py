"""The job repository in SQL: instances, their fixed partition plans, executions, partitions.

Every function takes a connection inside the caller's transaction. Status changes of an
execution are optimistic-locked by its `version` column: an update that finds another
version (someone, e.g. `recover`, changed the row meanwhile) raises LostUpdate instead of
overwriting. The launch guard is the unique `running_instance_id` column (see
services/common/jobs_schema.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from batch.jobs.model import (
    BatchStatus,
    JobExecution,
    JobInstance,
    Partition,
    PartitionExecution,
    PartitionWork,
    RunKind,
    canonical_parameters,
    job_key,
)
from batch.jobs.tables import job_execution, job_instance, job_partition, partition_execution
from services.common.errors import ExecutionNotFound

RUNNING = [s.name for s in BatchStatus if s.is_running]


class LostUpdate(Exception):
    """The row changed under us (another process updated it): our update was not applied."""


# --- instances and their plans ----------------------------------------------------------


def find_instance(conn: sa.Connection, job_name: str, parameters: dict) -> JobInstance | None:
    row = conn.execute(
        sa.select(job_instance).where(
            job_instance.c.job_name == job_name, job_instance.c.job_key == job_key(parameters)
        )
    ).one_or_none()
    return _instance(row) if row else None


def insert_instance(conn: sa.Connection, job_name: str, parameters: dict, now_us: int) -> JobInstance:
    """Raises IntegrityError when a concurrent caller created it first."""
    result = conn.execute(
        job_instance.insert().values(
            job_name=job_name,
            job_key=job_key(parameters),
            parameters=canonical_parameters(parameters),
            created_at_us=now_us,
            version=0,
        )
    )
    return JobInstance(result.inserted_primary_key[0], job_name, dict(parameters))


def partition_plan(conn: sa.Connection, job_instance_id: int) -> list[Partition]:
    rows = conn.execute(
        sa.select(job_partition)
        .where(job_partition.c.job_instance_id == job_instance_id)
        .order_by(job_partition.c.video_id_lo)
    ).all()
    return [Partition(r.partition_key, r.video_id_lo, r.video_id_hi) for r in rows]


def save_partition_plan(conn: sa.Connection, job_instance_id: int, plan: Sequence[Partition]) -> None:
    conn.execute(
        job_partition.insert(),
        [
            {
                "job_instance_id": job_instance_id,
                "partition_key": p.key,
                "video_id_lo": p.video_id_lo,
                "video_id_hi": p.video_id_hi,
            }
            for p in plan
        ],
    )


# --- executions -------------------------------------------------------------------------


def insert_execution(conn: sa.Connection, job_instance_id: int, *, owner: str, now_us: int) -> int:
    """Takes the instance's launch guard: raises IntegrityError while another execution of
    the same instance holds it (is running, or crashed and not yet recovered)."""
    result = conn.execute(
        job_execution.insert().values(
            job_instance_id=job_instance_id,
            run_kind=RunKind.FIRST.value,
            status=BatchStatus.STARTING.name,
            running_instance_id=job_instance_id,
            created_at_us=now_us,
            heartbeat_at_us=now_us,
            owner=owner,
            version=0,
        )
    )
    return result.inserted_primary_key[0]


def running_execution(conn: sa.Connection, job_instance_id: int) -> JobExecution | None:
    """The execution holding the instance's launch guard, if any."""
    row = conn.execute(_execution_select().where(job_execution.c.running_instance_id == job_instance_id)).one_or_none()
    return _execution(row) if row else None


def previous_executions(conn: sa.Connection, job_instance_id: int, before_id: int) -> list[JobExecution]:
    """The instance's executions older than `before_id`, newest first."""
    rows = conn.execute(
        _execution_select()
        .where(
            job_execution.c.job_instance_id == job_instance_id,
            job_execution.c.job_execution_id < before_id,
        )
        .order_by(job_execution.c.job_execution_id.desc())
    ).all()
    return [_execution(r) for r in rows]


def completed_partition_keys(conn: sa.Connection, execution_ids: Iterable[int]) -> set[str]:
    ids = list(execution_ids)
    if not ids:
        return set()
    rows = conn.execute(
        sa.select(partition_execution.c.partition_key).where(
            partition_execution.c.job_execution_id.in_(ids),
            partition_execution.c.status == BatchStatus.COMPLETED.name,
        )
    ).all()
    return {r.partition_key for r in rows}


def plays_read(conn: sa.Connection, execution_ids: Iterable[int], plan_keys: Iterable[str]) -> int | None:
    """The plays a day's computation read: the sum of rows_read of the one COMPLETED attempt
    of each partition of the plan within these executions (an execution and the earlier
    ones it restarted). None if a partition of the plan has no completed attempt there."""
    ids = list(execution_ids)
    keys = set(plan_keys)
    read: dict[str, tuple[int, int]] = {}
    for r in conn.execute(
        sa.select(
            partition_execution.c.partition_key,
            partition_execution.c.partition_execution_id,
            partition_execution.c.rows_read,
        ).where(
            partition_execution.c.job_execution_id.in_(ids),
            partition_execution.c.status == BatchStatus.COMPLETED.name,
        )
    ):
        newest = read.get(r.partition_key)
        if newest is None or r.partition_execution_id > newest[0]:
            read[r.partition_key] = (r.partition_execution_id, r.rows_read)
    if not ids or not keys or not keys <= set(read):
        return None
    return sum(int(read[key][1]) for key in keys)


def start_execution(
    conn: sa.Connection,
    job_execution_id: int,
    *,
    version: int,
    run_kind: RunKind,
    play_id_watermark: int,
    partitions: Sequence[Partition],
    now_us: int,
) -> int:
    """STARTING -> STARTED with its partition executions (STARTING); returns the new version."""
    new_version = update_execution(
        conn,
        job_execution_id,
        version,
        run_kind=run_kind.value,
        status=BatchStatus.STARTED.name,
        play_id_watermark=play_id_watermark,
        started_at_us=now_us,
        heartbeat_at_us=now_us,
    )
    if partitions:
        conn.execute(
            partition_execution.insert(),
            [
                {
                    "job_execution_id": job_execution_id,
                    "partition_key": p.key,
                    "video_id_lo": p.video_id_lo,
                    "video_id_hi": p.video_id_hi,
                    "status": BatchStatus.STARTING.name,
                    "rows_read": 0,
                    "rows_written": 0,
                    "created_at_us": now_us,
                    "version": 0,
                }
                for p in partitions
            ],
        )
    return new_version


def update_execution(conn: sa.Connection, job_execution_id: int, version: int, **values) -> int:
    """A versioned update; returns the new version or raises LostUpdate."""
    if "status" in values and not BatchStatus[values["status"]].is_running:
        values["running_instance_id"] = None  # an ended execution releases the launch guard
    result = conn.execute(
        job_execution.update()
        .where(job_execution.c.job_execution_id == job_execution_id, job_execution.c.version == version)
        .values(version=version + 1, **values)
    )
    if result.rowcount != 1:
        current = conn.execute(
            sa.select(job_execution.c.status, job_execution.c.exit_message).where(
                job_execution.c.job_execution_id == job_execution_id
            )
        ).one_or_none()
        detail = f"now {current.status}: {current.exit_message}" if current else "row is gone"
        raise LostUpdate(f"job execution {job_execution_id} was changed by another process ({detail})")
    return version + 1


def end_execution(
    conn: sa.Connection, job_execution_id: int, version: int, status: BatchStatus, message: str | None, now_us: int
) -> int:
    return update_execution(
        conn, job_execution_id, version, status=status.name, exit_message=message, ended_at_us=now_us
    )


def heartbeat(conn: sa.Connection, job_execution_id: int, now_us: int) -> bool:
    """Refreshes the heartbeat of a running execution; False if it is no longer running
    (e.g. `recover` declared it crashed). Not versioned: it races with nothing that matters."""
    result = conn.execute(
        job_execution.update()
        .where(job_execution.c.job_execution_id == job_execution_id, job_execution.c.status.in_(RUNNING))
        .values(heartbeat_at_us=now_us)
    )
    return result.rowcount == 1


def running_executions(conn: sa.Connection) -> list[JobExecution]:
    rows = conn.execute(
        _execution_select().where(job_execution.c.status.in_(RUNNING)).order_by(job_execution.c.job_execution_id)
    ).all()
    return [_execution(r) for r in rows]


def mark_crashed(conn: sa.Connection, execution: JobExecution, message: str, now_us: int) -> list[str]:
    """Declares a crashed execution FAILED (restartable) and its unfinished partitions
    FAILED; releases the launch guard. Returns the keys of the partitions it failed."""
    end_execution(conn, execution.job_execution_id, execution.version, BatchStatus.FAILED, message, now_us)
    unfinished = [
        r.partition_key
        for r in conn.execute(
            sa.select(partition_execution.c.partition_key).where(
                partition_execution.c.job_execution_id == execution.job_execution_id,
                partition_execution.c.status.in_(RUNNING),
            )
        )
    ]
    conn.execute(
        partition_execution.update()
        .where(
            partition_execution.c.job_execution_id == execution.job_execution_id,
            partition_execution.c.status.in_(RUNNING),
        )
        .values(
            status=BatchStatus.FAILED.name,
            error=f"abandoned: {message}",
            ended_at_us=now_us,
            version=partition_execution.c.version + 1,
        )
    )
    return sorted(unfinished)


# --- partition executions ---------------------------------------------------------------


def partition_executions(conn: sa.Connection, job_execution_id: int) -> list[PartitionExecution]:
    """Every attempt of every partition of the execution, by video range then attempt."""
    rows = conn.execute(
        sa.select(partition_execution)
        .where(partition_execution.c.job_execution_id == job_execution_id)
        .order_by(partition_execution.c.video_id_lo, partition_execution.c.attempt)
    ).all()
    return [_partition(r) for r in rows]


def get_partition_execution(conn: sa.Connection, partition_execution_id: int) -> PartitionExecution:
    row = conn.execute(
        sa.select(partition_execution).where(partition_execution.c.partition_execution_id == partition_execution_id)
    ).one_or_none()
    if row is None:
        raise ExecutionNotFound(f"partition execution {partition_execution_id} not found")
    return _partition(row)


def partition_work(conn: sa.Connection, partition_execution_id: int) -> PartitionWork:
    """The partition attempt with its job's name and identifying parameters (the day)."""
    pe = partition_execution
    row = conn.execute(
        sa.select(pe, job_instance.c.job_name, job_instance.c.parameters)
        .join(job_execution, job_execution.c.job_execution_id == pe.c.job_execution_id)
        .join(job_instance, job_instance.c.job_instance_id == job_execution.c.job_instance_id)
        .where(pe.c.partition_execution_id == partition_execution_id)
    ).one_or_none()
    if row is None:
        raise ExecutionNotFound(f"partition execution {partition_execution_id} not found")
    return PartitionWork(
        partition_execution_id=row.partition_execution_id,
        job_execution_id=row.job_execution_id,
        job_name=row.job_name,
        parameters=json.loads(row.parameters),
        partition_key=row.partition_key,
        video_id_lo=row.video_id_lo,
        video_id_hi=row.video_id_hi,
        status=BatchStatus[row.status],
        attempt=row.attempt,
    )


def retry_partition(conn: sa.Connection, partition_execution_id: int, *, error: str, now_us: int) -> PartitionExecution:
    """After a lost dispatch: fails the attempt (if it is still running) and adds the next
    attempt (STARTING), in the caller's transaction. Returns the new attempt; or, when the
    lost attempt had COMPLETED after all (its worker committed, then the stream broke), that
    attempt, unchanged. Failing the attempt fences its worker if it is in fact alive: its
    COMPLETED mark needs STARTED (complete_partition), so it rolls its writes back."""
    current = conn.execute(
        sa.select(partition_execution)
        .where(partition_execution.c.partition_execution_id == partition_execution_id)
        .with_for_update()
    ).one_or_none()
    if current is None:
        raise ExecutionNotFound(f"partition execution {partition_execution_id} not found")
    if current.status == BatchStatus.COMPLETED.name:
        return _partition(current)
    fail_partition(conn, partition_execution_id, error=error, now_us=now_us)
    result = conn.execute(
        partition_execution.insert().values(
            job_execution_id=current.job_execution_id,
            partition_key=current.partition_key,
            video_id_lo=current.video_id_lo,
            video_id_hi=current.video_id_hi,
            status=BatchStatus.STARTING.name,
            rows_read=0,
            rows_written=0,
            created_at_us=now_us,
            version=0,
            attempt=current.attempt + 1,
        )
    )
    return get_partition_execution(conn, result.inserted_primary_key[0])


def start_partition(conn: sa.Connection, partition_execution_id: int, *, worker: str, now_us: int) -> None:
    _update_partition(
        conn,
        partition_execution_id,
        BatchStatus.STARTING,
        status=BatchStatus.STARTED.name,
        started_at_us=now_us,
        worker=worker,
    )


def complete_partition(
    conn: sa.Connection, partition_execution_id: int, *, rows_read: int, rows_written: int, now_us: int
) -> None:
    """Call in the transaction of the partition's writes: it commits iff the partition was
    still ours (STARTED), so COMPLETED means exactly 'its writes are committed'."""
    _update_partition(
        conn,
        partition_execution_id,
        BatchStatus.STARTED,
        status=BatchStatus.COMPLETED.name,
        rows_read=rows_read,
        rows_written=rows_written,
        ended_at_us=now_us,
    )


def fail_partition(conn: sa.Connection, partition_execution_id: int, *, error: str, now_us: int) -> None:
    conn.execute(
        partition_execution.update()
        .where(
            partition_execution.c.partition_execution_id == partition_execution_id,
            partition_execution.c.status.in_(RUNNING),
        )
        .values(
            status=BatchStatus.FAILED.name,
            error=error[:8000],
            ended_at_us=now_us,
            version=partition_execution.c.version + 1,
        )
    )


def stop_partitions(conn: sa.Connection, job_execution_id: int, now_us: int) -> None:
    """Partitions that never began (a stop was asked, or the job failed first): STOPPED."""
    conn.execute(
        partition_execution.update()
        .where(
            partition_execution.c.job_execution_id == job_execution_id,
            partition_execution.c.status == BatchStatus.STARTING.name,
        )
        .values(status=BatchStatus.STOPPED.name, ended_at_us=now_us, version=partition_execution.c.version + 1)
    )


def _update_partition(conn, partition_execution_id: int, expected: BatchStatus, **values) -> None:
    result = conn.execute(
        partition_execution.update()
        .where(
            partition_execution.c.partition_execution_id == partition_execution_id,
            partition_execution.c.status == expected.name,
        )
        .values(version=partition_execution.c.version + 1, **values)
    )
    if result.rowcount != 1:
        raise LostUpdate(
            f"partition execution {partition_execution_id} is no longer {expected.name} "
            "(changed by another process: recover, or a coordinator that gave this attempt up)"
        )


# --- reads for operators ----------------------------------------------------------------


def get_execution(conn: sa.Connection, job_execution_id: int) -> JobExecution:
    row = conn.execute(_execution_select().where(job_execution.c.job_execution_id == job_execution_id)).one_or_none()
    if row is None:
        raise ExecutionNotFound(f"job execution {job_execution_id} not found")
    execution = _execution(row)
    return _with_partitions(execution, partition_executions(conn, job_execution_id))


def recent_executions(conn: sa.Connection, limit: int = 20) -> list[JobExecution]:
    """The newest executions with their partition executions, newest first."""
    rows = conn.execute(_execution_select().order_by(job_execution.c.job_execution_id.desc()).limit(limit)).all()
    executions = [_execution(r) for r in rows]
    if not executions:
        return []
    parts: dict[int, list[PartitionExecution]] = {e.job_execution_id: [] for e in executions}
    for r in conn.execute(
        sa.select(partition_execution)
        .where(partition_execution.c.job_execution_id.in_(list(parts)))
        .order_by(partition_execution.c.video_id_lo, partition_execution.c.attempt)
    ):
        parts[r.job_execution_id].append(_partition(r))
    return [_with_partitions(e, parts[e.job_execution_id]) for e in executions]


# --- mapping ----------------------------------------------------------------------------


def _execution_select() -> sa.Select:
    return sa.select(job_execution, job_instance.c.job_name, job_instance.c.parameters).join(
        job_instance, job_instance.c.job_instance_id == job_execution.c.job_instance_id
    )


def _instance(row) -> JobInstance:
    return JobInstance(row.job_instance_id, row.job_name, json.loads(row.parameters))


def _execution(row) -> JobExecution:
    return JobExecution(
        job_execution_id=row.job_execution_id,
        job_instance_id=row.job_instance_id,
        job_name=row.job_name,
        parameters=json.loads(row.parameters),
        run_kind=RunKind(row.run_kind),
        status=BatchStatus[row.status],
        play_id_watermark=row.play_id_watermark,
        created_at_us=row.created_at_us,
        started_at_us=row.started_at_us,
        ended_at_us=row.ended_at_us,
        heartbeat_at_us=row.heartbeat_at_us,
        owner=row.owner,
        exit_message=row.exit_message,
        version=row.version,
    )


def _partition(row) -> PartitionExecution:
    return PartitionExecution(
        partition_execution_id=row.partition_execution_id,
        job_execution_id=row.job_execution_id,
        partition_key=row.partition_key,
        video_id_lo=row.video_id_lo,
        video_id_hi=row.video_id_hi,
        status=BatchStatus[row.status],
        rows_read=row.rows_read,
        rows_written=row.rows_written,
        started_at_us=row.started_at_us,
        ended_at_us=row.ended_at_us,
        error=row.error,
        worker=row.worker,
        attempt=row.attempt,
    )


def _with_partitions(execution: JobExecution, parts: list[PartitionExecution]) -> JobExecution:
    return dataclasses.replace(execution, partitions=tuple(parts))
