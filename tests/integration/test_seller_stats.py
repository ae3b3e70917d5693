"""A seller's series (StatisticsService.GetSellerStats) over real gRPC, on MariaDB and SQLite,
with the Redis cache: the real batch over random plays, a closed month, late playbacks into it
and the next close's adjustments. Expected figures: tests/reference.py (seller_series over
compute_daily of the plays); the statements and the video series of the same periods must
agree with each point."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import grpc
import pytest
from prometheus_client import REGISTRY

from domain.periods import Period, periods_in_range
from paysystem.v1 import common_pb2, statistics_pb2
from tests import reference
from tests.plugins.jobs import play
from tests.plugins.ledger import (
    FEB,
    JAN,
    SELLERS,
    VIDEOS,
    World,
    month_plays,
    reset_ledger,
)
from tests.plugins.readside import REDIS_SHARED_DB3, make_read_side, serve_read_services

SELLER = 1_000_000 + 1 % SELLERS  # videos 1 and 4
OTHER = 1_000_000 + 2 % SELLERS
MAR = dt.date(2012, 3, 1)
PERIODS = {"DAILY": common_pb2.DAILY, "WEEKLY": common_pb2.WEEKLY, "MONTHLY": common_pb2.MONTHLY}
PORTS = {"mysql": 20171, "sqlite": 20172}


@pytest.fixture(scope="module")
def world(module_engine, tmp_path_factory):
    """January and February computed, January closed, late playbacks into January 31 (the batch
    recomputes it: its daily rows are copied first), then February closed (it posts January's
    adjustments). `at_jan_close`: the daily figures as January's close saw them."""
    engine = module_engine
    reset_ledger(engine)
    w = World(engine)
    w.ingest(month_plays(JAN, 6, "j", 1) + month_plays(FEB, 6, "f", 2))
    w.run_batch()
    w.at_jan_close = w.daily()
    w.close(JAN)
    # Late: a new counted view of video 1 on the closed month's last day, and more of video 4.
    w.ingest([play("late-1", 1, 7, dt.date(2012, 1, 31), 86_000, 0, 400)])
    w.ingest([play(f"late-4-{i}", 4, 100 + i, dt.date(2012, 1, 31), 40_000 + i, 0, 900) for i in range(5)])
    w.run_batch()
    w.close(FEB)
    read = make_read_side(engine, REDIS_SHARED_DB3, f"test-sstats-{uuid.uuid4().hex[:8]}")
    url = engine.url.render_as_string(hide_password=False)
    tmp = tmp_path_factory.mktemp("seller-stats")
    with serve_read_services(url, tmp, PORTS[engine.dialect.name], read) as svc:
        w.svc = svc
        yield w
    read.cache.invalidate_after_batch()


def _series(w, period, first, last, *, seller=SELLER, caller=SELLER, role="SELLER"):
    request = statistics_pb2.GetSellerStatsRequest(
        seller_id=seller, period=PERIODS.get(period, period), to=last, **{"from": first}
    )
    return w.svc.stats.GetSellerStats(request, metadata=w.svc.token(caller, role))


def _figures(point) -> dict:
    values = {name: getattr(point, name) for name in reference.SERIES_FIELDS}
    return {name: Decimal(v) if name in ("video_revenue", "ad_revenue") else v for name, v in values.items()}


def _expected(w, period: str, first: dt.date, last: dt.date, seller: int = SELLER) -> list[dict]:
    starts = periods_in_range(period, first, last)
    return reference.seller_series(w.daily(), seller, period, starts, at_close={JAN: w.at_jan_close, FEB: w.daily()})


def _statement_figures(w, period: Period, day: dt.date) -> tuple[int, int, Decimal, Decimal]:
    s = w.statement(SELLER, period, day)
    return (
        sum(line.views for line in s.lines),
        sum(line.ad_views for line in s.lines),
        s.video_revenue,
        s.ad_revenue,
    )


