"""bank transfer files: each month's frozen files and the part each payout is in

DESIGN.md section 2b "Bank transfer file" (docs/ledger.md "The bank transfer file"): the
first download after a month's approval freezes its file (part 1) and a payout approved later
(a HELD payout released in an approved month) goes into a numbered supplementary file, so
payouts.transfer_part says which file holds a payout (NULL: none yet). transfer_files keeps
each file's bytes and SHA-256, so it is the same bytes every time it is asked for.

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
    op.add_column("payouts", sa.Column("transfer_part", sa.Integer, nullable=True))
    # The month's payouts, by status and payout_id (the month's payouts list, the files).
    op.create_index("ix_payouts_month_status", "payouts", ["month", "status", "payout_id"])
    op.create_table(
        "transfer_files",
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("part", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("total_krw", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary(2**32 - 1), nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("month", "part", name="pk_transfer_files"),
    )


def downgrade() -> None:
    op.drop_table("transfer_files")
    op.drop_index("ix_payouts_month_status", table_name="payouts")
    with op.batch_alter_table("payouts") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("transfer_part")
