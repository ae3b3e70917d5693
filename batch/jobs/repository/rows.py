"""What every part of the repository shares: rows mapped to the job model, the running
statuses, and LostUpdate."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import sqlalchemy as sa

from batch.jobs.model import (
    BatchStatus,
    JobExecution,
    JobInstance,
    PartitionExecution,
    RunKind,
)
from batch.jobs.tables import job_execution, job_instance

RUNNING = [s.name for s in BatchStatus if s.is_running]


class LostUpdate(Exception):
    """The row changed under us (another process updated it): our update was not applied."""


def execution_select() -> sa.Select[Any]:
    return sa.select(job_execution, job_instance.c.job_name, job_instance.c.parameters).join(
        job_instance, job_instance.c.job_instance_id == job_execution.c.job_instance_id
    )


def instance_of(row: sa.Row[Any]) -> JobInstance:
    return JobInstance(row.job_instance_id, row.job_name, json.loads(row.parameters))


def execution_of(row: sa.Row[Any]) -> JobExecution:
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


def partition_of(row: sa.Row[Any]) -> PartitionExecution:
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


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the one row an INSERT added."""
    key = result.inserted_primary_key
    assert key is not None  # a single-row INSERT always has one
    return int(key[0])


def with_partitions(execution: JobExecution, parts: list[PartitionExecution]) -> JobExecution:
    return dataclasses.replace(execution, partitions=tuple(parts))
