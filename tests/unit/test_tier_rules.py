"""The pure rules of a scheduled tier table at their boundaries (domain/pricing.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain import pricing
from domain.errors import BadInput, BadTierTable

TODAY = dt.date(2026, 3, 10)


@pytest.mark.parametrize(
    ("day", "closed", "allowed"),
    [
        (dt.date(2026, 3, 10), None, False),  # today
        (dt.date(2026, 3, 11), None, True),  # tomorrow
        (dt.date(2026, 4, 30), dt.date(2026, 4, 1), False),  # last day of the closed month
        (dt.date(2026, 5, 1), dt.date(2026, 4, 1), True),  # the day after it
        (dt.date(2026, 3, 11), dt.date(2026, 2, 1), True),  # closed month long over
        (dt.date(2024, 2, 29), dt.date(2024, 2, 1), False),
    ],
)
def test_a_table_starts_after_today_and_after_the_last_closed_month(day, closed, allowed):
    if allowed:
        pricing.require_schedulable(day, TODAY, closed)
        return
    with pytest.raises(BadTierTable) as info:
        pricing.require_schedulable(day, TODAY, closed)
    assert info.value.field == "effective_from"
    assert isinstance(info.value, BadInput)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", Decimal(0)), ("99999999.9999", Decimal("99999999.9999")), ("0.0001", Decimal("0.0001")), ("12", 12)],
)
def test_prices_that_fit_numeric_12_4_are_read_exactly(text, value):
    assert pricing.parse_price(text, "p") == value


@pytest.mark.parametrize(
    "text", ["", "-0", "-1", "+1", "1.", ".5", "1.00001", "123456789", "1e2", "NaN", "Infinity", " 1", "1,5", "١"]
)
def test_other_prices_are_refused(text):
    with pytest.raises(BadTierTable) as info:
        pricing.parse_price(text, "video[0].unit_price")
    assert info.value.field == "video[0].unit_price"


def test_fifty_tiers_per_kind_at_most_checked_before_any_tier_is_read():
    fifty = [(i, "1") for i in range(50)]
    pricing.require_sizes(fifty, fifty)
    with pytest.raises(BadTierTable) as info:
        pricing.require_sizes(fifty, [("not even a tier",)] * 51)
    assert info.value.field == "ad"


def test_tiers_start_at_zero_and_strictly_increase():
    assert pricing.parse_tiers([(0, "1.5"), (10, "2")], "video") == ((0, Decimal("1.5")), (10, Decimal(2)))
    for pairs, field in [
        ([(1, "1")], "video[0]"),
        ([(0, "1"), (0, "1")], "video[1]"),
        ([(0, "1"), (5, "1"), (4, "1")], "video[2]"),
        ([(0, "1"), (2**63, "1")], "video[1]"),
    ]:
        with pytest.raises(BadTierTable) as info:
            pricing.parse_tiers(pairs, "video")
        assert info.value.field == field
