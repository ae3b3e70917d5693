"""domain/analytics.py: RPM, the earlier range of a comparison and the change of a figure.
Expected values are worked out by hand in the tables below (calendar facts checked against
the weekday of each date), plus a property check against tests/reference.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.analytics import Comparison, change, earlier_range, earlier_starts, parse_comparison, rpm, year_ago
from domain.errors import BadComparison
from domain.periods import Period, periods_in_range
from tests import reference

D = dt.date
PREVIOUS, YEAR_AGO = Comparison.PREVIOUS, Comparison.YEAR_AGO


@pytest.mark.parametrize(
    ("video_revenue", "ad_revenue", "views", "expected"),
    [
        ("3.3333", "10", 3, "4444.4333"),  # 13.3333 * 1000 / 3 = 4444.4333... (rounded down)
        ("2", "0", 3, "666.6667"),  # 666.66666... rounded up
        ("0.0001", "0", 16, "0.0063"),  # 0.00625: exactly half, away from zero
        ("0.0001", "0", 32, "0.0031"),  # 0.003125: below half
        ("810000.0", "0", 600_000, "1350"),  # exact
        ("1.1", "10", 1, "11100"),  # video and ad revenue both count
        ("0", "0", 5, "0"),  # views without revenue: 0
    ],
)
def test_rpm_is_revenue_per_1000_views_to_four_decimals_half_away_from_zero(video_revenue, ad_revenue, views, expected):
    assert rpm(Decimal(video_revenue), Decimal(ad_revenue), views) == Decimal(expected)


def test_rpm_without_views_is_none_not_zero():
    assert rpm(Decimal(0), Decimal(0), 0) is None


@given(
    st.integers(0, 10**12).map(lambda units: Decimal(units).scaleb(-4)),
    st.integers(0, 10**8).map(lambda units: Decimal(units).scaleb(-4)),
    st.integers(0, 10**9),
)
def test_rpm_equals_the_references_integer_computation(video_revenue, ad_revenue, views):
    assert rpm(video_revenue, ad_revenue, views) == reference.rpm(video_revenue, ad_revenue, views)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2028, 2, 29), D(2027, 2, 28)),  # a leap day maps to Feb 28
        (D(2028, 2, 28), D(2027, 2, 28)),
        (D(2028, 3, 1), D(2027, 3, 1)),
        (D(2029, 3, 1), D(2028, 3, 1)),  # the year before is leap: Mar 1 stays Mar 1
        (D(2027, 1, 1), D(2026, 1, 1)),
    ],
)
def test_year_ago_is_the_same_date_with_feb_29_as_feb_28(day, expected):
    assert year_ago(day) == expected


@pytest.mark.parametrize(
    ("comparison", "period", "first", "last", "expected"),
    [
        # PREVIOUS: as many periods just before. 3 days of a leap February -> Feb 26-28 (29 is in range).
        (PREVIOUS, Period.DAILY, D(2028, 2, 29), D(2028, 3, 2), (D(2028, 2, 26), D(2028, 2, 28))),
        (PREVIOUS, Period.DAILY, D(2027, 1, 1), D(2027, 1, 1), (D(2026, 12, 31), D(2026, 12, 31))),
        # 2 ISO weeks from Monday 2027-01-04 -> the Mondays 2026-12-21 and 2026-12-28
        (PREVIOUS, Period.WEEKLY, D(2027, 1, 4), D(2027, 1, 11), (D(2026, 12, 21), D(2026, 12, 28))),
        # 3 months from January -> October to December of the year before
        (PREVIOUS, Period.MONTHLY, D(2028, 1, 1), D(2028, 3, 1), (D(2027, 10, 1), D(2027, 12, 1))),
        # YEAR_AGO, days: the ends mapped one by one (Feb 29 -> Feb 28: the earlier range is a day shorter)
        (YEAR_AGO, Period.DAILY, D(2028, 2, 28), D(2028, 3, 1), (D(2027, 2, 28), D(2027, 3, 1))),
        # ... or a day longer, reaching back over a Feb 29
        (YEAR_AGO, Period.DAILY, D(2029, 2, 28), D(2029, 3, 1), (D(2028, 2, 28), D(2028, 3, 1))),
        # weeks: 52 weeks (364 days) earlier, still Mondays: 2027-01-04 (Mon) -> 2026-01-05 (Mon)
        (YEAR_AGO, Period.WEEKLY, D(2027, 1, 4), D(2027, 1, 11), (D(2026, 1, 5), D(2026, 1, 12))),
        # ISO week 1 of 2021 (Mon 2021-01-04) after a 53-week year: 52 weeks back is week 2 of 2020
        (YEAR_AGO, Period.WEEKLY, D(2021, 1, 4), D(2021, 1, 4), (D(2020, 1, 6), D(2020, 1, 6))),
        # months: the same months a year earlier, February included
        (YEAR_AGO, Period.MONTHLY, D(2028, 2, 1), D(2028, 3, 1), (D(2027, 2, 1), D(2027, 3, 1))),
    ],
)
def test_the_earlier_range_of_each_comparison(comparison, period, first, last, expected):
    assert earlier_range(comparison, period, first, last) == expected
    starts = periods_in_range(period, first, last)
    assert earlier_starts(comparison, period, first, last) == reference.earlier_starts(
        comparison.value, period.value, starts
    )


def test_weekly_earlier_ranges_start_on_mondays_and_are_as_long_as_the_range():
    for first in (D(2026, 1, 5), D(2020, 12, 28), D(2027, 3, 1)):
        last = first + dt.timedelta(weeks=9)
        for comparison in Comparison:
            start, end = earlier_range(comparison, Period.WEEKLY, first, last)
            assert start.weekday() == end.weekday() == 0 and (end - start).days == 63


def test_an_earlier_range_before_1970_is_refused_on_compare():
    with pytest.raises(BadComparison, match="^compare: YEAR_AGO of this range would start before 1970-01-01"):
        earlier_range(YEAR_AGO, Period.DAILY, D(1970, 6, 1), D(1970, 6, 2))
    with pytest.raises(BadComparison, match="^compare: PREVIOUS"):
        earlier_range(PREVIOUS, Period.MONTHLY, D(1970, 1, 1), D(1970, 1, 1))
    assert earlier_range(PREVIOUS, Period.DAILY, D(1970, 1, 2), D(1970, 1, 2)) == (D(1970, 1, 1), D(1970, 1, 1))


@pytest.mark.parametrize("text", ["previous", "YEAR", "PREVIOUS ", "1", "COMPARISON_UNSPECIFIED"])
def test_a_bad_compare_names_the_field_and_the_accepted_values(text):
    with pytest.raises(BadComparison, match="^compare: must be PREVIOUS or YEAR_AGO, got "):
        parse_comparison(text)


def test_no_compare_is_no_comparison():
    assert parse_comparison("") is None
    assert parse_comparison("YEAR_AGO") is YEAR_AGO


@pytest.mark.parametrize(
    ("earlier", "current", "absolute", "percent"),
    [
        (10, 12, 2, "20.0"),
        (3, 4, 1, "33.3"),  # 33.33...
        (3, 5, 2, "66.7"),  # 66.66... rounded up
        (3, 1, -2, "-66.7"),  # away from zero
        (2000, 2001, 1, "0.1"),  # 0.05: exactly half, away from zero
        (2000, 1999, -1, "-0.1"),
        (3000, 2999, -1, "0.0"),  # -0.033...: rounds to zero, written without a sign
        (5, 0, -5, "-100.0"),
        (0, 7, 7, "new"),
        (0, 0, 0, "0.0"),
        (Decimal("2.5"), Decimal("0.0001"), Decimal("-2.4999"), "-100.0"),  # -99.996
        (Decimal("-4"), Decimal("2"), Decimal(6), "150.0"),  # percent of |earlier|: up is positive
    ],
)
def test_a_change_is_exact_and_its_percent_has_one_decimal_half_away_from_zero(earlier, current, absolute, percent):
    result = change(earlier, current)
    assert (result.absolute, result.percent) == (absolute, percent)
    assert (result.absolute, result.percent) == reference.figure_change(earlier, current)
    assert type(result.absolute) is type(absolute)  # counts stay ints, money stays Decimal
