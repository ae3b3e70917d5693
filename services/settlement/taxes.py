"""Use cases: the tax tables as managed data, a seller's yearly tax summary, and a closed
month's tax invoices (DESIGN 2b; docs/ledger.md, "Payout profiles and taxes").

Tax tables are scheduled exactly like tier tables (tiers.py): from a day strictly after today
and after the last closed month; scheduling a day that has a table replaces it. The table
that applies to a payout is the one in force on the first day of the payout's month
(domain/taxes.rates_for), so a closed month's payouts, HELD or not, are never taxed anew.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from domain import payout_profile
from domain import taxes as tax_rules
from domain.audit_chain import AuditEvent, summary_json
from domain.errors import BadDate, BadPayoutProfile, BadTaxTable, ClosingNotFound, require_positive_id
from domain.ledger import PayoutStatus
from domain.periods import month_name, parse_day, parse_month
from domain.taxes import TaxRates
from services.common.auth import Principal, require_role, require_seller_or_admin
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement.ports import TaxInvoice, UnitOfWork
from services.settlement.retries import retried

_YEAR = re.compile(r"[0-9]{4}")


@dataclasses.dataclass(frozen=True)
class TaxTableRequest:
    """A tax table as asked for: rates as decimal strings, amounts in whole KRW; an empty
    platform_business_number keeps the one of the table in force on effective_from."""

    effective_from: str
    income_tax_rate: str
    local_income_tax_rate: str
    vat_rate: str
    withholding_minimum_krw: int
    income_tax_unit_krw: int
    local_income_tax_unit_krw: int
    vat_unit_krw: int
    platform_business_number: str = ""


@dataclasses.dataclass(frozen=True)
class MonthTaxes:
    """One month of a yearly summary: sums over the payouts of that month (closed month)."""

    month: dt.date
    gross_krw: int = 0
    income_tax_krw: int = 0
    local_income_tax_krw: int = 0
    vat_krw: int = 0
    net_krw: int = 0


def list_tax_tables(uow: UnitOfWork, principal: Principal) -> list[TaxRates]:
    """Every tax table, by effective date (the seeded defaults from 1970-01-01 first)."""
    require_role(principal, "ADMIN")
    with uow:
        return uow.taxes.tables()


def schedule_tax_table(
    uow: UnitOfWork, principal: Principal, request: TaxTableRequest, *, today: dt.date, clock: Clock = SYSTEM_CLOCK
) -> TaxRates:
    """Stores the table from `effective_from` (replacing that day's) and returns it as stored;
    BadTaxTable (nothing stored) for a malformed table or a day not after today and after the
    last closed month."""
    require_role(principal, "ADMIN")
    day = parse_day(request.effective_from, "effective_from")
    income_tax_rate = tax_rules.parse_rate(request.income_tax_rate, "income_tax_rate")
    local_income_tax_rate = tax_rules.parse_rate(request.local_income_tax_rate, "local_income_tax_rate")
    vat_rate = tax_rules.parse_rate(request.vat_rate, "vat_rate")
    minimum = tax_rules.require_minimum(request.withholding_minimum_krw, "withholding_minimum_krw")
    income_unit = tax_rules.require_unit(request.income_tax_unit_krw, "income_tax_unit_krw")
    local_unit = tax_rules.require_unit(request.local_income_tax_unit_krw, "local_income_tax_unit_krw")
    vat_unit = tax_rules.require_unit(request.vat_unit_krw, "vat_unit_krw")
    platform = None
    if request.platform_business_number.strip():
        try:
            platform = payout_profile.business_number(
                request.platform_business_number, tax_rules.TaxType.BUSINESS, "platform_business_number"
            )
        except BadPayoutProfile as bad:  # the same rule, reported as the table's error
            raise BadTaxTable(str(bad).removeprefix("platform_business_number: "), field=bad.field) from None
    tax_rules.require_schedulable(day, today, None)

    def write() -> TaxRates:
        with uow:
            tax_rules.require_schedulable(day, today, uow.closings.last_closed_month())
            number = platform or tax_rules.rates_for(uow.taxes.tables(), day).platform_business_number
            table = TaxRates(
                day,
                income_tax_rate,
                local_income_tax_rate,
                vat_rate,
                minimum,
                income_unit,
                local_unit,
                vat_unit,
                number,
            )
            uow.taxes.replace(table)
            uow.audit.record(_scheduled_event(principal, table), clock.now_us())
            uow.commit()
        return table

    # Two admins replacing one day at once: the loser's insert clashes, and it is written again.
    return retried(write)


def _scheduled_event(principal: Principal, table: TaxRates) -> AuditEvent:
    """The audit entry of a scheduled tax table: its rates, minimum and units."""
    after = {field.name: str(getattr(table, field.name)) for field in dataclasses.fields(table)}
    target = f"tax_table:{table.effective_from.isoformat()}"
    return AuditEvent(principal.account_id, "tax_table.schedule", target, "", summary_json(after))


def parse_year(text: str) -> int:
    if not _YEAR.fullmatch(text or "") or not 1970 <= int(text) <= 9999:
        raise BadDate(f"must be a year written YYYY (1970-9999), got {str(text)[:20]!r}", field="year")
    return int(text)


def yearly_summary(uow: UnitOfWork, principal: Principal, seller_id: int, year_text: str) -> list[MonthTaxes]:
    """The 12 months of `year` (by payout month: the closed month that created the payout):
    the sums of the payouts that have a breakdown, leaving out HELD payouts (not taxed yet)
    and FAILED ones (their money returned to the balance and is paid, and taxed, by a later
    payout)."""
    require_positive_id(seller_id, "seller_id")
    year = parse_year(year_text)
    require_seller_or_admin(principal, seller_id, "tax summary")
    with uow:
        payouts = uow.ledger.payouts_of(seller_id)
    months = {dt.date(year, m, 1): MonthTaxes(dt.date(year, m, 1)) for m in range(1, 13)}
    for p in payouts:
        if p.month.year != year or p.breakdown is None or p.status is PayoutStatus.FAILED:
            continue
        b, sums = p.breakdown, months[p.month]
        months[p.month] = MonthTaxes(
            p.month,
            sums.gross_krw + b.gross_krw,
            sums.income_tax_krw + b.income_tax_krw,
            sums.local_income_tax_krw + b.local_income_tax_krw,
            sums.vat_krw + b.vat_krw,
            sums.net_krw + b.net_krw,
        )
    return [months[m] for m in sorted(months)]


def list_tax_invoices(uow: UnitOfWork, principal: Principal, month_text: str) -> list[TaxInvoice]:
    """The tax invoices of a closed month, by seller (admin)."""
    require_role(principal, "ADMIN")
    month = parse_month(month_text, "month")
    with uow:
        if uow.closings.closing(month) is None:
            raise ClosingNotFound(f"{month_name(month)} is not closed", field="month")
        return uow.taxes.invoices(month)
