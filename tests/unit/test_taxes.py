"""domain/taxes.py against hand-worked cases (DESIGN 2b defaults, and one custom table): every
expected figure below is worked out in its comment, not by the code under test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain import taxes
from domain.errors import BadTaxTable
from domain.taxes import DEFAULT_RATES, Breakdown, TaxType

IND, BUS = TaxType.INDIVIDUAL, TaxType.BUSINESS

# (gross, type, income tax, local income tax, VAT, net), defaults: 3% truncated to 10 KRW,
# local 10% of it truncated to 10 KRW, neither under 1,000 KRW; VAT 10% truncated to 1 KRW.
WORKED = [
    (0, IND, 0, 0, 0, 0),
    (9, IND, 0, 0, 0, 9),  # 0.27 -> 0
    (10_000, IND, 0, 0, 0, 10_000),  # 300 < 1,000: nothing withheld
    (33_333, IND, 0, 0, 0, 33_333),  # 999.99 -> 990 < 1,000: nothing withheld
    (33_334, IND, 1_000, 100, 0, 32_234),  # 1,000.02 -> 1,000; 100; 33,334 - 1,100
    (33_339, IND, 1_000, 100, 0, 32_239),  # 1,000.17 -> 1,000; 100
    (34_000, IND, 1_020, 100, 0, 32_880),  # 1,020; 102 -> 100; 34,000 - 1,120
    (99_999, IND, 2_990, 290, 0, 96_719),  # 2,999.97 -> 2,990; 299 -> 290; 99,999 - 3,280
    (123_459, IND, 3_700, 370, 0, 119_389),  # 3,703.77 -> 3,700; 370; 123,459 - 4,070
    (1_000_000_009, IND, 30_000_000, 3_000_000, 0, 967_000_009),  # 30,000,000.27 -> 30,000,000
    # 29,629,629,632.97 -> 29,629,629,630; 2,962,962,963 -> 2,962,962,960
    (987_654_321_099, IND, 29_629_629_630, 2_962_962_960, 0, 955_061_728_509),
    (0, BUS, 0, 0, 0, 0),
    (9, BUS, 0, 0, 0, 9),  # 0.9 -> 0
    (33_333, BUS, 0, 0, 3_333, 36_666),  # 3,333.3 -> 3,333
    (10_009, BUS, 0, 0, 1_000, 11_009),  # 1,000.9 -> 1,000
    (987_654_321_099, BUS, 0, 0, 98_765_432_109, 1_086_419_753_208),  # 98,765,432,109.9 -> ...109
]


@pytest.mark.parametrize(("gross", "kind", "income", "local", "vat", "net"), WORKED)
def test_the_breakdown_of_a_payout_is_the_hand_worked_one(gross, kind, income, local, vat, net):
    assert taxes.breakdown(gross, kind, DEFAULT_RATES) == Breakdown(gross, income, local, vat, net)


def test_a_custom_table_applies_its_rates_minimum_and_units():
    rates = taxes.TaxRates(
        dt.date(2030, 1, 1), Decimal("0.033"), Decimal("0.1"), Decimal("0.05"), 0, 1, 1, 10, "1234567891"
    )
    # 10,005 x 0.033 = 330.165 -> 330 (unit 1, no minimum); 33; net 10,005 - 363
    assert taxes.breakdown(10_005, IND, rates) == Breakdown(10_005, 330, 33, 0, 9_642)
    # 10,005 x 0.05 = 500.25 -> 500 (unit 10)
    assert taxes.breakdown(10_005, BUS, rates) == Breakdown(10_005, 0, 0, 500, 10_505)


def test_the_rates_of_a_payout_are_those_in_force_on_the_first_day_of_its_month():
    mid = taxes.TaxRates(dt.date(2030, 1, 15), Decimal("0.05"), Decimal("0.1"), Decimal("0.1"), 1000, 10, 10, 1, "x")
    march = taxes.TaxRates(dt.date(2030, 3, 1), Decimal("0.06"), Decimal("0.1"), Decimal("0.1"), 1000, 10, 10, 1, "x")
    tables = [DEFAULT_RATES, mid, march]
    assert taxes.rates_for(tables, dt.date(2030, 1, 1)) is DEFAULT_RATES  # Jan 15 is after Jan 1
    assert taxes.rates_for(tables, dt.date(2030, 2, 1)) is mid
    assert taxes.rates_for(tables, dt.date(2030, 3, 1)) is march
    assert taxes.rates_for([], dt.date(2030, 3, 1)) is DEFAULT_RATES


def test_a_months_invoices_are_issued_on_the_10th_of_the_next_month():
    assert taxes.invoice_issue_date(dt.date(2026, 11, 1)) == dt.date(2026, 12, 10)
    assert taxes.invoice_issue_date(dt.date(2026, 12, 1)) == dt.date(2027, 1, 10)


@pytest.mark.parametrize("text", ["1", "1.0", "0.12345", "-0.1", "0.1e1", ".5", "0,03", " 0.03", "٠.٠٣", ""])
def test_a_rate_must_be_a_plain_decimal_below_one_with_four_places(text):
    with pytest.raises(BadTaxTable, match="^vat_rate: "):
        taxes.parse_rate(text, "vat_rate")


def test_rates_units_and_minimums_that_are_accepted():
    assert taxes.parse_rate("0", "r") == 0 and taxes.parse_rate("0.0330", "r") == Decimal("0.033")
    assert [taxes.require_unit(u, "u") for u in (1, 10, 100, 1_000_000)] == [1, 10, 100, 1_000_000]
    assert taxes.require_minimum(0, "m") == 0


@pytest.mark.parametrize("unit", [0, -10, 5, 20, 110, 10_000_000])
def test_a_truncation_unit_must_be_a_power_of_ten(unit):
    with pytest.raises(BadTaxTable, match="power of ten"):
        taxes.require_unit(unit, "vat_unit_krw")


def test_a_tax_table_starts_after_today_and_after_the_last_closed_month():
    today = dt.date(2030, 5, 10)
    taxes.require_schedulable(dt.date(2030, 5, 11), today, dt.date(2030, 4, 1))
    with pytest.raises(BadTaxTable, match="after today"):
        taxes.require_schedulable(today, today, None)
    with pytest.raises(BadTaxTable, match="after the last closed month"):
        taxes.require_schedulable(dt.date(2030, 5, 31), today, dt.date(2030, 5, 1))
