"""audience retention (DESIGN.md section 2c): video_daily_retention

One row per (video, local day) the batch computes: the day's counted views and, as 100
comma-separated counts, how many of them covered each 1% of the video's duration
(docs/statistics_settlement.md "Audience retention"). A new table only: days computed before
this revision have no row until the batch computes them again (the API then answers zeros).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_daily_retention",
        sa.Column("video_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.String(2100), nullable=False),
        sa.PrimaryKeyConstraint("video_id", "day", name=op.f("pk_video_daily_retention")),
    )


def downgrade() -> None:
    op.drop_table("video_daily_retention")
