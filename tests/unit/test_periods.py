"""Local days, ISO weeks and calendar months (DESIGN.md section 2, first paragraph)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.periods import (
    Period,
    day_bounds_us,
    epoch_us_of,
    instant_of_us,
    local_day_of,
    month_end,
    month_start,
    period_bounds,
    period_start,
    periods_in_range,
    schedule_problem,
    week_end,
    week_start,
)

SEOUL = ZoneInfo("Asia/Seoul")
D = dt.date


def us(text: str) -> int:
    return epoch_us_of(dt.datetime.fromisoformat(text))


def test_a_play_at_15_00_utc_belongs_to_the_next_seoul_day():
    assert local_day_of(us("2026-10-31T14:59:59.999999+00:00"), SEOUL) == D(2026, 10, 31)
    assert local_day_of(us("2026-10-31T15:00:00+00:00"), SEOUL) == D(2026, 11, 1)


def test_a_seoul_day_starts_at_15_00_utc_the_day_before_and_lasts_24_hours():
    start, end = day_bounds_us(D(2026, 11, 1), SEOUL)
    assert start == us("2026-10-31T15:00:00+00:00")
    assert end - start == 86_400_000_000


def test_epoch_microseconds_round_trip_exactly():
    value = 1_793_458_800_123_457
    assert epoch_us_of(instant_of_us(value)) == value


@pytest.mark.parametrize(
    "zone, day, hours",
    [
        ("America/New_York", D(2023, 3, 12), 23),
        ("America/New_York", D(2023, 11, 5), 25),
        ("America/Santiago", D(2022, 9, 11), 23),  # midnight itself is skipped
        ("Asia/Beirut", D(2023, 3, 26), 23),
    ],
)
def test_day_bounds_follow_daylight_saving_transitions(zone, day, hours):
    tz = ZoneInfo(zone)
    start, end = day_bounds_us(day, tz)
    assert (end - start) == hours * 3_600_000_000
    assert local_day_of(start, tz) == day
    assert local_day_of(start - 1, tz) == day - dt.timedelta(days=1)
    assert local_day_of(end - 1, tz) == day
    assert local_day_of(end, tz) == day + dt.timedelta(days=1)


@given(st.integers(min_value=0, max_value=4_102_444_800_000_000))
def test_every_instant_lies_within_the_bounds_of_its_local_day(instant):
    day = local_day_of(instant, SEOUL)
    start, end = day_bounds_us(day, SEOUL)
    assert start <= instant < end


def test_an_iso_week_runs_monday_to_sunday_and_is_named_by_its_monday():
    assert week_start(D(2026, 11, 1)) == D(2026, 10, 26)  # a Sunday
    assert week_end(D(2026, 11, 1)) == D(2026, 11, 1)
    assert week_start(D(2026, 11, 2)) == D(2026, 11, 2)  # a Monday
    assert week_end(D(2026, 11, 2)) == D(2026, 11, 8)


def test_a_week_can_span_two_years():
    assert period_bounds(Period.WEEKLY, D(2027, 1, 1)) == (D(2026, 12, 28), D(2027, 1, 3))


def test_months_end_on_their_last_day_including_leap_february():
    assert month_start(D(2024, 2, 17)) == D(2024, 2, 1)
    assert month_end(D(2024, 2, 17)) == D(2024, 2, 29)
    assert month_end(D(2026, 2, 1)) == D(2026, 2, 28)
    assert month_end(D(2026, 12, 31)) == D(2026, 12, 31)


def test_period_start_of_each_kind():
    day = D(2026, 11, 18)
    assert period_start("DAILY", day) == day
    assert period_start("WEEKLY", day) == D(2026, 11, 16)
    assert period_start("MONTHLY", day) == D(2026, 11, 1)


def test_periods_in_a_range_include_partial_periods_at_both_ends():
    assert periods_in_range(Period.WEEKLY, D(2026, 12, 30), D(2027, 1, 12)) == [
        D(2026, 12, 28),
        D(2027, 1, 4),
        D(2027, 1, 11),
    ]
    assert periods_in_range(Period.MONTHLY, D(2026, 1, 31), D(2026, 3, 1)) == [
        D(2026, 1, 1),
        D(2026, 2, 1),
        D(2026, 3, 1),
    ]
    assert periods_in_range(Period.DAILY, D(2026, 1, 30), D(2026, 2, 1)) == [
        D(2026, 1, 30),
        D(2026, 1, 31),
        D(2026, 2, 1),
    ]
    assert periods_in_range(Period.DAILY, D(2026, 2, 1), D(2026, 1, 1)) == []


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError):
        period_start("YEARLY", D(2026, 1, 1))


def test_a_dated_table_starts_strictly_after_today_and_after_the_last_closed_month():
    today, closed = dt.date(2026, 3, 10), dt.date(2026, 3, 1)
    assert schedule_problem(dt.date(2026, 3, 11), today, None) is None
    assert schedule_problem(dt.date(2026, 3, 10), today, None).startswith("must be after today (2026-03-10)")
    # March closed early (in a test world): its last day is still refused, April 1st is not.
    assert "last closed month (2026-03)" in schedule_problem(dt.date(2026, 3, 31), dt.date(2026, 3, 1), closed)
    assert schedule_problem(dt.date(2026, 4, 1), today, closed) is None
