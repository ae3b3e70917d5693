"""The settlement service over real gRPC on MariaDB, with the Redis cache (shared server, DB 3).

Figures are written the way the batch writes them (tests.plugins.readside.publish_day).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import grpc
import pytest

from paysystem.v1 import common_pb2, settlement_pb2
from tests.databases import fresh_database
from tests.plugins.readside import (
    REDIS_SHARED_DB3,
    Daily,
    add_videos,
    make_read_side,
    mark_computed,
    migrated_engine,
    publish_day,
    serve_read_services,
)

D = dt.date
SELLER, OTHER, ADMIN = 1001, 1002, 9
V1, V2, V3, V_OTHER = 5001, 5002, 5003, 6001
# ISO week 2026-W40: Monday 2026-09-28 .. Sunday 2026-10-04, across September and October.
WEEK = [D(2026, 9, 28) + dt.timedelta(days=i) for i in range(7)]


def _day_rows(i: int) -> list[Daily]:
    return [
        Daily(
            V1, views=10 + i, watch_time_sec=100 * i, ad_views=i, video_revenue=f"{10 + i}.1", ad_revenue=f"{10 * i}"
        ),
        Daily(V2, views=1, watch_time_sec=5, ad_views=0, video_revenue="0.3333", ad_revenue="0"),
        # V3 has plays on no day of the week except Sunday (zero amount otherwise: no line).
        Daily(V3, views=0, watch_time_sec=30, ad_views=0, video_revenue="0", ad_revenue="0"),
        Daily(V_OTHER, views=7, watch_time_sec=70, ad_views=1, video_revenue="7.0", ad_revenue="10"),
    ]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("settlement")
    with fresh_database("mariadb", "paysystem_stats_", tmp) as url:
        engine = migrated_engine(url)
        with engine.begin() as conn:
            add_videos(conn, SELLER, [V1, V2, V3])
            add_videos(conn, OTHER, [V_OTHER])
        for i, day in enumerate(WEEK):
            publish_day(engine, day, _day_rows(i))
        publish_day(engine, D(2026, 9, 1), [Daily(V1, views=1, video_revenue="1.0")])
        read = make_read_side(engine, REDIS_SHARED_DB3, f"test-stmt-{uuid.uuid4().hex[:8]}")
        with serve_read_services(url, tmp, 20101, read) as svc:
            yield svc
        read.cache.invalidate_after_batch()
        engine.dispose()


def _statement(svc, period, date, *, seller=SELLER, caller=SELLER, role="SELLER"):
    request = settlement_pb2.GetStatementRequest(seller_id=seller, period=period, date=date)
    return svc.settlement.GetStatement(request, metadata=svc.token(caller, role))


def test_a_weekly_statement_is_the_sum_of_its_seven_days_across_two_months(services):
    st = _statement(services, common_pb2.WEEKLY, "2026-10-01")
    assert (st.period_start, st.period_end) == ("2026-09-28", "2026-10-04")
    # V1: video sum(10..16) + 7 * 0.1 = 91.7; ad 10 * (0+..+6) = 210. V2: 7 * 0.3333 = 2.3331.
    assert [(line.video_id, line.video_revenue, line.ad_revenue, line.amount) for line in st.lines] == [
        (V1, "91.7", "210.0", "301.7"),
        (V2, "2.3331", "0.0", "2.3331"),
    ]
    assert [(line.views, line.ad_views) for line in st.lines] == [(91, 21), (7, 0)]
    assert (st.video_revenue, st.ad_revenue, st.total) == ("94.0331", "210.0", "304.0331")
    assert st.payable_krw == 304
    assert st.currency == "KRW"
    assert st.data_through == "2026-10-04"


def test_monthly_statements_get_only_their_own_days_of_a_split_week(services):
    september = _statement(services, common_pb2.MONTHLY, "2026-09-15")
    october = _statement(services, common_pb2.MONTHLY, "2026-10-31")
    assert (september.period_start, september.period_end) == ("2026-09-01", "2026-09-30")
    assert (october.period_start, october.period_end) == ("2026-10-01", "2026-10-31")
    # September: 9/1 (1.0) + days 0..2 of the week; October: days 3..6.
    assert september.lines[0].video_revenue == "34.3"  # 1.0 + 10.1 + 11.1 + 12.1
    assert september.lines[0].ad_revenue == "30.0"  # 0 + 10 + 20
    assert october.lines[0].video_revenue == "58.4"  # 13.1 + 14.1 + 15.1 + 16.1
    assert october.lines[0].ad_revenue == "180.0"  # 30 + 40 + 50 + 60
    weekly = _statement(services, common_pb2.WEEKLY, "2026-09-28")
    assert september.lines[1].video_revenue == "0.9999" and october.lines[1].video_revenue == "1.3332"
    assert weekly.total == "304.0331"


def test_a_daily_statement_lists_only_videos_with_a_non_zero_amount_in_video_order(services):
    st = _statement(services, common_pb2.DAILY, "2026-09-30")
    assert [line.video_id for line in st.lines] == [V1, V2]
    assert (st.period_start, st.period_end) == ("2026-09-30", "2026-09-30")
    assert st.lines[0].title == f"video {V1}"
    assert st.total == "32.4333" and st.payable_krw == 32


def test_the_payable_amount_truncates_the_exact_total_once_not_each_line(services):
    # Lines 301.7 and 2.3331: truncated one by one they would pay 303; the total pays 304.
    st = _statement(services, common_pb2.WEEKLY, "2026-10-04")
    assert sum(int(Decimal(line.amount)) for line in st.lines) == 303
    assert st.payable_krw == 304


def test_an_empty_period_has_zero_totals_and_no_lines(services):
    st = _statement(services, common_pb2.MONTHLY, "2025-01-10")
    assert list(st.lines) == []
    assert (st.total, st.video_revenue, st.ad_revenue, st.payable_krw) == ("0.0", "0.0", "0.0", 0)
    assert (st.period_start, st.period_end) == ("2025-01-01", "2025-01-31")


def test_a_seller_cannot_read_another_sellers_statement(services):
    with pytest.raises(grpc.RpcError) as err:
        _statement(services, common_pb2.WEEKLY, "2026-10-01", seller=OTHER, caller=SELLER)
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_a_viewer_cannot_read_statements_even_with_a_matching_id(services):
    with pytest.raises(grpc.RpcError) as err:
        _statement(services, common_pb2.WEEKLY, "2026-10-01", seller=SELLER, caller=SELLER, role="VIEWER")
    assert err.value.code() is grpc.StatusCode.PERMISSION_DENIED


def test_an_admin_reads_any_sellers_statement(services):
    st = _statement(services, common_pb2.WEEKLY, "2026-10-01", seller=OTHER, caller=ADMIN, role="ADMIN")
    assert [(line.video_id, line.amount) for line in st.lines] == [(V_OTHER, "119.0")]


@pytest.mark.parametrize(
    ("period", "date", "field"),
    [
        (common_pb2.PERIOD_UNSPECIFIED, "2026-10-01", "period"),
        (42, "2026-10-01", "period"),
        (common_pb2.WEEKLY, "", "date"),
        (common_pb2.WEEKLY, "2026-02-30", "date"),
        (common_pb2.WEEKLY, "2026-2-3", "date"),
        (common_pb2.WEEKLY, "01/10/2026", "date"),
    ],
)
def test_a_bad_period_or_date_is_an_invalid_argument_naming_the_field(services, period, date, field):
    with pytest.raises(grpc.RpcError) as err:
        _statement(services, period, date)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(f"{field}:")


def test_a_statement_without_a_token_is_unauthenticated(services):
    request = settlement_pb2.GetStatementRequest(seller_id=SELLER, period=common_pb2.DAILY, date="2026-10-01")
    with pytest.raises(grpc.RpcError) as err:
        services.settlement.GetStatement(request)
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED


def test_a_republished_figure_is_visible_on_the_next_read(services):
    day = D(2026, 10, 2)
    before = _statement(services, common_pb2.WEEKLY, "2026-10-02")
    assert _statement(services, common_pb2.WEEKLY, "2026-10-02") == before  # cached now
    cache = services.read.cache
    assert cache.client.keys(f"{cache.prefix}:stmt:*"), "the first read should have filled the cache"
    rows = _day_rows(4)
    rows[0] = Daily(V1, views=14, watch_time_sec=400, ad_views=4, video_revenue="1000.1", ad_revenue="40")
    publish_day(services.engine, day, rows)
    after = _statement(services, common_pb2.WEEKLY, "2026-10-02")
    assert after.lines[0].video_revenue == "1077.7"  # 91.7 - 14.1 + 1000.1
    daily = _statement(services, common_pb2.DAILY, "2026-10-02")
    assert daily.lines[0].video_revenue == "1000.1"
    publish_day(services.engine, day, _day_rows(4))  # put the module's figures back
    assert _statement(services, common_pb2.WEEKLY, "2026-10-02").lines[0].video_revenue == "91.7"


def test_data_through_is_the_latest_computed_day(services):
    mark_computed(services.engine, D(2026, 10, 10))
    try:
        assert _statement(services, common_pb2.DAILY, "2026-10-01").data_through == "2026-10-10"
    finally:
        with services.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM computed_days WHERE day = '2026-10-10'")
