"""the stream limit (DESIGN.md section 2 "Counted view" 5): excluded_stream_limit, and the
plays over the limit per day

`excluded_stream_limit` on daily_video_stats and period_video_stats: how many playbacks of
the (video, day) or (video, period) were attributed to the stream limit (docs/rules.md).
Existing rows get 0 until their day is recomputed (the rule did not exist when they were).

`stream_limited_plays`: the plays of a local day over the stream limit, written by the
batch's viewer-keyed step before the day's partitions by video range, which read it
(batch/steps/streams.py, docs/batch-jobs.md). Its key starts with the day (the step
rewrites a whole day) and then follows the partitions' reads (video range, viewer, play).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLES = ["daily_video_stats", "period_video_stats"]


def _event_id_type(bind):
    if bind.dialect.name in ("mysql", "mariadb"):
        collation = "utf8mb4_nopad_bin" if getattr(bind.dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
        return mysql.VARCHAR(128, charset="utf8mb4", collation=collation)
    return sa.String(128)


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("excluded_stream_limit", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "stream_limited_plays",
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("video_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("viewer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("started_at_us", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_id", _event_id_type(op.get_bind()), nullable=False),
        sa.PrimaryKeyConstraint(
            "local_day", "video_id", "viewer_id", "started_at_us", "event_id", name=op.f("pk_stream_limited_plays")
        ),
    )


def downgrade() -> None:
    op.drop_table("stream_limited_plays")
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("excluded_stream_limit")