def _point_statement_figures(point) -> tuple[int, int, Decimal, Decimal]:
    return point.views, point.ad_views, Decimal(point.video_revenue), Decimal(point.ad_revenue)


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("DAILY", "2012-01-28", "2012-03-02"),
        ("WEEKLY", "2012-01-01", "2012-03-10"),
        ("MONTHLY", "2011-12-15", "2012-03-01"),
    ],
)
def test_each_point_is_the_sum_over_the_sellers_videos_one_per_period_zeros_included(world, period, first, last):
    series = _series(world, period, first, last)
    starts = periods_in_range(period, dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    assert [p.period_start for p in series.points] == [s.isoformat() for s in starts]
    assert [_figures(p) for p in series.points] == _expected(
        world, period, dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    )
    assert (series.seller_id, series.period, series.data_through) == (SELLER, PERIODS[period], "2012-02-29")
    assert any(p.views for p in series.points) and any(p.views == 0 for p in series.points)


def test_a_closed_month_is_its_frozen_statement_without_the_adjustments_posted_later(world):
    january, february = _series(world, "MONTHLY", "2012-01-01", "2012-02-29").points
    closed_jan = world.statement(SELLER, Period.MONTHLY, JAN)
    assert _point_statement_figures(january) == _statement_figures(world, Period.MONTHLY, JAN)
    # The late playbacks did change January: the batch's figures, and so the video series, differ.
    live = reference.seller_series(world.daily(), SELLER, "MONTHLY", [JAN])[0]
    assert Decimal(january.video_revenue) != live["video_revenue"]
    assert january.watch_time_sec == live["watch_time_sec"]  # statistics: never frozen
    # February's close posted January's difference on February's statement, not in any point.
    closed_feb = world.statement(SELLER, Period.MONTHLY, FEB)
    assert closed_feb.adjustments and closed_feb.adjustments_total != 0
    assert _point_statement_figures(february) == _statement_figures(world, Period.MONTHLY, FEB)
    assert (
        Decimal(february.video_revenue) + Decimal(february.ad_revenue)
        == closed_feb.total - closed_feb.adjustments_total
    )
    assert closed_jan.status == "CLOSED"


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [(Period.DAILY, "2012-01-29", "2012-02-02"), (Period.WEEKLY, "2012-01-16", "2012-02-12")],
)
def test_days_and_weeks_equal_their_statements_including_a_recomputed_closed_day(world, period, first, last):
    series = _series(world, period.value, first, last)
    for point in series.points:
        day = dt.date.fromisoformat(point.period_start)
        assert _point_statement_figures(point) == _statement_figures(world, period, day), point.period_start


def test_where_no_closed_day_was_recomputed_the_points_are_the_video_series_summed(world):
    for period, first, last in (("DAILY", "2012-02-01", "2012-02-29"), ("MONTHLY", "2012-02-01", "2012-03-31")):
        seller = _series(world, period, first, last)
        per_video = [
            world.svc.stats.GetVideoStats(
                statistics_pb2.GetVideoStatsRequest(video_id=v, period=PERIODS[period], to=last, **{"from": first}),
                metadata=world.svc.token(SELLER),
            )
            for v in VIDEOS
            if 1_000_000 + v % SELLERS == SELLER
        ]
        for i, point in enumerate(seller.points):
            summed = {name: sum(_figures(s.points[i])[name] for s in per_video) for name in reference.SERIES_FIELDS}
            assert _figures(point) == summed, point.period_start


def test_the_series_is_cached_by_data_version(world):
    def hits() -> float:
        labels = {"cache": "seller_stats", "result": "hit"}
        return REGISTRY.get_sample_value("paysystem_cache_requests_total", labels) or 0.0

    first = _series(world, "WEEKLY", "2012-02-06", "2012-02-26")
    before = hits()
    again = _series(world, "WEEKLY", "2012-02-06", "2012-02-26")
    assert hits() == before + 1
    assert again == first


def test_another_seller_is_refused_an_admin_reads_anyone_an_unknown_seller_is_not_found(world):
    with pytest.raises(grpc.RpcError) as err:
        _series(world, "MONTHLY", "2012-01-01", "2012-02-01", seller=OTHER)
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        _series(world, "MONTHLY", "2012-01-01", "2012-02-01", caller=77, role="VIEWER", seller=77)
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    other = _series(world, "MONTHLY", "2012-01-01", "2012-02-01", seller=OTHER, caller=1, role="ADMIN")
    assert [_figures(p) for p in other.points] == _expected(world, "MONTHLY", JAN, FEB, OTHER)
    with pytest.raises(grpc.RpcError) as err:  # no account, no video: NOT_FOUND, not zeros
        _series(world, "MONTHLY", "2012-01-01", "2012-02-01", seller=424242, caller=1, role="ADMIN")
    assert err.value.code() is grpc.StatusCode.NOT_FOUND
    assert "no seller 424242" in (err.value.details() or "")


@pytest.mark.parametrize(
    ("period", "first", "last", "field", "text"),
    [
        (common_pb2.PERIOD_UNSPECIFIED, "2012-01-01", "2012-01-31", "period", "DAILY, WEEKLY or MONTHLY"),
        (9, "2012-01-01", "2012-01-31", "period", "DAILY, WEEKLY or MONTHLY"),
        ("DAILY", "2012-02-30", "2012-03-01", "from", "not a real date"),
        ("DAILY", "2012-01-01", "", "to", "required"),
        ("DAILY", "2012-01-02", "2012-01-01", "to", "must not be before from"),
        ("DAILY", "2011-01-01", "2012-01-02", "to", "spans 367 daily periods"),
        ("WEEKLY", "2004-01-01", "2012-01-01", "to", "at most 366 per request"),
    ],
)
def test_a_bad_argument_is_invalid_and_names_the_field(world, period, first, last, field, text):
    with pytest.raises(grpc.RpcError) as err:
        _series(world, period, first, last)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(f"{field}:") and text in err.value.details()


def test_the_longest_range_is_366_points(world):
    series = _series(world, "DAILY", "2011-06-01", "2012-05-31")  # 2012 is a leap year: 366 days
    assert len(series.points) == 366
