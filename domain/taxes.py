"""Taxes of a payout (DESIGN.md section 2b, docs/ledger.md "Taxes"), in plain Python: no I/O.

Taxes are data: a dated table of rates (`TaxRates`) applies to a payout's whole-KRW gross
amount. The rates that apply to a payout are those in force on the first day of the payout's
month (the closed month that created it), so a table scheduled later never restates a month.

* INDIVIDUAL (a creator's business income): income tax = gross x income rate, truncated to
  the income tax unit; local income tax = income tax x local rate, truncated to its unit;
  when the income tax is under the withholding minimum, neither is withheld.
  net = gross - income tax - local income tax.
* BUSINESS: nothing withheld; VAT = gross x VAT rate, truncated to the VAT unit, is added:
  net = gross + VAT (the gross is the tax invoice's supply amount).

Rates are exact Decimals (never floats); products are exact, then truncated toward zero once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
from decimal import Decimal

from domain.errors import BadTaxTable
from domain.periods import next_month, schedule_problem

RATE_DECIMALS = 4  # tax_rates' rate columns hold 4 decimal places (Numeric(12, 4))
MAX_UNIT_KRW = 1_000_000
MAX_MINIMUM_KRW = 1_000_000_000
# A well-formed placeholder (valid check digit) until an admin schedules a table with the
# platform's real number.
PLACEHOLDER_PLATFORM_NUMBER = "1234567891"
_RATE = re.compile(rf"0(\.[0-9]{{1,{RATE_DECIMALS}}})?")  # 0 <= rate < 1, written plainly


class TaxType(enum.StrEnum):
    INDIVIDUAL = "INDIVIDUAL"
    BUSINESS = "BUSINESS"


@dataclasses.dataclass(frozen=True)
class TaxRates:
    """One dated tax table (a row of tax_rates)."""

    effective_from: dt.date
    income_tax_rate: Decimal
    local_income_tax_rate: Decimal  # of the income tax, not of the gross
    vat_rate: Decimal
    withholding_minimum_krw: int  # an income tax under this is not withheld (nor the local tax)
    income_tax_unit_krw: int  # truncation units
    local_income_tax_unit_krw: int
    vat_unit_krw: int
    # The platform's business registration number, printed on the tax invoices of the months
    # this table applies to (data beside the rates: a reorganized platform gets a new one).
    platform_business_number: str


# DESIGN 2b's defaults, in force from 1970-01-01 (migration 0016 stores them).
DEFAULT_RATES = TaxRates(
    effective_from=dt.date(1970, 1, 1),
    income_tax_rate=Decimal("0.03"),
    local_income_tax_rate=Decimal("0.1"),
    vat_rate=Decimal("0.1"),
    withholding_minimum_krw=1_000,
    income_tax_unit_krw=10,
    local_income_tax_unit_krw=10,
    vat_unit_krw=1,
    platform_business_number=PLACEHOLDER_PLATFORM_NUMBER,
)


@dataclasses.dataclass(frozen=True)
class Breakdown:
    """What a payout shows: the gross (what the ledger pays out), each tax, VAT and the net."""

    gross_krw: int
    income_tax_krw: int
    local_income_tax_krw: int
    vat_krw: int
    net_krw: int


def truncate_to(amount: Decimal, unit_krw: int) -> int:
    """A non-negative exact amount truncated down to a multiple of `unit_krw`."""
    return int(amount // unit_krw) * unit_krw


def breakdown(gross_krw: int, tax_type: TaxType, rates: TaxRates) -> Breakdown:
    """The taxes of a payout of `gross_krw` for a seller of `tax_type` under `rates`."""
    if gross_krw < 0:
        raise ValueError(f"a payout's gross is never negative, got {gross_krw}")
    gross = Decimal(gross_krw)
    if tax_type is TaxType.BUSINESS:
        vat = truncate_to(gross * rates.vat_rate, rates.vat_unit_krw)
        return Breakdown(gross_krw, 0, 0, vat, gross_krw + vat)
    income = truncate_to(gross * rates.income_tax_rate, rates.income_tax_unit_krw)
    if income < rates.withholding_minimum_krw:
        return Breakdown(gross_krw, 0, 0, 0, gross_krw)
    local = truncate_to(Decimal(income) * rates.local_income_tax_rate, rates.local_income_tax_unit_krw)
    return Breakdown(gross_krw, income, local, 0, gross_krw - income - local)


def rates_for(tables: list[TaxRates], month: dt.date) -> TaxRates:
    """The table in force on the first day of `month` (the newest effective on or before it);
    the defaults when none is (the migration seeds one from 1970-01-01)."""
    first_day = month.replace(day=1)
    in_force = [t for t in tables if t.effective_from <= first_day]
    return max(in_force, key=lambda t: t.effective_from) if in_force else DEFAULT_RATES


def parse_rate(text: str, field: str) -> Decimal:
    """A rate written plainly, 0 <= rate < 1, at most 4 decimal places ("0.033")."""
    if not isinstance(text, str) or not _RATE.fullmatch(text):
        raise BadTaxTable(
            f"must be a decimal from 0 up to (not including) 1 written like 0.03, at most {RATE_DECIMALS}"
            f" decimal places, got {str(text)[:40]!r}",
            field=field,
        )
    return Decimal(text)


def require_unit(value: int, field: str) -> int:
    """A truncation unit: a power of ten from 1 to MAX_UNIT_KRW KRW."""
    if value < 1 or value > MAX_UNIT_KRW or str(value).rstrip("0") != "1":
        raise BadTaxTable(f"must be a power of ten from 1 to {MAX_UNIT_KRW:,} KRW, got {value}", field=field)
    return value


def require_minimum(value: int, field: str) -> int:
    if not 0 <= value <= MAX_MINIMUM_KRW:
        raise BadTaxTable(f"must be from 0 to {MAX_MINIMUM_KRW:,} KRW, got {value}", field=field)
    return value


def invoice_issue_date(month: dt.date) -> dt.date:
    """A month's tax invoices are issued on the 10th of the next month: the latest day the
    law allows for a monthly (월합계) invoice, the same for every seller whenever the month is
    closed or a HELD payout released (so an invoice's date does not depend on who was late)."""
    return next_month(month.replace(day=1)).replace(day=10)


def require_schedulable(effective_from: dt.date, today: dt.date, last_closed_month: dt.date | None) -> None:
    """As a tier table (domain/periods.schedule_problem): no closed month's payouts could be
    taxed differently than they were."""
    problem = schedule_problem(effective_from, today, last_closed_month)
    if problem:
        raise BadTaxTable(problem, field="effective_from")
