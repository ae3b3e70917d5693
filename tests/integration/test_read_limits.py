"""Issue 14 on the read services, over real gRPC on MariaDB: cheap refusals come first.

A caller who may not read a video learns nothing about the size of the range they asked for,
and a range far over the limit is refused by arithmetic, in milliseconds: before the fix the
widest range built ~2.9 million dates (about 6 s) before the 366-point check, which the
3-second deadline below turns into a failure.
"""

from __future__ import annotations

import uuid

import grpc
import pytest

from paysystem.v1 import common_pb2, settlement_pb2, statistics_pb2
from tests.databases import fresh_database
from tests.plugins.readside import REDIS_SHARED_DB3, add_videos, make_read_side, migrated_engine, serve_read_services

SELLER, OTHER, VIEWER = 3001, 3002, 3003
VIDEO = 7001
DEADLINE_SEC = 3.0


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("read-limits")
    with fresh_database("mariadb", "paysystem_limits_", tmp) as url:
        engine = migrated_engine(url)
        with engine.begin() as conn:
            add_videos(conn, SELLER, [VIDEO])
        read = make_read_side(engine, REDIS_SHARED_DB3, f"test-limits-{uuid.uuid4().hex[:8]}")
        with serve_read_services(url, tmp, 20147, read) as svc:
            yield svc
        engine.dispose()


def _series(svc, first, last, *, caller, role="SELLER", period=common_pb2.DAILY):
    request = statistics_pb2.GetVideoStatsRequest(video_id=VIDEO, period=period, to=last, **{"from": first})
    return svc.stats.GetVideoStats(request, metadata=svc.token(caller, role), timeout=DEADLINE_SEC)


def _error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


@pytest.mark.parametrize("caller, role", [(OTHER, "SELLER"), (VIEWER, "VIEWER")])
def test_a_huge_range_from_someone_who_may_not_read_the_video_is_permission_denied(services, caller, role):
    err = _error(lambda: _series(services, "1970-01-01", "9999-12-26", caller=caller, role=role))
    assert err.code() is grpc.StatusCode.PERMISSION_DENIED


# Days: 3,652,059 in 0001..9999, less 719,162 before 1970 and 5 after 9999-12-26. Weeks: from
# Monday 1969-12-29 (1970-01-01 is a Thursday) to Monday 9999-12-20 is 2,932,891 + 3 - 6 days.
@pytest.mark.parametrize(
    "period, count", [(common_pb2.DAILY, 3_652_059 - 719_162 - 5), (common_pb2.WEEKLY, (2_932_891 + 3 - 6) // 7 + 1)]
)
def test_the_owners_huge_range_is_refused_at_once_with_its_size(services, period, count):
    err = _error(lambda: _series(services, "1970-01-01", "9999-12-26", caller=SELLER, period=period))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert f"spans {count:d} " in err.details() and "at most 366" in err.details()


@pytest.mark.parametrize("day", ["9999-12-31", "9999-12-27", "0001-01-01"])
@pytest.mark.parametrize("period", [common_pb2.DAILY, common_pb2.WEEKLY, common_pb2.MONTHLY])
def test_a_statement_or_top_five_at_the_ends_of_the_calendar_is_an_invalid_argument(services, day, period):
    token = services.token(SELLER)
    statement = settlement_pb2.GetStatementRequest(seller_id=SELLER, period=period, date=day)
    err = _error(lambda: services.settlement.GetStatement(statement, metadata=token, timeout=DEADLINE_SEC))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT and err.details().startswith("date: ")
    top = statistics_pb2.GetTopVideosRequest(seller_id=SELLER, period=period, date=day, metric=statistics_pb2.VIEWS)
    err = _error(lambda: services.stats.GetTopVideos(top, metadata=token, timeout=DEADLINE_SEC))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT and err.details().startswith("date: ")


def test_the_last_whole_week_and_month_of_the_calendar_are_served(services):
    token = services.token(SELLER)
    week = services.settlement.GetStatement(
        settlement_pb2.GetStatementRequest(seller_id=SELLER, period=common_pb2.WEEKLY, date="9999-12-26"),
        metadata=token,
    )
    assert (week.period_start, week.period_end) == ("9999-12-20", "9999-12-26")
    series = _series(services, "9999-11-05", "9999-12-26", caller=SELLER, period=common_pb2.MONTHLY)
    assert [(p.period_start, p.period_end) for p in series.points] == [
        ("9999-11-01", "9999-11-30"),
        ("9999-12-01", "9999-12-31"),
    ]
