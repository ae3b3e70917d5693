"""the ledger: closed months, frozen lines and days, ledger entries, payouts, payout minimums

DESIGN.md section 2a (docs/ledger.md): closing a month freezes its lines and posts immutable
ledger entries; a seller's balance is the sum of their entries. `payout_minimums` starts with
10,000 KRW in force from 1970-01-01. New tables only: nothing existing changes.

Revision ID: 0010
Revises: 0009
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Money = sa.Numeric(24, 4).with_variant(sa.Text(), "sqlite")  # exact text on SQLite, as 0009


def upgrade() -> None:
    op.create_table(
        "month_closings",
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("closed_at_us", sa.BigInteger, nullable=False),
        sa.Column("closed_by", sa.BigInteger, nullable=False),
        sa.Column("sellers", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.BigInteger, nullable=False),
        sa.Column("earnings", Money, nullable=False),
        sa.Column("adjustment_lines", sa.BigInteger, nullable=False),
        sa.Column("adjustments", Money, nullable=False),
        sa.Column("payouts_created", sa.BigInteger, nullable=False),
        sa.Column("payouts_krw", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("month", name="pk_month_closings"),
    )
    op.create_table(
        "closed_lines",
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("video_id", sa.BigInteger, nullable=False),
        sa.Column("seller_id", sa.BigInteger, nullable=False),
        sa.Column("views", sa.BigInteger, nullable=False),
        sa.Column("ad_views", sa.BigInteger, nullable=False),
        sa.Column("video_revenue", Money, nullable=False),
        sa.Column("ad_revenue", Money, nullable=False),
        sa.PrimaryKeyConstraint("month", "video_id", name="pk_closed_lines"),
    )
    op.create_index("ix_closed_lines_seller_month", "closed_lines", ["seller_id", "month"])
    op.create_table(
        "frozen_days",
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("frozen_at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_frozen_days"),
    )
    op.create_table(
        "frozen_daily_stats",
        sa.Column("video_id", sa.BigInteger, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("seller_id", sa.BigInteger, nullable=False),
        sa.Column("views", sa.BigInteger, nullable=False),
        sa.Column("ad_views", sa.BigInteger, nullable=False),
        sa.Column("video_revenue", Money, nullable=False),
        sa.Column("ad_revenue", Money, nullable=False),
        sa.PrimaryKeyConstraint("video_id", "day", name="pk_frozen_daily_stats"),
    )
    op.create_index("ix_frozen_daily_stats_seller_day", "frozen_daily_stats", ["seller_id", "day"])
    op.create_table(
        "ledger_entries",
        sa.Column("entry_id", Id, autoincrement=True, nullable=False),
        sa.Column("seller_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("posted_month", sa.Date, nullable=False),
        sa.Column("original_month", sa.Date, nullable=True),
        sa.Column("video_id", sa.BigInteger, nullable=True),
        sa.Column("payout_id", sa.BigInteger, nullable=True),
        sa.Column("amount", Money, nullable=False),
        sa.Column("posted_at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_ledger_entries"),
    )
    op.create_index("ix_ledger_entries_seller_month", "ledger_entries", ["seller_id", "posted_month", "entry_id"])
    op.create_index("ix_ledger_entries_original", "ledger_entries", ["original_month", "video_id"])
    op.create_table(
        "payouts",
        sa.Column("payout_id", Id, autoincrement=True, nullable=False),
        sa.Column("seller_id", sa.BigInteger, nullable=False),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("amount_krw", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("payout_id", name="pk_payouts"),
        sa.UniqueConstraint("seller_id", "month", name="uq_payouts_seller_id_month"),
    )
    minimums = op.create_table(
        "payout_minimums",
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("minimum_krw", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("effective_from", name="pk_payout_minimums"),
    )
    op.bulk_insert(minimums, [{"effective_from": dt.date(1970, 1, 1), "minimum_krw": 10_000}])


def downgrade() -> None:
    for table in ["payout_minimums", "payouts", "ledger_entries", "frozen_daily_stats", "frozen_days"]:
        op.drop_table(table)
    op.drop_table("closed_lines")
    op.drop_table("month_closings")
