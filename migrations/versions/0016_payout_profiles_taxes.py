"""payout profiles, HELD payouts, taxes as dated data, the payout's tax breakdown, tax invoices

DESIGN.md section 2b (docs/ledger.md, "Payout profiles and taxes"): `payout_profiles` (one
per seller, complete when stored), `tax_rates` (dated tax tables, seeded with the defaults
from 1970-01-01: income tax 3% truncated to 10 KRW, local income tax 10% of it truncated to
10 KRW, neither withheld under 1,000 KRW, VAT 10% truncated to whole KRW), `tax_invoices`
(one per BUSINESS seller and closed month), and on `payouts` the seller's tax type and the
breakdown (NULL until the payout gets its tax type; amount_krw stays the gross).

Existing payouts were created before taxes existed: they keep a NULL breakdown, as a HELD
payout has (the API then shows only the gross).

Revision ID: 0016
Revises: 0015
"""

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Rate = sa.Numeric(12, 4).with_variant(sa.Text(), "sqlite")  # exact text on SQLite, as 0009
BREAKDOWN = ["tax_type", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw"]


def upgrade() -> None:
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tax_type", sa.String(10), nullable=True))
        for column in BREAKDOWN[1:]:
            batch_op.add_column(sa.Column(column, sa.BigInteger, nullable=True))
        batch_op.create_index("ix_payouts_seller_id_status", ["seller_id", "status"])
    op.create_table(
        "payout_profiles",
        sa.Column("seller_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("legal_name", sa.String(100), nullable=False),
        sa.Column("tax_type", sa.String(10), nullable=False),
        sa.Column("bank_code", sa.String(3), nullable=False),
        sa.Column("account_number", sa.String(16), nullable=False),
        sa.Column("business_number", sa.String(10), nullable=True),
        sa.Column("updated_at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("seller_id", name="pk_payout_profiles"),
    )
    rates = op.create_table(
        "tax_rates",
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("income_tax_rate", Rate, nullable=False),
        sa.Column("local_income_tax_rate", Rate, nullable=False),
        sa.Column("vat_rate", Rate, nullable=False),
        sa.Column("withholding_minimum_krw", sa.BigInteger, nullable=False),
        sa.Column("income_tax_unit_krw", sa.BigInteger, nullable=False),
        sa.Column("local_income_tax_unit_krw", sa.BigInteger, nullable=False),
        sa.Column("vat_unit_krw", sa.BigInteger, nullable=False),
        sa.Column("platform_business_number", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("effective_from", name="pk_tax_rates"),
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    rate = (lambda text: text) if sqlite else Decimal  # canonical text on SQLite
    op.bulk_insert(
        rates,
        [
            {
                "effective_from": dt.date(1970, 1, 1),
                "income_tax_rate": rate("0.0300"),
                "local_income_tax_rate": rate("0.1000"),
                "vat_rate": rate("0.1000"),
                "withholding_minimum_krw": 1_000,
                "income_tax_unit_krw": 10,
                "local_income_tax_unit_krw": 10,
                "vat_unit_krw": 1,
                "platform_business_number": "1234567891",  # placeholder: domain/taxes.py
            }
        ],
    )
    op.create_table(
        "tax_invoices",
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("seller_id", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("payout_id", sa.BigInteger, nullable=False),
        sa.Column("supply_krw", sa.BigInteger, nullable=False),
        sa.Column("vat_krw", sa.BigInteger, nullable=False),
        sa.Column("seller_business_number", sa.String(10), nullable=False),
        sa.Column("platform_business_number", sa.String(10), nullable=False),
        sa.Column("seller_legal_name", sa.String(100), nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("month", "seller_id", name="pk_tax_invoices"),
    )


def downgrade() -> None:
    for table in ["tax_invoices", "tax_rates", "payout_profiles"]:
        op.drop_table(table)
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index("ix_payouts_seller_id_status")
        for column in reversed(BREAKDOWN):
            batch_op.drop_column(column)
