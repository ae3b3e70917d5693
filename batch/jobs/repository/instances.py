"""Job instances (a job name and its parameters) and their fixed partition plans."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from batch.jobs.model import (
    JobInstance,
    JobParameters,
    Partition,
    canonical_parameters,
    job_key,
)
from batch.jobs.repository.rows import (
    inserted_id,
    instance_of,
)
from batch.jobs.tables import job_instance, job_partition


def find_instance(conn: sa.Connection, job_name: str, parameters: JobParameters) -> JobInstance | None:
    row = conn.execute(
        sa.select(job_instance).where(
            job_instance.c.job_name == job_name, job_instance.c.job_key == job_key(parameters)
        )
    ).one_or_none()
    return instance_of(row) if row else None


def insert_instance(conn: sa.Connection, job_name: str, parameters: JobParameters, now_us: int) -> JobInstance:
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
    return JobInstance(inserted_id(result), job_name, dict(parameters))


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
