"""The statistics use cases (services/statistics/service.py: the top 5, a video's series, a
seller's series) against the in-memory reader (tests/fakes/figures.py): no database. The
figures are worked out by hand below."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.errors import BadRange, NotOwner, VideoNotFound
from domain.periods import Period
from services.common.auth import Principal
from services.readpath.dataversion import DataState
from services.statistics import service
from services.statistics.service import StatsPoint
from tests.fakes.figures import FROZEN_COLUMNS, FakeFigures, FakeStatisticsReader, figures

ADMIN, SELLER_7, SELLER_8 = Principal(1, "admin", "ADMIN"), Principal(7, "s7", "SELLER"), Principal(8, "s8", "SELLER")
D = dt.date(2026, 3, 3)  # a Tuesday
THROUGH = dt.date(2026, 3, 5)
STATE = DataState("v1", THROUGH)
JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
F = dt.date(2026, 2, 10)  # a closed day the batch recomputed since (a Tuesday; its week from 9 February)


def top_world() -> FakeFigures:
    """Seller 7's videos on D (views, watch time): 1 (10, 100), 2 (30, 50), 3 (10, 300),
    4 (0, 0), 5 (5, 5), 6 (30, 10), 7 (1, 1000; no video row: title ""); seller 8's video 9."""
    data = FakeFigures(videos={v: (7, f"v{v}") for v in range(1, 7)} | {9: (8, "other")})
    for video, views, watch in [
        (1, 10, 100),
        (2, 30, 50),
        (3, 10, 300),
        (4, 0, 0),
        (5, 5, 5),
        (6, 30, 10),
        (7, 1, 1000),
    ]:
        data.daily[D, video] = (7, figures(views=views, watch_time_sec=watch))
    data.daily[D, 9] = (8, figures(views=100, watch_time_sec=10_000))
    return data


def top(data: FakeFigures, metric: str, day: dt.date = D) -> list[tuple[int, int, str]]:
    request = service.TopVideosRequest(7, Period.DAILY, day, day, metric, STATE)
    answer = service.read_top_videos(FakeStatisticsReader(data), request, THROUGH)
    assert answer.data_through == THROUGH and answer.seller_id == 7 and answer.metric == metric
    return [(v.rank, v.video_id, v.title) for v in answer.videos]


def test_the_top_5_ranks_by_the_metric_ties_by_video_id_and_leaves_zeros_out():
    data = top_world()
    # views: 30 (2, 6: tie by video_id), 10 (1, 3), 5 (5); 1 (7) is sixth; 0 (4) never
    assert top(data, "VIEWS") == [(1, 2, "v2"), (2, 6, "v6"), (3, 1, "v1"), (4, 3, "v3"), (5, 5, "v5")]
    # watch time: 1000 (7, untitled), 300 (3), 100 (1), 50 (2), 10 (6); 5 (5) is sixth
    assert top(data, "WATCH_TIME") == [(1, 7, ""), (2, 3, "v3"), (3, 1, "v1"), (4, 2, "v2"), (5, 6, "v6")]
    assert top(data, "VIEWS", D + dt.timedelta(days=1)) == []


def zeros(start: dt.date, end: dt.date) -> StatsPoint:
    return StatsPoint(start, end, 0, 0, 0, Decimal(0), Decimal(0))


def test_a_videos_series_is_dense_with_zeros_where_the_batch_has_no_row():
    data = top_world()
    data.periods[Period.WEEKLY, dt.date(2026, 3, 2), 1] = (
        7,
        figures(views=40, ad_views=2, video_revenue="1.5", plays=50),
    )
    reader = FakeStatisticsReader(data)
    daily = service.read_video_stats(
        reader, SELLER_7, 1, Period.DAILY, D - dt.timedelta(days=1), D + dt.timedelta(days=1), THROUGH
    )
    before, on, after = daily.points
    assert before == zeros(dt.date(2026, 3, 2), dt.date(2026, 3, 2))
    assert on == StatsPoint(D, D, 10, 100, 0, Decimal(0), Decimal(0))
    assert after == zeros(dt.date(2026, 3, 4), dt.date(2026, 3, 4))
    weekly = service.read_video_stats(reader, ADMIN, 1, Period.WEEKLY, dt.date(2026, 2, 25), D, THROUGH)
    assert weekly.points == (
        zeros(dt.date(2026, 2, 23), dt.date(2026, 3, 1)),
        StatsPoint(dt.date(2026, 3, 2), dt.date(2026, 3, 8), 40, 0, 2, Decimal("1.5"), Decimal(0), plays=50),
    )
    assert weekly.data_through == THROUGH


@pytest.mark.parametrize(
    ("principal", "video_id", "to", "error"),
    [
        (SELLER_7, 99, D, VideoNotFound),  # before who may read it
        (SELLER_8, 1, D, NotOwner),
        (SELLER_8, 1, D + dt.timedelta(days=400), NotOwner),  # before the range's size
        (SELLER_7, 1, D + dt.timedelta(days=366), BadRange),  # 367 days
        (SELLER_7, 1, D - dt.timedelta(days=1), BadRange),
    ],
)
def test_a_videos_series_is_refused_in_order(principal, video_id, to, error):
    with pytest.raises(error):
        service.read_video_stats(FakeStatisticsReader(top_world()), principal, video_id, Period.DAILY, D, to, THROUGH)


