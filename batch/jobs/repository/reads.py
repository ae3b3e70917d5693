"""Reads for operators: one execution or the newest ones, with their partition executions."""

from __future__ import annotations

import sqlalchemy as sa

from batch.jobs.model import (
    BatchStatus,
    JobExecution,
    PartitionExecution,
)
from batch.jobs.repository.partitions import partition_executions
from batch.jobs.repository.rows import (
    execution_of,
    execution_select,
    partition_of,
    with_partitions,
)
from batch.jobs.tables import job_execution, job_instance, partition_execution
from domain.errors import ExecutionNotFound


def get_execution(conn: sa.Connection, job_execution_id: int) -> JobExecution:
    row = conn.execute(execution_select().where(job_execution.c.job_execution_id == job_execution_id)).one_or_none()
    if row is None:
        raise ExecutionNotFound(f"job execution {job_execution_id} not found")
    execution = execution_of(row)
    return with_partitions(execution, partition_executions(conn, job_execution_id))


def recent_executions(conn: sa.Connection, limit: int = 20) -> list[JobExecution]:
    """The newest executions with their partition executions, newest first."""
    rows = conn.execute(execution_select().order_by(job_execution.c.job_execution_id.desc()).limit(limit)).all()
    executions = [execution_of(r) for r in rows]
    if not executions:
        return []
    parts: dict[int, list[PartitionExecution]] = {e.job_execution_id: [] for e in executions}
    for r in conn.execute(
        sa.select(partition_execution)
        .where(partition_execution.c.job_execution_id.in_(list(parts)))
        .order_by(partition_execution.c.video_id_lo, partition_execution.c.attempt)
    ):
        parts[r.job_execution_id].append(partition_of(r))
    return [with_partitions(e, parts[e.job_execution_id]) for e in executions]


def last_success_us(conn: sa.Connection) -> dict[str, int]:
    """Per job name, when its newest COMPLETED execution ended (µs): the batch's
    last-success gauge after a restart, before the process has run a job itself."""
    rows = conn.execute(
        sa.select(job_instance.c.job_name, sa.func.max(job_execution.c.ended_at_us))
        .join(job_instance, job_instance.c.job_instance_id == job_execution.c.job_instance_id)
        .where(job_execution.c.status == BatchStatus.COMPLETED.name)
        .group_by(job_instance.c.job_name)
    ).all()
    return {name: int(ended) for name, ended in rows if ended is not None}
