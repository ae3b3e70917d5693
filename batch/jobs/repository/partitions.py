"""Partition executions: one row per attempt of a partition, its start, end and retry."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from batch.jobs.model import (
    BatchStatus,
    PartitionExecution,
    PartitionWork,
)
from batch.jobs.repository.rows import (
    RUNNING,
    LostUpdate,
    inserted_id,
    partition_of,
)
from batch.jobs.tables import job_execution, job_instance, partition_execution
from domain.errors import ExecutionNotFound


def partition_executions(conn: sa.Connection, job_execution_id: int) -> list[PartitionExecution]:
    """Every attempt of every partition of the execution, by video range then attempt."""
    rows = conn.execute(
        sa.select(partition_execution)
        .where(partition_execution.c.job_execution_id == job_execution_id)
        .order_by(partition_execution.c.video_id_lo, partition_execution.c.attempt)
    ).all()
    return [partition_of(r) for r in rows]


def get_partition_execution(conn: sa.Connection, partition_execution_id: int) -> PartitionExecution:
    row = conn.execute(
        sa.select(partition_execution).where(partition_execution.c.partition_execution_id == partition_execution_id)
    ).one_or_none()
    if row is None:
        raise ExecutionNotFound(f"partition execution {partition_execution_id} not found")
    return partition_of(row)


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
        return partition_of(current)
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
    return get_partition_execution(conn, inserted_id(result))


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


def _update_partition(conn: sa.Connection, partition_execution_id: int, expected: BatchStatus, **values: Any) -> None:
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
