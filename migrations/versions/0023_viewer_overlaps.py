"""the stream limit decided from the plays that touch another: viewer_overlaps

`ix_plays_viewer` on plays (a viewer's plays in time order), `viewer_overlaps` (a copy of every
play whose running time touches another play of the same viewer), `viewer_busy_days` (viewers
whose day the batch reads whole), `viewer_ingest_locks` (one row
per viewer, locked by ingest to store one viewer's plays one transaction at a time) and the two
triggers on plays that keep `viewer_overlaps` (services/video/overlaps.py). Existing plays are
marked here, set-based; the batch's stream-limit step then sweeps `viewer_overlaps` instead of
every play of the day (batch/steps/streams.py, docs/batch-jobs.md "The stream limit").

The triggers' text comes from services/video/overlaps.py: a later change of it comes with a
revision that drops and creates them again.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

from services.video import overlaps

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_plays_viewer",
        "plays",
        ["viewer_id", "started_at_us", "video_id", "start_position_sec", "end_position_sec"],
    )
    op.create_table(
        "viewer_overlaps",
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("viewer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("started_at_us", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("play_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("video_id", sa.BigInteger(), nullable=False),
        sa.Column("start_position_sec", sa.BigInteger(), nullable=False),
        sa.Column("end_position_sec", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("local_day", "viewer_id", "started_at_us", "play_id", name=op.f("pk_viewer_overlaps")),
    )
    op.create_index("ix_viewer_overlaps_started", "viewer_overlaps", ["started_at_us"])
    op.create_table(
        "viewer_busy_days",
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("viewer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("local_day", "viewer_id", name=op.f("pk_viewer_busy_days")),
    )
    op.create_table(
        "viewer_ingest_locks",
        sa.Column("viewer_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("viewer_id", name=op.f("pk_viewer_ingest_locks")),
    )
    bind = op.get_bind()
    dialect = "sqlite" if bind.dialect.name == "sqlite" else "mysql"
    for sql in overlaps.create_triggers_sql(dialect):
        bind.exec_driver_sql(sql)
    for sql in overlaps.backfill_sql(dialect):
        bind.exec_driver_sql(sql)


def downgrade() -> None:
    bind = op.get_bind()
    for sql in overlaps.drop_triggers_sql():
        bind.exec_driver_sql(sql)
    op.drop_table("viewer_ingest_locks")
    op.drop_table("viewer_busy_days")
    op.drop_index("ix_viewer_overlaps_started", table_name="viewer_overlaps")
    op.drop_table("viewer_overlaps")
    op.drop_index("ix_plays_viewer", table_name="plays")
