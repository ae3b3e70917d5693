"""audience retention (DESIGN.md section 2c): video_daily_retention

One row per (video, local day) the batch computes: the day's counted views and, as
`point:delta` pairs, the changes from point to point of how many of them covered each 1% of
the video's duration (docs/statistics_settlement.md "Audience retention"). A new table only: days computed before
this revision have no row until the batch computes them again (the API then answers zeros).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_daily_retention",
        sa.Column("video_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("point_deltas", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("video_id", "day", name=op.f("pk_video_daily_retention")),
    )


def downgrade() -> None:
    op.drop_table("video_daily_retention")
