"""Property: with playbacks built to make rules 3 and 4 bite (overlaps at and around half the
previous watch time, seeks, 2x speed, quick repeats, ties, more than 10 plays of a viewer and
video a day, both sides of midnight) arriving late in random order, the SQL daily step on
MariaDB and SQLite equals tests/reference.py exactly: views, ad views, watch time, money and
the per-rule exclusion counts, for every day, week and month."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.periods import day_bounds_us
from tests.integration.conftest import SEOUL, BatchData
from tests.reference import Play, Video

# Sunday -> Monday (a new ISO week) -> Tuesday (a new month).
DAYS = [dt.date(2026, 11, 29), dt.date(2026, 11, 30), dt.date(2026, 12, 1)]
SELLERS = {1: 500, 2: 501}
VIEWERS = [500, 7, 8]
S = 1_000_000
DURATIONS = st.sampled_from([0, 1, 59, 301, 600, 901, 1800])
# Watched lengths: zero, odd (a half second at 2x), around the ad marks, past the end.
LENGTHS = st.sampled_from([0, 1, 10, 59, 299, 300, 301, 601, 2000])


def _watch(play: Play, duration: int) -> int:
    return max(0, min(play.end_position_sec, duration) - play.start_position_sec)


@st.composite
def sessions(draw, videos: list[Video]):
    """Chains of playbacks of one viewer and video, each placed relative to the previous one
    so that the overlap and repeat edges are hit exactly."""
    durations = {v.video_id: v.duration_sec for v in videos}
    plays: list[Play] = []
    for chain in range(draw(st.integers(1, 4))):
        video = draw(st.sampled_from(list(SELLERS)))
        viewer = draw(st.sampled_from(VIEWERS))
        day = draw(st.sampled_from(DAYS))
        # Near the day's end or start, so chains cross midnight; or in the middle.
        started = day_bounds_us(day, SEOUL)[0] + draw(st.sampled_from([-1800, -40, -1, 0, 20, 43_200])) * S
        previous = None
        for i in range(draw(st.integers(1, 24))):
            if previous is not None:
                half_us = _watch(previous, durations[video]) * S // 2
                passing = max(half_us, 30 * S)
                gap = draw(
                    st.one_of(
                        st.sampled_from([0, 1, 29_999_999, 30 * S, 30 * S + 1]),
                        st.sampled_from([half_us - 1, half_us, half_us + 1]).filter(lambda g: g >= 0),
                        st.integers(0, 3000).map(lambda sec: sec * S),
                        # binges: well spaced plays that pass rules 1-3, to reach the daily cap
                        st.integers(0, 600).map(lambda sec, passing=passing: passing + sec * S),
                        st.integers(0, 600).map(lambda sec, passing=passing: passing + sec * S),
                    )
                )
                started = previous.started_at_us + gap
            start = draw(st.sampled_from([0, 0, 10, 299, 300, 900]))  # seeks
            tag = draw(st.sampled_from(["a", "B", "é", "9"]))  # byte-wise ties on started_at
            play = Play(f"{tag}{chain}-{i:02}", video, viewer, started, start, start + draw(LENGTHS))
            plays.append(play)
            previous = play
    return plays


@st.composite
def scenario(draw):
    videos = [Video(v, s, draw(DURATIONS)) for v, s in SELLERS.items()]
    plays = draw(sessions(videos))
    arrival = draw(st.permutations(plays))
    cut1 = draw(st.integers(0, len(plays)))
    cut2 = draw(st.integers(cut1, len(plays)))
    return videos, plays, [arrival[:cut1], arrival[cut1:cut2], arrival[cut2:]]


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=scenario())
def test_the_sql_step_equals_the_reference_with_overlaps_caps_and_late_data(batch_engine, case):
    videos, _, batches = case  # the batches are the plays, permuted and cut
    BatchData(batch_engine, SEOUL).assert_arrivals_equal_the_reference(videos, batches)
