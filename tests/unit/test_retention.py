"""Audience retention's rules (domain/retention.py) against the definition point by point, and
its use case (services/statistics/retention.py) on the in-memory reader: the range's sums and
the refusals in the video series' order. Figures worked out by hand below."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import BadRange, NotOwner, VideoNotFound
from domain.retention import (
    POINTS,
    decode_points,
    deltas_of,
    encode_deltas,
    end_point,
    first_point,
    sum_points,
)
from services.common.auth import Principal
from services.statistics.retention import read_video_retention
from tests.fakes.figures import FakeFigures, FakeStatisticsReader

ADMIN, SELLER_7, SELLER_8 = Principal(1, "admin", "ADMIN"), Principal(7, "s7", "SELLER"), Principal(8, "s8", "SELLER")
D = dt.date(2026, 3, 3)
THROUGH = dt.date(2026, 3, 5)


def covered(start: int, end: int, duration: int) -> list[int]:
    """The definition (DESIGN 2c), every point checked: start * 100 <= k * duration < end * 100."""
    return [k for k in range(POINTS) if start * 100 <= k * duration < end * 100]


@given(
    duration=st.sampled_from([0, 1, 3, 7, 99, 100, 101, 250, 333, 1000, 86_401]) | st.integers(0, 5000),
    start=st.integers(0, 6000),
    length=st.sampled_from([0, 1, 2]) | st.integers(0, 6000),
)
def test_a_play_covers_the_run_of_points_the_definition_gives(duration, start, length):
    end = start + length
    assert list(range(first_point(start, end, duration), end_point(end, duration))) == covered(start, end, duration)


@pytest.mark.parametrize(
    ("start", "end", "duration", "points"),
    [
        (0, 250, 250, list(range(100))),  # the whole video: every point
        (0, 1, 250, [0]),  # point 1 is at 2.5 s
        (5, 5, 250, []),  # start = end covers nothing
        (250, 400, 250, []),  # from the end on: past point 99 (247.5 s)
        (0, 0, 0, []),  # a zero duration: every point at second 0, needs end > 0
        (0, 1, 0, list(range(100))),
        (1, 9, 0, []),
        (3, 4, 7, list(range(43, 58))),  # 300 / 7 = 42.86 <= k < 400 / 7 = 57.14
    ],
)
def test_hand_worked_runs(start, end, duration, points):
    assert list(range(first_point(start, end, duration), end_point(end, duration))) == points


def test_a_day_is_stored_as_its_non_zero_deltas_in_any_order_and_decodes_to_its_counts():
    day = (2, 2, 3) + (3,) * 47 + (1,) * 50
    assert encode_deltas(deltas_of(day)) == "0:2,2:1,50:-2"
    assert decode_points("50:-2,0:2,2:1") == day  # GROUP_CONCAT has no set order
    assert decode_points("") == (0,) * 100  # no counted view
    assert decode_points("0:1,99:-1") == (1,) * 99 + (0,)
    assert sum_points([day, day]) == tuple(2 * c for c in day)
    assert sum_points([]) == (0,) * 100
    with pytest.raises(ValueError, match="outside"):
        decode_points("100:1")
    with pytest.raises(ValueError, match="100 points"):
        deltas_of([1, 2])


@given(st.lists(st.integers(0, 10**12), min_size=100, max_size=100))
def test_deltas_round_trip(counts):
    assert decode_points(encode_deltas(deltas_of(counts))) == tuple(counts)


def world() -> FakeFigures:
    data = FakeFigures(videos={1: (7, "Cats"), 9: (8, "Other")})
    data.retention[(D, 1)] = (3, (3,) * 50 + (1,) * 50)
    data.retention[(D + dt.timedelta(days=1), 1)] = (2, (2,) * 10 + (0,) * 90)
    data.retention[(D + dt.timedelta(days=5), 1)] = (100, (100,) * 100)  # outside the range below
    data.retention[(D, 9)] = (4, (4,) * 100)  # another video
    return data


@pytest.mark.parametrize("principal", [SELLER_7, ADMIN])
def test_the_range_sums_views_and_points_of_its_days(principal):
    reader = FakeStatisticsReader(world())
    got = read_video_retention(reader, principal, 1, D, D + dt.timedelta(days=2), THROUGH)
    assert (got.video_id, got.first, got.last, got.data_through) == (1, D, D + dt.timedelta(days=2), THROUGH)
    assert got.views == 5
    assert got.points == (5,) * 10 + (3,) * 40 + (1,) * 50


def test_a_range_without_rows_has_no_views_and_zero_points():
    got = read_video_retention(
        FakeStatisticsReader(world()), SELLER_7, 1, D - dt.timedelta(days=9), D - 1 * dt.timedelta(days=1), None
    )
    assert (got.views, got.points, got.data_through) == (0, (0,) * 100, None)


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
def test_retention_is_refused_in_the_video_series_order(principal, video_id, to, error):
    with pytest.raises(error):
        read_video_retention(FakeStatisticsReader(world()), principal, video_id, D, to, THROUGH)


def test_a_year_of_days_is_allowed():
    got = read_video_retention(FakeStatisticsReader(world()), SELLER_7, 1, D, D + dt.timedelta(days=365), THROUGH)
    assert got.views == 105
