"""Explainability through the API: the real daily step computes a day on MariaDB, the
statistics service serves the video's series over gRPC, and each point says how many
playbacks each counted-view rule excluded (hand-worked figures, checked by the reference)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from domain.periods import day_bounds_us
from paysystem.v1 import common_pb2, statistics_pb2
from tests.databases import fresh_database
from tests.integration.conftest import SEOUL, BatchData
from tests.plugins.readside import (
    REDIS_SHARED_DB3,
    make_read_side,
    migrated_engine,
    serve_read_services,
)
from tests.reference import Play, Video, compute_daily

DAY = dt.date(2026, 10, 7)  # a Wednesday
SELLER, VIDEO = 2301, 41
S = 1_000_000


def _plays() -> list[Play]:
    base = day_bounds_us(DAY, SEOUL)[0] + 3600 * S
    return [
        Play("own", VIDEO, SELLER, base, 0, 100),  # the seller's own: SELF_VIEW
        Play("a", VIDEO, 7, base, 0, 300),  # a view; 300 s of video last at least 150 s at 2x
        Play("b", VIDEO, 7, base + 100 * S, 0, 10),  # before a could have ended: OVERLAP
        Play("c", VIDEO, 7, base + 120 * S, 0, 10),  # b ended by +5 s, but 20 s after b: REPEAT
        # 12 well spaced plays of one viewer: the 11th and 12th are over the daily cap.
        *[Play(f"d{k:02}", VIDEO, 8, base + k * 1000 * S, 0, 10) for k in range(12)],
    ]


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exclusions")
    with fresh_database("mariadb", "paysystem_excl_", tmp) as url:
        engine = migrated_engine(url)
        data = BatchData(engine, SEOUL)
        data.add_videos([Video(VIDEO, SELLER, 600)])
        data.add_plays(_plays())
        assert data.run_pending() == [DAY]
        read = make_read_side(engine, REDIS_SHARED_DB3, f"test-excl-{uuid.uuid4().hex[:8]}")
        with serve_read_services(url, tmp, 20117, read) as svc:
            yield svc
        read.cache.invalidate_after_batch()
        engine.dispose()


def _point(svc, period, *, caller=SELLER, role="SELLER"):
    request = statistics_pb2.GetVideoStatsRequest(
        video_id=VIDEO, period=period, to=DAY.isoformat(), **{"from": DAY.isoformat()}
    )
    [point] = svc.stats.GetVideoStats(request, metadata=svc.token(caller, role)).points
    return point


def _explained(point) -> tuple[int, ...]:
    return (
        point.views,
        point.plays,
        point.excluded_self_view,
        point.excluded_overlap,
        point.excluded_repeat,
        point.excluded_cap,
        point.watch_time_sec,
    )


# 16 plays; excluded 1 self-view, 1 overlap, 1 repeat, 2 over the cap: 11 views. Watch time:
# a 300 + c 10 + 12 x 10 (the overlap b and the seller's own earn none).
EXPECTED = (11, 16, 1, 1, 1, 2, 430)


def test_the_daily_point_explains_which_rule_excluded_each_playback(services):
    assert _explained(_point(services, common_pb2.DAILY)) == EXPECTED
    row = compute_daily([Video(VIDEO, SELLER, 600)], _plays(), SEOUL)[(VIDEO, DAY)]
    assert (
        row.views,
        row.plays,
        row.excluded_self_view,
        row.excluded_overlap,
        row.excluded_repeat,
        row.excluded_cap,
        row.watch_time_sec,
    ) == EXPECTED


@pytest.mark.parametrize("period", [common_pb2.WEEKLY, common_pb2.MONTHLY])
def test_weekly_and_monthly_points_sum_the_exclusions_of_their_days(services, period):
    assert _explained(_point(services, period)) == EXPECTED


def test_an_admin_reads_the_exclusions_too(services):
    assert _explained(_point(services, common_pb2.DAILY, caller=9, role="ADMIN")) == EXPECTED
