"""daily and period video stats say how many playbacks each counted-view rule excluded

Explainability (DESIGN.md section 2 "Counted view" 1-4): per (video, day) and per (video,
period), the playbacks read and how many of them were not a view because of the self-view,
overlap, repeat or daily-cap rule (each playback is attributed to the strongest rule that
applies, see docs/rules.md). Existing rows get 0 until their day is recomputed.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ["plays", "excluded_self_view", "excluded_overlap", "excluded_repeat", "excluded_cap"]
TABLES = ["daily_video_stats", "period_video_stats"]


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in COLUMNS:
                batch_op.add_column(sa.Column(column, sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in COLUMNS:
                batch_op.drop_column(column)
