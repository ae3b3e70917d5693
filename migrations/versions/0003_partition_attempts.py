"""partition attempts: a partition of an execution may be attempted more than once

A coordinator that dispatches partitions to worker instances retries a partition whose
worker was lost with a NEW partition_execution row (attempt 2, 3, ...): the lost attempt
stays FAILED in the history and can never complete afterwards (see batch/jobs/dispatch.py).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partition_execution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint("uq_partition_execution_job_execution_id_partition_key", type_="unique")
        batch_op.create_unique_constraint(
            "uq_partition_execution_job_execution_id_partition_key_attempt",
            ["job_execution_id", "partition_key", "attempt"],
        )


def downgrade() -> None:
    op.execute("DELETE FROM partition_execution WHERE attempt > 1")
    with op.batch_alter_table("partition_execution", schema=None) as batch_op:
        batch_op.drop_constraint("uq_partition_execution_job_execution_id_partition_key_attempt", type_="unique")
        batch_op.create_unique_constraint(
            "uq_partition_execution_job_execution_id_partition_key", ["job_execution_id", "partition_key"]
        )
        batch_op.drop_column("attempt")
