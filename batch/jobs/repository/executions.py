"""Job executions: the launch guard, starts and versioned status changes, heartbeats, crashes.

Status changes are optimistic-locked by the `version` column: an update that finds another
version raises LostUpdate instead of overwriting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from batch.jobs.model import (
    BatchStatus,
    JobExecution,
    Partition,
    RunKind,
)
from batch.jobs.repository.rows import (
    RUNNING,
    LostUpdate,
    execution_of,
    execution_select,
    inserted_id,
)
from batch.jobs.tables import job_execution, partition_execution


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
    return inserted_id(result)


def running_execution(conn: sa.Connection, job_instance_id: int) -> JobExecution | None:
    """The execution holding the instance's launch guard, if any."""
    row = conn.execute(execution_select().where(job_execution.c.running_instance_id == job_instance_id)).one_or_none()
    return execution_of(row) if row else None


def previous_executions(conn: sa.Connection, job_instance_id: int, before_id: int) -> list[JobExecution]:
    """The instance's executions older than `before_id`, newest first."""
    rows = conn.execute(
        execution_select()
        .where(
            job_execution.c.job_instance_id == job_instance_id,
            job_execution.c.job_execution_id < before_id,
        )
        .order_by(job_execution.c.job_execution_id.desc())
    ).all()
    return [execution_of(r) for r in rows]


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


def update_execution(conn: sa.Connection, job_execution_id: int, version: int, **values: Any) -> int:
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
        execution_select().where(job_execution.c.status.in_(RUNNING)).order_by(job_execution.c.job_execution_id)
    ).all()
    return [execution_of(r) for r in rows]


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
