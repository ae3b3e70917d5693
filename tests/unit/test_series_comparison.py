"""RPM, totals and comparisons of the series use cases (services/statistics/service.py) against
the in-memory reader (tests/fakes/figures.py), over generated daily figures of two years
(one of them leap). Expected: tests/reference.py (seller_series over the same daily rows,
its own earlier ranges, totals, RPM and changes), never the code under test."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from domain.analytics import Comparison
from domain.errors import BadRange
from domain.periods import Period
from services.common.auth import Principal
from services.readpath.dataversion import DataState
from services.statistics import service
from tests import reference
from tests.fakes.figures import FakeFigures, FakeStatisticsReader, figures

ADMIN = Principal(1, "admin", "ADMIN")
THROUGH = dt.date(2028, 3, 31)
STATE = DataState("v1", THROUGH)
FIELDS = reference.SERIES_FIELDS


def _oracle() -> dict[tuple[int, dt.date], reference.DailyRow]:
    """Seller 7's videos 1 and 2 on random days of 2027-01-01..2028-03-31 (about one day in
    three, so some periods are empty); revenues with 4 decimals."""
    rng = random.Random(32)
    rows = {}
    day = dt.date(2027, 1, 1)
    while day <= THROUGH:
        for video_id in (1, 2):
            if rng.random() < 0.35:
                views = rng.choice([0, 1, 3, 7, 1000, rng.randrange(1, 5000)])
                ad_views = rng.randrange(0, views + 1)
                rows[video_id, day] = reference.DailyRow(
                    video_id=video_id,
                    day=day,
                    seller_id=7,
                    views=views,
                    watch_time_sec=rng.randrange(0, 10_000),
                    ad_views=ad_views,
                    cum_views=0,
                    cum_ad_views=0,
                    video_revenue=Decimal(rng.randrange(0, 10**8)).scaleb(-4) if views else Decimal(0),
                    ad_revenue=Decimal(ad_views * 10),
                    plays=views + 2,
                    excluded_repeat=1,
                    excluded_cap=1,
                )
        day += dt.timedelta(days=1)
    return rows


ORACLE = _oracle()


def _fake() -> FakeFigures:
    data = FakeFigures(videos={1: (7, "one"), 2: (7, "two")})
    for (video_id, day), row in ORACLE.items():
        data.daily[day, video_id] = (7, figures(**{name: getattr(row, name) for name in FIELDS}))
    for period in (Period.WEEKLY, Period.MONTHLY):
        for (start, video_id), row in reference.compute_periods(ORACLE, period.value).items():
            data.periods[period, start, video_id] = (7, figures(**{name: getattr(row, name) for name in FIELDS}))
    return data


READER = FakeStatisticsReader(_fake())


def _figures(point: service.StatsPoint) -> dict:
    return {name: getattr(point, name) for name in FIELDS}


def _check(series, oracle, period: Period, comparison: Comparison, starts: list[dt.date]) -> None:
    expected = reference.seller_series(oracle, 7, period.value, starts)
    assert [p.period_start for p in series.points] == starts
    assert [_figures(p) for p in series.points] == expected
    assert [p.rpm for p in series.points] == [
        reference.rpm(e["video_revenue"], e["ad_revenue"], e["views"]) for e in expected
    ]
    now = reference.series_totals(expected)
    assert {**_figures(series.totals), "rpm": series.totals.rpm} == now
    earlier_starts = reference.earlier_starts(comparison.value, period.value, starts)
    earlier = reference.seller_series(oracle, 7, period.value, earlier_starts)
    compared = series.comparison
    assert compared.comparison is comparison
    assert [p.period_start for p in compared.points] == earlier_starts
    assert [_figures(p) for p in compared.points] == earlier
    before = reference.series_totals(earlier)
    assert {**_figures(compared.totals), "rpm": compared.totals.rpm} == before
    changes = {name: (c.absolute, c.percent) for name, c in compared.changes.items()}
    assert changes == reference.series_changes(before, now)
    assert list(changes) == [*FIELDS, "revenue", "rpm"]  # the order the API documents


CASES = [
    (Period.DAILY, dt.date(2028, 2, 20), dt.date(2028, 3, 10)),  # over Feb 29
    (Period.DAILY, dt.date(2028, 1, 1), dt.date(2028, 1, 1)),
    (Period.WEEKLY, dt.date(2028, 1, 5), dt.date(2028, 3, 29)),  # any day of the first and last weeks
    (Period.MONTHLY, dt.date(2028, 1, 15), dt.date(2028, 3, 2)),
]


@pytest.mark.parametrize("comparison", list(Comparison))
@pytest.mark.parametrize(("period", "first", "last"), CASES)
def test_a_sellers_series_with_its_comparison_equals_the_reference(comparison, period, first, last):
    starts = service.series_periods(period, first, last)
    request = service.SellerStatsRequest(
        7, period, tuple(starts), STATE, comparison, tuple(service.comparison_periods(comparison, period, starts))
    )
    series = service.read_seller_stats(READER, request, THROUGH)
    _check(series, ORACLE, period, comparison, starts)


@pytest.mark.parametrize("comparison", list(Comparison))
@pytest.mark.parametrize(("period", "first", "last"), CASES)
def test_a_videos_series_with_its_comparison_equals_the_reference(comparison, period, first, last):
    series = service.read_video_stats(READER, ADMIN, 2, period, first, last, THROUGH, comparison)
    only_video_2 = {key: row for key, row in ORACLE.items() if row.video_id == 2}
    _check(series, only_video_2, period, comparison, service.series_periods(period, first, last))


def test_without_compare_a_series_has_totals_and_no_comparison():
    series = service.read_video_stats(READER, ADMIN, 1, Period.MONTHLY, dt.date(2027, 1, 1), THROUGH, THROUGH)
    assert series.comparison is None and len(series.points) == 15
    assert _figures(series.totals) == {
        name: sum((getattr(row, name) for row in ORACLE.values() if row.video_id == 1), start=0) for name in FIELDS
    }


def test_an_earlier_range_over_the_limit_is_refused_on_compare():
    # 366 days from 2028-03-02; a year before, 2027-03-02..2028-03-02 holds Feb 29: 367 days
    starts = service.series_periods(Period.DAILY, dt.date(2028, 3, 2), dt.date(2029, 3, 2))
    assert len(starts) == service.MAX_POINTS
    with pytest.raises(BadRange, match="^compare: the YEAR_AGO range spans 367 daily periods; at most 366"):
        service.comparison_periods(Comparison.YEAR_AGO, Period.DAILY, starts)
    assert len(service.comparison_periods(Comparison.PREVIOUS, Period.DAILY, starts)) == service.MAX_POINTS
