"""The settlement service's tables: tier prices, the ledger (closings, closed lines,
entries, payouts, payout minimums), payout profiles, tax rates and tax invoices. Written only by services/settlement; others read them
through services/settlement/published.py."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.sqltypes import EventId, Id, Money
from services.common.tables import metadata

# Tier prices are data: a tier applies from `lower_bound` (the cumulative count before the
# view or ad view) upwards, for days on or after `effective_from`.
tier_prices = sa.Table(
    "tier_prices",
    metadata,
    sa.Column("kind", sa.String(8), primary_key=True),  # VIEW | AD
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("lower_bound", sa.BigInteger, primary_key=True),
    sa.Column("unit_price", Money(12), nullable=False),
)

# The ledger (DESIGN 2a, docs/ledger.md). Months are stored as the DATE of their first day.
# Rows here are only ever inserted, except a payout's status, which moves forward (HELD ->
# PENDING -> APPROVED -> PAID | FAILED, domain/ledger.py) and a closing's approval, set once.

# One row per closed month, written last by the close's single transaction.
month_closings = sa.Table(
    "month_closings",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("closed_at_us", sa.BigInteger, nullable=False),
    sa.Column("closed_by", sa.BigInteger, nullable=False),
    sa.Column("sellers", sa.BigInteger, nullable=False),
    sa.Column("lines", sa.BigInteger, nullable=False),
    sa.Column("earnings", Money(), nullable=False),
    sa.Column("adjustment_lines", sa.BigInteger, nullable=False),
    sa.Column("adjustments", Money(), nullable=False),
    sa.Column("payouts_created", sa.BigInteger, nullable=False),
    sa.Column("payouts_krw", sa.BigInteger, nullable=False),
    # Maker-checker (DESIGN 2b): the admin other than closed_by who approved the month's
    # payouts, and when; NULL until then.
    sa.Column("approved_by", sa.BigInteger, nullable=True),
    sa.Column("approved_at_us", sa.BigInteger, nullable=True),
)

# A closed month's statement lines, frozen at close (per video, the month's exact figures).
closed_lines = sa.Table(
    "closed_lines",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("video_id", sa.BigInteger, primary_key=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("views", sa.BigInteger, nullable=False),
    sa.Column("ad_views", sa.BigInteger, nullable=False),
    sa.Column("video_revenue", Money(), nullable=False),
    sa.Column("ad_revenue", Money(), nullable=False),
    sa.Index("ix_closed_lines_seller_month", "seller_id", "month"),
)

# Immutable, exact entries; a seller's balance is their sum and is stored nowhere else.
# kind: EARNING | ADJUSTMENT (video_id and original_month set) | PAYOUT | PAYOUT_REVERSAL
# (payout_id set). posted_month: the closing that posted it (a reversal: its payout's).
ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("entry_id", Id, primary_key=True, autoincrement=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("posted_month", sa.Date, nullable=False),
    sa.Column("original_month", sa.Date, nullable=True),
    sa.Column("video_id", sa.BigInteger, nullable=True),
    sa.Column("payout_id", sa.BigInteger, nullable=True),
    sa.Column("amount", Money(), nullable=False),
    sa.Column("posted_at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_ledger_entries_seller_month", "seller_id", "posted_month", "entry_id"),
    # What the ledger holds per earlier closed month and video (the adjustments' basis).
    sa.Index("ix_ledger_entries_original", "original_month", "video_id"),
)

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("payout_id", Id, primary_key=True, autoincrement=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("month", sa.Date, nullable=False),
    sa.Column("amount_krw", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # HELD | PENDING | APPROVED | PAID | FAILED
    sa.Column("reference", sa.String(128), nullable=True),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    # The tax breakdown (DESIGN 2b; amount_krw is the gross), set when the payout gets its
    # seller's tax type: at close, or when a HELD payout is released. NULL while HELD.
    sa.Column("tax_type", sa.String(10), nullable=True),  # INDIVIDUAL | BUSINESS
    sa.Column("income_tax_krw", sa.BigInteger, nullable=True),
    sa.Column("local_income_tax_krw", sa.BigInteger, nullable=True),
    sa.Column("vat_krw", sa.BigInteger, nullable=True),
    sa.Column("net_krw", sa.BigInteger, nullable=True),
    # The bank transfer file (transfer_files.part) of its month that holds it; NULL: none yet.
    sa.Column("transfer_part", sa.Integer, nullable=True),
    # One payout per seller per closing.
    sa.UniqueConstraint("seller_id", "month"),
    # A profile's completion releases the seller's HELD payouts.
    sa.Index("ix_payouts_seller_status", "seller_id", "status"),
    # A month's payouts by status, in payout_id order (the month's list, its bank files).
    sa.Index("ix_payouts_month_status", "month", "status", "payout_id"),
)

# The minimum payout is data: the row in force on the closed month's last day applies.
payout_minimums = sa.Table(
    "payout_minimums",
    metadata,
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("minimum_krw", sa.BigInteger, nullable=False),
)


# A seller's payout profile (DESIGN 2b), set by the seller; every stored row is complete
# (validated by domain/payout_profile.py). account_number: digits only, shown masked.
payout_profiles = sa.Table(
    "payout_profiles",
    metadata,
    sa.Column("seller_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("legal_name", sa.String(100), nullable=False),
    sa.Column("tax_type", sa.String(10), nullable=False),  # INDIVIDUAL | BUSINESS
    sa.Column("bank_code", sa.String(3), nullable=False),
    sa.Column("account_number", sa.String(16), nullable=False),
    sa.Column("business_number", sa.String(10), nullable=True),  # BUSINESS only
    sa.Column("updated_at_us", sa.BigInteger, nullable=False),
)

# The tax tables are data (domain/taxes.py): the row in force on the first day of a payout's
# month applies to it. Seeded with DESIGN 2b's defaults from 1970-01-01.
tax_rates = sa.Table(
    "tax_rates",
    metadata,
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("income_tax_rate", Money(12), nullable=False),
    sa.Column("local_income_tax_rate", Money(12), nullable=False),
    sa.Column("vat_rate", Money(12), nullable=False),
    sa.Column("withholding_minimum_krw", sa.BigInteger, nullable=False),
    sa.Column("income_tax_unit_krw", sa.BigInteger, nullable=False),
    sa.Column("local_income_tax_unit_krw", sa.BigInteger, nullable=False),
    sa.Column("vat_unit_krw", sa.BigInteger, nullable=False),
    sa.Column("platform_business_number", sa.String(10), nullable=False),
)

# One tax invoice per BUSINESS seller and closed month (the month's payout is the supply),
# written with the payout's breakdown; never changed.
tax_invoices = sa.Table(
    "tax_invoices",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("seller_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("payout_id", sa.BigInteger, nullable=False),
    sa.Column("supply_krw", sa.BigInteger, nullable=False),
    sa.Column("vat_krw", sa.BigInteger, nullable=False),
    sa.Column("seller_business_number", sa.String(10), nullable=False),
    sa.Column("platform_business_number", sa.String(10), nullable=False),
    sa.Column("seller_legal_name", sa.String(100), nullable=False),
    sa.Column("issue_date", sa.Date, nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
)

# A month's bank transfer files (DESIGN 2b, docs/ledger.md "The bank transfer file"): part 1
# frozen at the first download after the approval, each later part at the first download
# after more payouts were approved; the bytes are kept, so a file is the same every time.
transfer_files = sa.Table(
    "transfer_files",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("part", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("row_count", sa.BigInteger, nullable=False),
    sa.Column("total_krw", sa.BigInteger, nullable=False),
    sa.Column("data", sa.LargeBinary(2**32 - 1), nullable=False),  # the file's bytes (LONGBLOB)
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=False),
)

# Idempotency-Key (DESIGN 2b, docs/ledger.md "Idempotency keys"): one row per caller and key
# of a money-moving POST. Claimed (response NULL) before the request's effect, so a
# concurrent request with the same key finds it; the answer is stored once the effect is
# done and replayed to every later request with the same key and the same request. Rows
# older than the retention (7 days) are purged on write (services/settlement/idempotency.py).
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("account_id", sa.BigInteger, primary_key=True),
    sa.Column("idem_key", EventId(255), primary_key=True),  # byte by byte, no padding
    sa.Column("method", sa.String(128), nullable=False),
    sa.Column("request_sha256", sa.String(64), nullable=False),
    sa.Column("response", sa.LargeBinary(2**24 - 1), nullable=True),  # serialized protobuf; NULL: running
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_idempotency_keys_created", "created_at_us"),
)
