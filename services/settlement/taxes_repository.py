"""SQL of payout profiles, tax tables, payout breakdowns and tax invoices (DESIGN 2b;
docs/ledger.md, "Payout profiles and taxes"). SQLAlchemy Core, MariaDB and SQLite alike;
rates stay exact (Money columns) and come back as Decimal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from domain.ledger import PayoutStatus
from domain.payout_profile import PayoutProfile
from domain.taxes import Breakdown, TaxRates, TaxType
from services.settlement.ports import Payout, TaxInvoice
from services.settlement.tables import payout_profiles, payouts, tax_invoices, tax_rates

RATE_COLUMNS = ("income_tax_rate", "local_income_tax_rate", "vat_rate")
KRW_COLUMNS = ("withholding_minimum_krw", "income_tax_unit_krw", "local_income_tax_unit_krw", "vat_unit_krw")


def _profile(row: sa.Row) -> PayoutProfile:
    return PayoutProfile(
        seller_id=int(row.seller_id),
        legal_name=row.legal_name,
        tax_type=TaxType(row.tax_type),
        bank_code=row.bank_code,
        account_number=row.account_number,
        business_number=row.business_number,
        updated_at_us=int(row.updated_at_us),
    )


def _rates(row: sa.Row) -> TaxRates:
    return TaxRates(
        effective_from=row.effective_from,
        income_tax_rate=Decimal(row.income_tax_rate).normalize(),
        local_income_tax_rate=Decimal(row.local_income_tax_rate).normalize(),
        vat_rate=Decimal(row.vat_rate).normalize(),
        withholding_minimum_krw=int(row.withholding_minimum_krw),
        income_tax_unit_krw=int(row.income_tax_unit_krw),
        local_income_tax_unit_krw=int(row.local_income_tax_unit_krw),
        vat_unit_krw=int(row.vat_unit_krw),
        platform_business_number=row.platform_business_number,
    )


def _invoice(row: sa.Row) -> TaxInvoice:
    return TaxInvoice(
        month=row.month,
        seller_id=int(row.seller_id),
        payout_id=int(row.payout_id),
        supply_krw=int(row.supply_krw),
        vat_krw=int(row.vat_krw),
        seller_business_number=row.seller_business_number,
        platform_business_number=row.platform_business_number,
        seller_legal_name=row.seller_legal_name,
        issue_date=row.issue_date,
        created_at_us=int(row.created_at_us),
    )


def breakdown_values(tax_type: TaxType | None, breakdown: Breakdown | None) -> dict[str, object]:
    """The payouts columns of a breakdown (all NULL for a HELD payout)."""
    return {
        "tax_type": tax_type.value if tax_type else None,
        "income_tax_krw": breakdown.income_tax_krw if breakdown else None,
        "local_income_tax_krw": breakdown.local_income_tax_krw if breakdown else None,
        "vat_krw": breakdown.vat_krw if breakdown else None,
        "net_krw": breakdown.net_krw if breakdown else None,
    }


def payout_breakdown(row: sa.Row) -> tuple[TaxType | None, Breakdown | None]:
    """A payouts row's tax type and breakdown (None, None while HELD or from before taxes)."""
    if row.tax_type is None:
        return None, None
    return TaxType(row.tax_type), Breakdown(
        int(row.amount_krw), int(row.income_tax_krw), int(row.local_income_tax_krw), int(row.vat_krw), int(row.net_krw)
    )


def payout_of_row(row: sa.Row) -> Payout:
    """A payouts row as ports.Payout, with its tax breakdown once it has one."""
    tax_type, breakdown = payout_breakdown(row)
    return Payout(
        payout_id=int(row.payout_id),
        seller_id=int(row.seller_id),
        month=row.month,
        amount_krw=int(row.amount_krw),
        status=PayoutStatus(row.status),
        reference=row.reference,
        created_at_us=int(row.created_at_us),
        updated_at_us=int(row.updated_at_us),
        tax_type=tax_type,
        breakdown=breakdown,
    )


