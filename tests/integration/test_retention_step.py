"""Audience retention written by the SQL daily step (batch/steps/retention.py) on MariaDB and
SQLite against tests/reference.py's brute-force compute_retention: random segments with their
boundaries at 0 and at the duration, start = end, positions past the end, durations not
divisible by 100 (and 0); only counted views; reruns and late data rewrite the rows."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import SEOUL, BatchData
from tests.integration.test_daily_step import at, play
from tests.reference import Video, compute_retention

MON = dt.date(2026, 11, 2)
TUE = dt.date(2026, 11, 3)
SELLER = 1000
DURATIONS = [0, 1, 3, 7, 99, 100, 101, 250, 333, 1001]


@st.composite
def segments(draw, duration: int):
    """A (start, end) with start <= end, biased to the edges: 0, the duration, one either side."""
    edges = sorted({0, 1, max(0, duration - 1), duration, duration + 1, 2 * duration + 5})
    start = draw(st.sampled_from(edges) | st.integers(0, 2 * duration + 5))
    end = draw(
        st.sampled_from([start, start + 1, *[e for e in edges if e >= start]]) | st.integers(start, start + 3000)
    )
    return start, end


@st.composite
def world(draw):
    durations = draw(st.lists(st.sampled_from(DURATIONS) | st.integers(0, 5000), min_size=1, max_size=3))
    videos = [Video(i + 1, SELLER, d) for i, d in enumerate(durations)]
    plays = []
    for n in range(draw(st.integers(1, 30))):
        video = draw(st.sampled_from(videos))
        start, end = draw(segments(video.duration_sec))
        day = draw(st.sampled_from([MON, TUE]))
        # Distinct viewers one minute apart: every play a counted view, except the seller's own.
        viewer = draw(st.sampled_from([SELLER, 7, 8, 9])) if draw(st.booleans()) else 100 + n
        plays.append(play(video.video_id, viewer, at(day, 10, n), start, end))
    return videos, plays


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=world(), late=st.integers(0, 30))
def test_retention_equals_the_reference(batch_engine, case, late):
    videos, plays = case
    data = BatchData(batch_engine, SEOUL)
    data.clear()
    data.add_videos(videos)
    data.add_plays(plays[: len(plays) - late])
    data.run_pending()
    data.add_plays(plays[len(plays) - late :])  # late data: the days are computed again
    data.run_pending()
    expected = compute_retention(videos, plays, SEOUL)
    assert data.retention_rows() == expected
    for (video_id, day), (views, _) in expected.items():
        assert data.daily_rows()[(video_id, day)].views == views


def test_hand_worked_retention_counts_only_counted_views(batch_db):
    batch_db.add_videos([Video(1, SELLER, 250)])  # point k at 2.5 k seconds
    batch_db.add_plays(
        [
            play(1, 7, at(MON, 9), 0, 250),  # every point
            play(1, 8, at(MON, 9), 5, 10),  # 5 <= 2.5 k < 10: points 2 and 3
            play(1, 9, at(MON, 9), 10, 10),  # start = end: a view covering nothing
            play(1, SELLER, at(MON, 9), 0, 250),  # the seller's own: not a view
            play(1, 7, at(MON, 9, 0, 10), 0, 250),  # 10 s after viewer 7's: an overlap, not a view
        ]
    )
    batch_db.run_pending()
    views, points = batch_db.retention_rows()[(1, MON)]
    assert views == 3
    assert points == (1, 1, 2, 2) + (1,) * 96
    # A rerun changes nothing; a late play rewrites the day's row.
    batch_db.add_plays([play(1, 10, at(MON, 11), 0, 3)])  # 0 <= 2.5 k < 3: points 0 and 1
    batch_db.run_pending()
    assert batch_db.retention_rows()[(1, MON)] == (4, (2, 2, 2, 2) + (1,) * 96)
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == []
