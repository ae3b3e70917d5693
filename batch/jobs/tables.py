"""The batch job repository's tables (instances, executions, partitions), written only by
batch/jobs/repository; on the one shared metadata, so that the migrations see them.

Portable between MySQL/MariaDB and SQLite; instants are UTC epoch microseconds.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.common.sqltypes import Id
from services.common.tables import metadata

# One row per job name + identifying parameters. `job_key` is the SHA-256 of the canonical
# JSON of the identifying parameters, so the unique key has a fixed, index-friendly width.
job_instance = sa.Table(
    "job_instance",
    metadata,
    sa.Column("job_instance_id", Id, primary_key=True, autoincrement=True),
    sa.Column("job_name", sa.String(64), nullable=False),
    sa.Column("job_key", sa.String(64), nullable=False),
    sa.Column("parameters", sa.String(1000), nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("job_name", "job_key"),
)

# The partition plan of an instance, fixed when the instance is first split: every later
# execution (restart, re-run) works on exactly these ranges [video_id_lo, video_id_hi).
job_partition = sa.Table(
    "job_partition",
    metadata,
    sa.Column("job_instance_id", sa.BigInteger, primary_key=True),
    sa.Column("partition_key", sa.String(32), primary_key=True),
    sa.Column("video_id_lo", sa.BigInteger, nullable=False),
    sa.Column("video_id_hi", sa.BigInteger, nullable=False),
)

# One row per attempt at an instance.
job_execution = sa.Table(
    "job_execution",
    metadata,
    sa.Column("job_execution_id", Id, primary_key=True, autoincrement=True),
    sa.Column("job_instance_id", sa.BigInteger, nullable=False, index=True),
    # FIRST | RESTART (only partitions that did not complete) | RERUN (asked) | STALE (late data)
    sa.Column("run_kind", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    # The launch guard: equals job_instance_id while the execution may be running, NULL once it
    # ended. Unique, so a second concurrent launch of the same instance fails to insert its row
    # (several NULLs are allowed by a unique index on MySQL and SQLite alike).
    sa.Column("running_instance_id", sa.BigInteger, nullable=True, unique=True),
    # The highest play_id seen before computing (late-data detection); a restart keeps the
    # watermark of the execution it continues, since its completed partitions saw only that.
    sa.Column("play_id_watermark", sa.BigInteger, nullable=True),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("started_at_us", sa.BigInteger, nullable=True),
    sa.Column("ended_at_us", sa.BigInteger, nullable=True),
    sa.Column("heartbeat_at_us", sa.BigInteger, nullable=True),
    sa.Column("owner", sa.String(255), nullable=False),  # host:pid of the process running it
    sa.Column("exit_message", sa.Text, nullable=True),
    sa.Column("version", sa.BigInteger, nullable=False),  # optimistic lock against lost updates
    sa.Index("ix_job_execution_status_heartbeat", "status", "heartbeat_at_us"),
)

# One row per attempt at one partition of an instance, within one job execution. A partition
# whose worker was lost (dispatch mode) gets a new row with the next `attempt` number; the
# lost attempt stays FAILED, so it can never complete afterwards.
partition_execution = sa.Table(
    "partition_execution",
    metadata,
    sa.Column("partition_execution_id", Id, primary_key=True, autoincrement=True),
    sa.Column("job_execution_id", sa.BigInteger, nullable=False),
    sa.Column("partition_key", sa.String(32), nullable=False),
    sa.Column("video_id_lo", sa.BigInteger, nullable=False),
    sa.Column("video_id_hi", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows_read", sa.BigInteger, nullable=False),
    sa.Column("rows_written", sa.BigInteger, nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("started_at_us", sa.BigInteger, nullable=True),
    sa.Column("ended_at_us", sa.BigInteger, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("worker", sa.String(255), nullable=True),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="1"),
    sa.UniqueConstraint("job_execution_id", "partition_key", "attempt"),
)
