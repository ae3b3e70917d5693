"""Creator analytics figures of DESIGN.md section 2c: RPM, comparisons with an earlier period
and the change of a figure. Pure functions (no I/O); docs/statistics_settlement.md
("RPM and comparisons") states the rules they implement.

* RPM: revenue (video revenue + ad revenue: everything the seller earns) per 1,000 counted
  views, `revenue * 1000 / views`. Money is never a float: the quotient is exact when it has
  at most 4 decimals (the money scale, money.STORAGE_SCALE) and otherwise rounded half away
  from zero to 4 decimals, as MariaDB's DECIMAL(p, 4) rounds a stored value. No views: no RPM
  (None; the API's empty string), since 0 views give no ratio.
* Comparison PREVIOUS: the periods just before the range, as many as the range has.
  YEAR_AGO: DAILY, the same dates one year earlier (Feb 29 becomes Feb 28); WEEKLY, the ISO
  weeks 52 weeks earlier (364 days: always a Monday-to-Sunday week, the same weekdays);
  MONTHLY, the same months one year earlier.
* A change: absolute (current - earlier) and percent, (current - earlier) / |earlier| * 100
  rounded half away from zero to one decimal place; "new" when the earlier value is 0 and
  the current is not; "0.0" when both are 0.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from decimal import Decimal
from fractions import Fraction

from domain.errors import BadComparison
from domain.money import EXACT, STORAGE_SCALE
from domain.periods import FIRST_DAY, Period, count_periods, periods_in_range

NEW = "new"


class Comparison(enum.StrEnum):
    PREVIOUS = "PREVIOUS"
    YEAR_AGO = "YEAR_AGO"


def parse_comparison(text: str, field: str = "compare") -> Comparison | None:
    """None for no comparison (the parameter left out), else PREVIOUS or YEAR_AGO, exactly."""
    if not text:
        return None
    try:
        return Comparison(text)
    except ValueError:
        raise BadComparison(f"must be PREVIOUS or YEAR_AGO, got {text[:40]!r}", field=field) from None


def rpm(video_revenue: Decimal, ad_revenue: Decimal, views: int) -> Decimal | None:
    """Revenue per 1,000 counted views, to 4 decimals (exact when the quotient has at most
    4, else rounded half away from zero); None when there are no views."""
    if views <= 0:
        return None
    # Exact fractions, one rounding: no Decimal context's precision in between.
    exact = (Fraction(video_revenue) + Fraction(ad_revenue)) * 1000 / views
    return round_half_away(exact, STORAGE_SCALE)


def round_half_away(value: Fraction, places: int) -> Decimal:
    """`value` rounded half away from zero to `places` decimals, as an exact Decimal."""
    scaled = abs(value) * 10**places
    units, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        units += 1
    return Decimal(-units if value < 0 else units).scaleb(-places)


def year_ago(day: dt.date) -> dt.date:
    """The same date one year earlier; Feb 29 becomes Feb 28 (the year before has none)."""
    if day.month == 2 and day.day == 29:
        return dt.date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def months_before(month_first_day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` calendar months before the given month."""
    index = month_first_day.year * 12 + month_first_day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def earlier_range(comparison: Comparison, period: Period, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """[first, last] (the period starts of a series, first <= last) of the earlier range to
    compare with: BadComparison when it would start before the platform's first day."""
    count = count_periods(period, first, last)
    try:
        if comparison is Comparison.PREVIOUS:
            if period is Period.DAILY:
                start, end = first - dt.timedelta(days=count), first - dt.timedelta(days=1)
            elif period is Period.WEEKLY:
                start, end = first - dt.timedelta(weeks=count), first - dt.timedelta(weeks=1)
            else:
                start, end = months_before(first, count), months_before(first, 1)
        elif period is Period.DAILY:
            start, end = year_ago(first), year_ago(last)
        elif period is Period.WEEKLY:
            start, end = first - dt.timedelta(weeks=52), last - dt.timedelta(weeks=52)
        else:
            start, end = months_before(first, 12), months_before(last, 12)
    except (OverflowError, ValueError):  # before year 1
        start = end = dt.date.min
    if start < FIRST_DAY:
        raise BadComparison(
            f"{comparison.value} of this range would start before {FIRST_DAY.isoformat()}", field="compare"
        )
    return start, end


def earlier_starts(comparison: Comparison, period: Period, first: dt.date, last: dt.date) -> list[dt.date]:
    """The period starts of the earlier range (earlier_range) of a series over [first, last]."""
    start, end = earlier_range(comparison, period, first, last)
    return periods_in_range(period, start, end)


@dataclasses.dataclass(frozen=True)
class Change:
    """How a figure moved from the earlier range to the current one: `absolute` (current -
    earlier, exact: an int for counts), `percent` (a decimal string with one decimal place,
    or "new")."""

    absolute: Decimal | int
    percent: str


def change(earlier: Decimal | int, current: Decimal | int) -> Change:
    """The change from `earlier` to `current` (DESIGN 2c): percent of |earlier|, rounded half
    away from zero to one decimal; "new" when earlier is 0 and current is not."""
    absolute: Decimal | int
    if isinstance(earlier, int) and isinstance(current, int):
        absolute = current - earlier  # a count's change stays a count
    else:  # money.EXACT: 80 digits, and a difference that would need rounding raises instead
        absolute = EXACT.subtract(Decimal(current), Decimal(earlier))
    return Change(absolute, percent_change(Fraction(earlier), Fraction(current)))


def percent_change(earlier: Fraction, current: Fraction) -> str:
    if earlier == 0:
        return NEW if current != 0 else "0.0"
    text = format(round_half_away((current - earlier) * 100 / abs(earlier), 1), "f")
    return "0.0" if text == "-0.0" else text