class SqlPayoutProfiles:
    """ports.PayoutProfiles on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def get(self, seller_id: int) -> PayoutProfile | None:
        row = self._conn.execute(
            sa.select(payout_profiles).where(payout_profiles.c.seller_id == seller_id)
        ).one_or_none()
        return None if row is None else _profile(row)

    def put(self, profile: PayoutProfile) -> None:
        values = {
            "legal_name": profile.legal_name,
            "tax_type": profile.tax_type.value,
            "bank_code": profile.bank_code,
            "account_number": profile.account_number,
            "business_number": profile.business_number,
            "updated_at_us": profile.updated_at_us,
        }
        # Update first, insert when there was none: portable (no dialect's upsert); two first
        # PUTs of one seller at once clash on the key and end in WriteConflict.
        updated = self._conn.execute(
            sa.update(payout_profiles).where(payout_profiles.c.seller_id == profile.seller_id).values(**values)
        ).rowcount
        if not updated:
            self._conn.execute(sa.insert(payout_profiles).values(seller_id=profile.seller_id, **values))

    def tax_types(self) -> dict[int, TaxType]:
        # A locking read (MariaDB; SQLite serializes writers anyway): a seller's first PUT
        # during a close waits for the close to commit, then finds and releases the payout
        # the close HELD; a plain read would let the PUT commit unseen by the close's
        # snapshot and find nothing HELD yet, leaving the payout HELD with a complete profile.
        p = payout_profiles.c
        query = sa.select(p.seller_id, p.tax_type).with_for_update()
        return {int(s): TaxType(t) for s, t in self._conn.execute(query)}


class SqlTaxes:
    """ports.Taxes on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def tables(self) -> list[TaxRates]:
        return [_rates(row) for row in self._conn.execute(sa.select(tax_rates).order_by(tax_rates.c.effective_from))]

    def replace(self, rates: TaxRates) -> None:
        self._conn.execute(sa.delete(tax_rates).where(tax_rates.c.effective_from == rates.effective_from))
        self._conn.execute(
            sa.insert(tax_rates).values(
                effective_from=rates.effective_from,
                **{name: getattr(rates, name) for name in (*RATE_COLUMNS, *KRW_COLUMNS)},
                platform_business_number=rates.platform_business_number,
            )
        )

    def held_payouts(self, seller_id: int) -> list[Payout]:
        p = payouts.c
        rows = self._conn.execute(
            sa.select(payouts)
            .where(p.seller_id == seller_id, p.status == PayoutStatus.HELD.value)
            .order_by(p.payout_id)
        )
        return [payout_of_row(row) for row in rows]

    def release(
        self, payout_id: int, tax_type: TaxType, breakdown: Breakdown, now_us: int, status: PayoutStatus
    ) -> bool:
        p = payouts.c
        moved = self._conn.execute(
            sa.update(payouts)
            .where(p.payout_id == payout_id, p.status == PayoutStatus.HELD.value)
            .values(status=status.value, updated_at_us=now_us, **breakdown_values(tax_type, breakdown))
        ).rowcount
        return bool(moved)

    def issue_invoices(
        self, month: dt.date, seller_id: int | None, platform_number: str, issue_date: dt.date, now_us: int
    ) -> None:
        p, f, i = payouts.c, payout_profiles.c, tax_invoices.c
        no_invoice = ~sa.exists().where(i.month == p.month, i.seller_id == p.seller_id)
        where = [p.month == month, p.tax_type == TaxType.BUSINESS.value, f.business_number.is_not(None), no_invoice]
        if seller_id is not None:
            where.append(p.seller_id == seller_id)
        source = (
            sa.select(
                p.month,
                p.seller_id,
                p.payout_id,
                p.amount_krw,
                p.vat_krw,
                f.business_number,
                sa.literal(platform_number, sa.String(10)),
                f.legal_name,
                sa.literal(issue_date, sa.Date),
                sa.literal(now_us, sa.BigInteger),
            )
            .select_from(payouts.join(payout_profiles, f.seller_id == p.seller_id))
            .where(*where)
        )
        columns = [
            "month",
            "seller_id",
            "payout_id",
            "supply_krw",
            "vat_krw",
            "seller_business_number",
            "platform_business_number",
            "seller_legal_name",
            "issue_date",
            "created_at_us",
        ]
        self._conn.execute(sa.insert(tax_invoices).from_select(columns, source))

    def invoices(self, month: dt.date) -> list[TaxInvoice]:
        rows = self._conn.execute(
            sa.select(tax_invoices).where(tax_invoices.c.month == month).order_by(tax_invoices.c.seller_id)
        )
        return [_invoice(row) for row in rows]
