"""Issue 14: the ends of the calendar give a clear 400, and range sizes are known by arithmetic."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from batch.servicer import parse_day as parse_job_day
from domain.errors import BadInput
from domain.periods import (
    FIRST_DAY,
    LAST_DAY,
    OutsideCalendar,
    Period,
    count_periods,
    month_end,
    parse_day,
    period_end,
    periods_in_range,
    week_end,
)

D = dt.date
ONE_DAY = dt.timedelta(days=1)


def naive_periods(period: Period, first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day of [first, last] mapped to its period's first day, deduplicated."""
    starts = []
    day = first
    while day <= last:
        if period is Period.DAILY:
            start = day
        elif period is Period.WEEKLY:
            start = day - dt.timedelta(days=day.weekday())
        else:
            start = day.replace(day=1)
        if not starts or starts[-1] != start:
            starts.append(start)
        day += ONE_DAY
    return starts


@given(
    st.sampled_from(list(Period)),
    st.dates(min_value=D(1970, 1, 1), max_value=D(9999, 12, 26)),
    st.integers(min_value=0, max_value=800),
)
def test_periods_and_their_count_agree_with_naive_day_by_day_grouping(period, first, span):
    last = first + dt.timedelta(days=min(span, (LAST_DAY - first).days))
    expected = naive_periods(period, first, last)
    assert periods_in_range(period, first, last) == expected
    assert count_periods(period, first, last) == len(expected)


def test_counting_the_widest_range_is_arithmetic_not_a_list():
    # 0001-01-01 .. 9999-12-31 holds 3,652,059 days; 719,162 of them are before 1970 and
    # 5 after 9999-12-26.
    assert count_periods(Period.DAILY, FIRST_DAY, LAST_DAY) == 3_652_059 - 719_162 - 5
    assert count_periods(Period.MONTHLY, FIRST_DAY, LAST_DAY) == (9999 - 1970) * 12 + 12


def test_the_last_days_of_year_9999_have_their_month_but_not_their_iso_week():
    assert month_end(D(9999, 12, 31)) == D(9999, 12, 31)
    assert week_end(LAST_DAY) == LAST_DAY  # a Sunday
    with pytest.raises(OutsideCalendar):
        week_end(D(9999, 12, 31))  # that week ends on 10000-01-02
    assert periods_in_range(Period.MONTHLY, D(9999, 11, 5), LAST_DAY) == [D(9999, 11, 1), D(9999, 12, 1)]
    assert period_end(Period.MONTHLY, LAST_DAY) == D(9999, 12, 31)


@pytest.mark.parametrize("parse", [parse_day, parse_job_day])
@pytest.mark.parametrize("text", ["9999-12-31", "9999-12-27", "0001-01-01", "1969-12-31"])
def test_a_day_outside_the_calendar_is_an_invalid_argument_naming_the_field(parse, text):
    with pytest.raises(BadInput) as err:
        parse(text, "date")
    assert str(err.value).startswith("date: ") and "1970-01-01..9999-12-26" in str(err.value)


@pytest.mark.parametrize("parse", [parse_day, parse_job_day])
def test_the_first_and_last_days_of_the_calendar_are_accepted(parse):
    assert parse("1970-01-01", "date") == FIRST_DAY
    assert parse("9999-12-26", "date") == LAST_DAY


@pytest.mark.parametrize("parse", [parse_day, parse_job_day])
@pytest.mark.parametrize("text", ["2026-11-01\n", "2026-11-01\n\n", "\u0662\u0660\u0662\u0666-11-01"])
def test_a_date_with_a_trailing_newline_or_non_ascii_digits_is_refused(parse, text):
    with pytest.raises(BadInput):
        parse(text, "date")
