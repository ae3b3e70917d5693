"""plays: an index on started_at_us, for the batch's read of the plays just before a day

The daily step (batch/steps/daily.py) needs, for the first play of a viewer-video pair on a
day, the pair's previous playback if it started at most max(30 s, duration / 2) before the
day (rules 2-3 across midnight, DESIGN.md section 2). With this index it reads those plays
once as one range of start instants, instead of one dive per play into ix_plays_repeat
(docs/batch-jobs.md, "The batch's speed with rules 3 and 4"). New index only: no data changes.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_plays_started", "plays", ["started_at_us"])


def downgrade() -> None:
    op.drop_index("ix_plays_started", table_name="plays")
