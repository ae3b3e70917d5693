"""Calendar arithmetic of DESIGN.md section 2: local days, ISO weeks, calendar months.

Pure functions (no I/O). Instants are UTC epoch microseconds, as stored in the database.
A day is a local calendar day in the platform zone; a week is an ISO week (Monday to
Sunday) named by its Monday; a month is a calendar month named by its first day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from zoneinfo import ZoneInfo

from domain.errors import BadDate

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_DAY = dt.timedelta(days=1)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")  # ASCII digits only (\d matches any script's digits)

# The days the platform computes and serves. Every period containing such a day, and the day
# after it, is a representable date: datetime.date ends at 9999-12-31, and the ISO week of
# 9999-12-31 ends in year 10000, so the last whole week (ending Sunday 9999-12-26) is the end.
# Nothing the platform records is older than the epoch its instants count from.
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(9999, 12, 26)


class OutsideCalendar(ValueError):
    """A day outside [FIRST_DAY, LAST_DAY]: its period's bounds are not representable."""


def require_in_calendar(day: dt.date) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise OutsideCalendar(f"{day.isoformat()} is outside {FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}")
    return day


class Period(enum.StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


def instant_of_us(epoch_us: int) -> dt.datetime:
    """The UTC datetime of an epoch-microsecond instant (exact: no float on the way)."""
    return _EPOCH + dt.timedelta(microseconds=epoch_us)


def epoch_us_of(instant: dt.datetime) -> int:
    """Epoch microseconds of an aware datetime (exact integer arithmetic)."""
    if instant.tzinfo is None:
        raise ValueError("epoch_us_of needs an aware datetime")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def local_day_of(started_at_us: int, zone: ZoneInfo) -> dt.date:
    """The local calendar day (in `zone`) on which the instant falls."""
    return instant_of_us(started_at_us).astimezone(zone).date()


def day_bounds_us(day: dt.date, zone: ZoneInfo) -> tuple[int, int]:
    """[start, end) of the local day in UTC epoch microseconds.

    The start is the first instant whose local date is `day`: local midnight, or, in a
    zone whose clocks skip midnight, the instant the day begins after the jump.
    """
    return _day_start_us(day, zone), _day_start_us(day + _ONE_DAY, zone)


def _day_start_us(day: dt.date, zone: ZoneInfo) -> int:
    # Wall-clock midnight may not exist (a DST jump at 00:00); converting the naive time
    # with fold=0 then lands after the jump's start, so step back to the exact first
    # instant of the day by comparing with the UTC offset before the transition.
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    candidate = epoch_us_of(midnight)
    earlier = epoch_us_of(midnight.replace(fold=1))
    start = min(candidate, earlier)
    while local_day_of(start, zone) < day:  # midnight skipped: day starts at the jump
        start = _first_instant_after(start, day, zone)
    return start


def _first_instant_after(lo_us: int, day: dt.date, zone: ZoneInfo) -> int:
    # Binary search for the first microsecond whose local date is `day` (rare DST case).
    hi_us = lo_us + 3 * 3_600_000_000
    while lo_us < hi_us:
        mid = (lo_us + hi_us) // 2
        if local_day_of(mid, zone) < day:
            lo_us = mid + 1
        else:
            hi_us = mid
    return lo_us


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week containing `day` (the week's name)."""
    return day - dt.timedelta(days=day.weekday())


def week_end(day: dt.date) -> dt.date:
    """The Sunday of the ISO week containing `day` (inclusive)."""
    try:
        return week_start(day) + dt.timedelta(days=6)
    except OverflowError:
        raise OutsideCalendar(f"the ISO week of {day.isoformat()} ends after 9999-12-31") from None


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of the calendar month containing `day` (inclusive)."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_start(period: Period | str, day: dt.date) -> dt.date:
    """The first day of the period containing `day`: the period's name."""
    period = Period(period)
    if period is Period.DAILY:
        return day
    if period is Period.WEEKLY:
        return week_start(day)
    return month_start(day)


def period_end(period: Period | str, day: dt.date) -> dt.date:
    """The last day (inclusive) of the period containing `day`."""
    period = Period(period)
    if period is Period.DAILY:
        return day
    if period is Period.WEEKLY:
        return week_end(day)
    return month_end(day)


def period_bounds(period: Period | str, day: dt.date) -> tuple[dt.date, dt.date]:
    """(first day, last day), both inclusive, of the period containing `day`."""
    return period_start(period, day), period_end(period, day)


def periods_in_range(period: Period | str, first: dt.date, last: dt.date) -> list[dt.date]:
    """Names (first days) of every period that has a day in [first, last], ascending."""
    if last < first:
        return []
    period = Period(period)
    first_start = period_start(period, first)
    count = count_periods(period, first, last)
    if period is Period.DAILY:
        return [first + dt.timedelta(days=i) for i in range(count)]
    if period is Period.WEEKLY:
        return [first_start + dt.timedelta(weeks=i) for i in range(count)]
    months = first.year * 12 + first.month - 1
    return [dt.date((months + i) // 12, (months + i) % 12 + 1, 1) for i in range(count)]


def count_periods(period: Period | str, first: dt.date, last: dt.date) -> int:
    """len(periods_in_range(period, first, last)), by arithmetic: a size limit is checked
    before any list is built."""
    if last < first:
        return 0
    period = Period(period)
    if period is Period.DAILY:
        return (last - first).days + 1
    if period is Period.WEEKLY:
        return (week_start(last) - week_start(first)).days // 7 + 1
    return (last.year - first.year) * 12 + last.month - first.month + 1


def parse_day(text: str, field: str) -> dt.date:
    """A real calendar date written YYYY-MM-DD, or BadDate naming the field."""
    if not text:
        raise BadDate("is required (YYYY-MM-DD)", field=field)
    if not _DAY.fullmatch(text):
        raise BadDate(f"must be a date written YYYY-MM-DD, got {text[:40]!r}", field=field)
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise BadDate(f"{text!r} is not a real date", field=field) from None
    try:
        return require_in_calendar(day)
    except OutsideCalendar as exc:
        raise BadDate(str(exc), field=field) from None


def parse_month(text: str, field: str) -> dt.date:
    """A month written YYYY-MM, as its first day, or BadDate naming the field."""
    if not text:
        raise BadDate("is required (YYYY-MM)", field=field)
    if not _MONTH.fullmatch(text):
        raise BadDate(f"must be a month written YYYY-MM, got {text[:40]!r}", field=field)
    year, month = int(text[:4]), int(text[5:])
    if not 1 <= month <= 12:
        raise BadDate(f"{text!r} is not a real month", field=field)
    first = dt.date(max(year, 1), month, 1)
    if not FIRST_DAY <= first <= month_start(LAST_DAY):
        raise BadDate(f"{text} is outside {FIRST_DAY:%Y-%m}..{LAST_DAY:%Y-%m}", field=field)
    return first


def month_name(first_day: dt.date) -> str:
    """YYYY-MM of the month containing the day."""
    return f"{first_day.year:04d}-{first_day.month:02d}"


def next_month(day: dt.date) -> dt.date:
    """The first day of the month after the one containing `day`."""
    return month_end(day) + _ONE_DAY


def schedule_problem(effective_from: dt.date, today: dt.date, last_closed_month: dt.date | None) -> str | None:
    """Why a dated table (tier prices, tax rates: DESIGN 2a, 2b) may not start on
    `effective_from`, or None: it must start strictly after today (the platform zone's) and
    after the last closed month, so that no figure already computed, and no final one, changes."""
    if effective_from <= today:
        return f"must be after today ({today.isoformat()}): a table may not change figures already computed"
    if last_closed_month is not None and effective_from <= month_end(last_closed_month):
        return f"must be after the last closed month ({last_closed_month:%Y-%m}): closed figures are final"
    return None