def seller_world() -> FakeFigures:
    """January and February closed. Seller 7 had no closed line in January but the batch has
    computed a January row since; February closed with lower figures than the batch's now."""
    data = FakeFigures(videos={1: (7, "Cats"), 2: (7, "Dogs")}, closed={JAN: 1, FEB: 2})
    monthly = {
        (JAN, 1): figures(views=5, watch_time_sec=50, video_revenue="1.5", plays=6),
        (FEB, 1): figures(
            views=100, watch_time_sec=1000, ad_views=10, video_revenue="50.5", ad_revenue="2.25", plays=120
        ),
        (FEB, 2): figures(views=40, watch_time_sec=400, video_revenue="20", plays=40),
        (MAR, 1): figures(views=7, watch_time_sec=70, video_revenue="3.5", plays=7),
    }
    for (month, video), f in monthly.items():
        data.periods[Period.MONTHLY, month, video] = (7, f)
    data.closed_lines[FEB, 1] = (
        7,
        figures(FROZEN_COLUMNS, views=90, ad_views=9, video_revenue="45.25", ad_revenue="2"),
    )
    data.closed_lines[FEB, 2] = (7, figures(FROZEN_COLUMNS, views=40, video_revenue="20"))
    # F: the copy taken at close (video 1 only) and the batch's recomputed rows (videos 1 and 2)
    data.frozen_days.add(F)
    data.frozen_daily[F, 1] = (7, figures(FROZEN_COLUMNS, views=8, video_revenue="4"))
    data.daily[F, 1] = (7, figures(views=10, watch_time_sec=100, video_revenue="5", plays=11))
    data.daily[F, 2] = (7, figures(views=2, watch_time_sec=20, video_revenue="1", plays=2))
    data.daily[F + dt.timedelta(days=1), 1] = (7, figures(views=3, watch_time_sec=30, video_revenue="1.5", plays=3))
    data.periods[Period.WEEKLY, dt.date(2026, 2, 9), 1] = (
        7,
        figures(views=13, watch_time_sec=130, video_revenue="6.5", plays=14),
    )
    data.periods[Period.WEEKLY, dt.date(2026, 2, 9), 2] = (
        7,
        figures(views=2, watch_time_sec=20, video_revenue="1", plays=2),
    )
    return data


def seller_series(period: Period, first: dt.date, last: dt.date) -> tuple[StatsPoint, ...]:
    starts = tuple(service.series_periods(period, first, last))
    request = service.SellerStatsRequest(7, period, starts, STATE)
    answer = service.read_seller_stats(FakeStatisticsReader(seller_world()), request, THROUGH)
    assert answer.seller_id == 7 and answer.data_through == THROUGH
    return answer.points


def test_a_sellers_monthly_series_shows_the_closed_months_frozen_figures_and_the_batchs_statistics():
    jan, feb, mar, apr = seller_series(Period.MONTHLY, JAN, dt.date(2026, 4, 30))
    # January closed without lines for seller 7: the frozen figures are 0; watch time and plays stay the batch's
    assert jan == StatsPoint(JAN, dt.date(2026, 1, 31), 0, 50, 0, Decimal(0), Decimal(0), plays=6)
    # February: views 90 + 40, ad views 9, revenues 45.25 + 20 and 2 (closed); watch time 1000 + 400, plays 160
    assert feb == StatsPoint(FEB, dt.date(2026, 2, 28), 130, 1400, 9, Decimal("65.25"), Decimal(2), plays=160)
    assert mar == StatsPoint(MAR, dt.date(2026, 3, 31), 7, 70, 0, Decimal("3.5"), Decimal(0), plays=7)
    assert apr == zeros(dt.date(2026, 4, 1), dt.date(2026, 4, 30))


def test_a_recomputed_closed_day_reads_its_copy_in_the_daily_and_weekly_series():
    f, f1 = seller_series(Period.DAILY, F, F + dt.timedelta(days=1))
    # live 12 views, 6 revenue; minus replaced (the same), plus the copy (8, 4); watch time 100 + 20, plays 13
    assert f == StatsPoint(F, F, 8, 120, 0, Decimal(4), Decimal(0), plays=13)
    assert f1 == StatsPoint(f1.period_start, f1.period_start, 3, 30, 0, Decimal("1.5"), Decimal(0), plays=3)
    (week,) = seller_series(Period.WEEKLY, dt.date(2026, 2, 9), dt.date(2026, 2, 15))
    # live 15 views, 7.5 revenue; - 12 + 8 views, - 6 + 4 revenue; watch time 150, plays 16
    assert week == StatsPoint(
        dt.date(2026, 2, 9), dt.date(2026, 2, 15), 11, 150, 0, Decimal("5.5"), Decimal(0), plays=16
    )
