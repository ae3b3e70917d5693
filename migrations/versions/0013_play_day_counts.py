"""play_day_counts: plays per local day, kept by the writers of `plays`

The batch's late-data check (batch/computed_days.py) compared each computed day's
plays_read with a COUNT(*) over the day's plays: about 0.1 s per million stored plays before
every run, growing with the history. Ingest now adds what it stores to this table in the same
transaction (services/video/play_counts.py), and the check reads a few rows per day. The
upgrade fills the table from the plays already stored (one slot per day) and drops
ix_plays_day_arrival, which only the old check read (one index less for ingest to write).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "play_day_counts",
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("plays", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("local_day", "slot", name=op.f("pk_play_day_counts")),
    )
    op.execute(
        "INSERT INTO play_day_counts (local_day, slot, plays)"
        " SELECT local_day, 0, COUNT(*) FROM plays GROUP BY local_day"
    )
    op.drop_index("ix_plays_day_arrival", table_name="plays")


def downgrade() -> None:
    op.create_index("ix_plays_day_arrival", "plays", ["local_day", "play_id"])
    op.drop_table("play_day_counts")
