"""the primary's heartbeat, read on read replicas

One row that the batch instances update every second (and once after each job's commit):
read on a replica, `beat_us` says how far behind it is (lag = now - beat_us; replication's
own status column reads 0 while the SQL thread is stopped) and `seq` whether it has
applied a job's figures (services/readpath/replicas.py). New table only.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replica_heartbeat",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("beat_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replica_heartbeat")),
    )


def downgrade() -> None:
    op.drop_table("replica_heartbeat")
