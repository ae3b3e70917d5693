"""The statistics service over real gRPC on MariaDB, with the Redis cache (shared server, DB 3)."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest

from paysystem.v1 import common_pb2, statistics_pb2
from tests.databases import fresh_database
from tests.plugins.readside import (
    REDIS_SHARED_DB3,
    Daily,
    add_videos,
    make_read_side,
    migrated_engine,
    publish_day,
    serve_read_services,
)

D = dt.date
SELLER, OTHER, ADMIN = 2001, 2002, 9
# Ids chosen so that numeric and text order differ (9 < 10 < 11 numerically; "10" < "9" as text).
VIDEOS = [9, 10, 11, 12, 13, 14, 15]
V_OTHER = 700
VIEWS, WATCH = statistics_pb2.VIEWS, statistics_pb2.WATCH_TIME


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("statistics")
    with fresh_database("mariadb", "paysystem_stats_", tmp) as url:
        engine = migrated_engine(url)
        with engine.begin() as conn:
            add_videos(conn, SELLER, VIDEOS)
            add_videos(conn, OTHER, [V_OTHER])
        # Wednesday 2026-09-30 (September) and Thursday 2026-10-01 (October): one ISO week.
        publish_day(
            engine,
            D(2026, 9, 30),
            [
                Daily(9, views=5, watch_time_sec=50),
                Daily(10, views=5, watch_time_sec=500),
                Daily(11, views=7, watch_time_sec=10),
                Daily(12, views=0, watch_time_sec=900),  # watched only by its seller: no view
                Daily(13, views=1, watch_time_sec=1),
                Daily(14, views=5, watch_time_sec=0),
                Daily(15, views=2, watch_time_sec=20),
                Daily(V_OTHER, views=100, watch_time_sec=1000),
            ],
        )
        publish_day(
            engine, D(2026, 10, 1), [Daily(13, views=20, watch_time_sec=5), Daily(9, views=1, watch_time_sec=1)]
        )
        read = make_read_side(engine, REDIS_SHARED_DB3, f"test-stats-{uuid.uuid4().hex[:8]}")
        with serve_read_services(url, tmp, 20102, read) as svc:
            yield svc
        read.cache.invalidate_after_batch()
        engine.dispose()


def _top(svc, period, date, metric=VIEWS, *, seller=SELLER, caller=SELLER, role="SELLER"):
    request = statistics_pb2.GetTopVideosRequest(seller_id=seller, period=period, date=date, metric=metric)
    return svc.stats.GetTopVideos(request, metadata=svc.token(caller, role))


def _series(svc, video_id, period, first, last, *, caller=SELLER, role="SELLER"):
    request = statistics_pb2.GetVideoStatsRequest(video_id=video_id, period=period, to=last, **{"from": first})
    return svc.stats.GetVideoStats(request, metadata=svc.token(caller, role))


def test_daily_top_five_by_views_breaks_ties_by_numeric_video_id_and_leaves_out_zeros(services):
    top = _top(services, common_pb2.DAILY, "2026-09-30")
    assert [(v.rank, v.video_id, v.views) for v in top.videos] == [
        (1, 11, 7),
        (2, 9, 5),
        (3, 10, 5),
        (4, 14, 5),
        (5, 15, 2),
    ]
    assert top.videos[0].title == "video 11"
    assert (top.period_start, top.period_end, top.data_through) == ("2026-09-30", "2026-09-30", "2026-10-01")


def test_top_five_by_watch_time_leaves_out_videos_with_zero_watch_time(services):
    top = _top(services, common_pb2.DAILY, "2026-09-30", WATCH)
    assert [(v.video_id, v.watch_time_sec) for v in top.videos] == [(12, 900), (10, 500), (9, 50), (15, 20), (11, 10)]
    assert 14 not in [v.video_id for v in top.videos]


def test_weekly_top_five_sums_the_days_of_the_iso_week_across_months(services):
    top = _top(services, common_pb2.WEEKLY, "2026-10-04")
    assert (top.period_start, top.period_end) == ("2026-09-28", "2026-10-04")
    assert [(v.video_id, v.views) for v in top.videos] == [(13, 21), (11, 7), (9, 6), (10, 5), (14, 5)]


def test_monthly_top_five_counts_only_the_months_own_days(services):
    october = _top(services, common_pb2.MONTHLY, "2026-10-15")
    assert (october.period_start, october.period_end) == ("2026-10-01", "2026-10-31")
    assert [(v.video_id, v.views) for v in october.videos] == [(13, 20), (9, 1)]


def test_an_empty_period_has_an_empty_top_five(services):
    top = _top(services, common_pb2.MONTHLY, "2024-02-29")
    assert list(top.videos) == []
    assert (top.period_start, top.period_end) == ("2024-02-01", "2024-02-29")


def test_a_seller_cannot_read_another_sellers_top_five_but_an_admin_can(services):
    with pytest.raises(grpc.RpcError) as err:
        _top(services, common_pb2.DAILY, "2026-09-30", seller=OTHER)
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    top = _top(services, common_pb2.DAILY, "2026-09-30", seller=OTHER, caller=ADMIN, role="ADMIN")
    assert [v.video_id for v in top.videos] == [V_OTHER]


@pytest.mark.parametrize(
    ("period", "date", "metric", "field"),
    [
        (common_pb2.PERIOD_UNSPECIFIED, "2026-09-30", VIEWS, "period"),
        (common_pb2.DAILY, "2026-13-01", VIEWS, "date"),
        (common_pb2.DAILY, "yesterday", VIEWS, "date"),
        (common_pb2.DAILY, "2026-09-30", statistics_pb2.METRIC_UNSPECIFIED, "metric"),
        (common_pb2.DAILY, "2026-09-30", 9, "metric"),
    ],
)
def test_a_bad_top_five_argument_is_invalid_and_names_the_field(services, period, date, metric, field):
    with pytest.raises(grpc.RpcError) as err:
        _top(services, period, date, metric)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(f"{field}:")


def test_a_daily_series_has_one_point_per_day_with_zeros_where_nothing_was_computed(services):
    series = _series(services, 13, common_pb2.DAILY, "2026-09-29", "2026-10-02")
    assert [(p.period_start, p.views, p.watch_time_sec) for p in series.points] == [
        ("2026-09-29", 0, 0),
        ("2026-09-30", 1, 1),
        ("2026-10-01", 20, 5),
        ("2026-10-02", 0, 0),
    ]
    assert series.points[1].video_revenue == "0.0" and series.data_through == "2026-10-01"


def test_weekly_and_monthly_series_cover_every_period_containing_the_range(services):
    weekly = _series(services, 13, common_pb2.WEEKLY, "2026-09-30", "2026-10-06")
    assert [(p.period_start, p.period_end, p.views) for p in weekly.points] == [
        ("2026-09-28", "2026-10-04", 21),
        ("2026-10-05", "2026-10-11", 0),
    ]
    monthly = _series(services, 13, common_pb2.MONTHLY, "2026-09-30", "2026-10-01")
    assert [(p.period_start, p.period_end, p.views) for p in monthly.points] == [
        ("2026-09-01", "2026-09-30", 1),
        ("2026-10-01", "2026-10-31", 20),
    ]


def test_a_series_longer_than_366_points_is_refused(services):
    assert len(_series(services, 13, common_pb2.DAILY, "2025-01-01", "2026-01-01").points) == 366
    with pytest.raises(grpc.RpcError) as err:
        _series(services, 13, common_pb2.DAILY, "2025-01-01", "2026-01-02")
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 366" in err.value.details()


def test_a_series_whose_end_is_before_its_start_is_refused(services):
    with pytest.raises(grpc.RpcError) as err:
        _series(services, 13, common_pb2.DAILY, "2026-10-02", "2026-10-01")
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith("to:")


def test_only_the_owner_or_an_admin_reads_a_videos_series(services):
    with pytest.raises(grpc.RpcError) as err:
        _series(services, V_OTHER, common_pb2.DAILY, "2026-09-30", "2026-09-30")
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED
    series = _series(services, V_OTHER, common_pb2.DAILY, "2026-09-30", "2026-09-30", caller=ADMIN, role="ADMIN")
    assert series.points[0].views == 100


def test_the_series_of_an_unknown_video_is_not_found(services):
    with pytest.raises(grpc.RpcError) as err:
        _series(services, 999_999, common_pb2.DAILY, "2026-09-30", "2026-09-30")
    assert err.value.code() is grpc.StatusCode.NOT_FOUND


def test_republished_figures_of_a_day_change_the_next_top_five(services):
    assert _top(services, common_pb2.DAILY, "2026-10-01").videos[0].video_id == 13
    publish_day(
        services.engine, D(2026, 10, 1), [Daily(13, views=20, watch_time_sec=5), Daily(9, views=30, watch_time_sec=1)]
    )
    try:
        assert [(v.video_id, v.views) for v in _top(services, common_pb2.DAILY, "2026-10-01").videos] == [
            (9, 30),
            (13, 20),
        ]
        assert _top(services, common_pb2.WEEKLY, "2026-10-01").videos[0].video_id == 9
    finally:
        publish_day(
            services.engine,
            D(2026, 10, 1),
            [Daily(13, views=20, watch_time_sec=5), Daily(9, views=1, watch_time_sec=1)],
        )


@pytest.mark.parametrize("role", ["VIEWER", "SELLER", "ADMIN", "INGEST"])
def test_ping_answers_any_signed_in_caller_with_an_empty_message(services, role):
    answer = services.stats.Ping(statistics_pb2.PingRequest(), metadata=services.token(4242, role))
    assert answer == statistics_pb2.PingResponse()


def test_ping_without_a_token_is_unauthenticated(services):
    with pytest.raises(grpc.RpcError) as err:
        services.stats.Ping(statistics_pb2.PingRequest())
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
