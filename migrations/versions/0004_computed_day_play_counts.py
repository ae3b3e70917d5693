"""computed days remember how many of their plays the computation read

Late-data detection by play_id watermark alone misses a play whose id was allocated before
the watermark was read but whose transaction committed after the day was computed (InnoDB
allocates auto-increment ids at insert time; rows become visible at commit). Plays are never
deleted, so a day whose current number of plays exceeds the number its computation read got
late data, whatever the commit order (see batch/steps/days.py).

Days computed before this revision have no count (NULL): days_to_compute treats them as stale,
so the first catch-up after the upgrade recomputes them once, exactly.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("computed_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plays_read", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("computed_days", schema=None) as batch_op:
        batch_op.drop_column("plays_read")
