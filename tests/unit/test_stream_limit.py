"""Rule 5, the stream limit (DESIGN.md section 2 "Counted view" 5), in domain/counted_views.py: worked
examples at the exact edges (docs/rules.md), each also checked against tests/reference.py,
and a property over random histories built to make the rule bite."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import counted_views
from domain.periods import day_bounds_us
from tests import reference

SEOUL = ZoneInfo("Asia/Seoul")
S = 1_000_000
SELLER, VIEWER = 100, 7
# video -> (seller, duration): three videos of SELLER and one of VIEWER's own (self-views).
VIDEOS = {
    1: (SELLER, 1000),
    2: (SELLER, 1000),
    3: (SELLER, 1000),
    4: (VIEWER, 1000),
    5: (SELLER, 86_400),
    6: (SELLER, 86_400),
}
NOON = day_bounds_us(dt.date(2026, 11, 2), SEOUL)[0] + 12 * 3600 * S
MIDNIGHT = day_bounds_us(dt.date(2026, 11, 3), SEOUL)[0]
E = counted_views.Exclusion


def play(event_id: str, started: int, start: int = 0, end: int = 600, video: int = 1, viewer: int = VIEWER):
    return reference.Play(event_id, video, viewer, started, start, end)


def classified(plays) -> dict:
    """domain.counted_views' verdicts, after checking that they are the reference's."""
    ours = counted_views.classify_plays(plays, VIDEOS, zone=SEOUL)
    videos = {v: reference.Video(v, seller, duration) for v, (seller, duration) in VIDEOS.items()}
    theirs = reference.classify(videos, plays, SEOUL)
    assert {e: (x.value if x else None) for e, x in ours.items()} == {e: r[3] for e, r in theirs.items()}
    return ours


@pytest.mark.parametrize(
    ("watch_sec", "elapsed_us", "running"),
    [
        (600, 0, True),  # running from its own start instant
        (600, 300 * S - 1, True),
        (600, 300 * S, False),  # started_at + watch / 2 is no longer running
        (601, 300 * S, True),  # 601 s run 300.5 s: half seconds matter
        (601, 300 * S + 499_999, True),
        (601, 300 * S + 500_000, False),
        (0, 0, False),  # a zero watch time never runs
        (600, -1, False),  # not yet started
    ],
)
def test_a_playback_runs_from_its_start_for_half_its_watch_time_exactly(watch_sec, elapsed_us, running):
    assert counted_views.is_running(NOON, watch_sec, NOON + elapsed_us) is running
    ends = counted_views.running_end_scaled(NOON, watch_sec)
    if elapsed_us >= 0:
        assert ((NOON + elapsed_us) * counted_views.MAX_PLAYBACK_SPEED < ends) is running


def test_two_streams_are_allowed_and_the_third_is_over_the_limit():
    plays = [play("a", NOON, video=1), play("b", NOON + 10 * S, video=2), play("c", NOON + 20 * S, video=3)]
    assert classified(plays) == {"a": None, "b": None, "c": E.STREAM_LIMIT}


def test_an_earlier_playback_ending_exactly_at_the_start_is_not_running():
    # a: 600 s at 2x runs 300 s, until NOON + 300 s exactly.
    at_end = [play("a", NOON), play("b", NOON + 10 * S, video=2), play("c", NOON + 300 * S, video=3)]
    assert classified(at_end)["c"] is None
    just_before = [play("a", NOON), play("b", NOON + 10 * S, video=2), play("c", NOON + 300 * S - 1, video=3)]
    assert classified(just_before)["c"] is E.STREAM_LIMIT
    # 601 s runs 300.5 s: at NOON + 300.4999995 s it still runs, at + 300.5 s it does not.
    odd = [play("a", NOON, 0, 601), play("b", NOON + 10 * S, video=2)]
    assert classified([*odd, play("c", NOON + 300_499_999, video=3)])["c"] is E.STREAM_LIMIT
    assert classified([*odd, play("c", NOON + 300_500_000, video=3)])["c"] is None


def test_a_zero_watch_time_never_runs_but_can_itself_be_over_the_limit():
    zero_first = [play("a", NOON, 50, 50), play("b", NOON + 1, video=2), play("c", NOON + 2, video=3)]
    assert classified(zero_first)["c"] is None  # only b runs at c's start
    # Past the duration: min(end, duration) - start = 0 as well.
    past_end = [play("a", NOON, 1000, 1200), play("b", NOON + 1, video=2), play("c", NOON + 2, video=3)]
    assert classified(past_end)["c"] is None
    zero_last = [play("a", NOON), play("b", NOON + 1, video=2), play("c", NOON + 2, 7, 7, video=3)]
    assert classified(zero_last)["c"] is E.STREAM_LIMIT


def test_self_views_and_over_limit_playbacks_still_run_no_recursion():
    plays = [
        play("a", NOON, video=4),  # the viewer's own video: a self-view, still running
        play("b", NOON + 1 * S, video=1),
        play("c", NOON + 2 * S, video=2),  # over: a and b run
        play("d", NOON + 3 * S, video=3),  # over too: a, b and c run (c over the limit or not)
    ]
    assert classified(plays) == {"a": E.SELF_VIEW, "b": None, "c": E.STREAM_LIMIT, "d": E.STREAM_LIMIT}


def test_three_playbacks_at_the_same_instant_the_third_in_event_id_byte_order_is_over():
    # "B" (0x42) < "a" (0x61) < "é" (0xC3 0xA9) byte-wise.
    plays = [play("é", NOON, video=3), play("a", NOON, video=2), play("B", NOON, video=1)]
    assert classified(plays) == {"B": None, "a": None, "é": E.STREAM_LIMIT}
    # A zero watch time among the tied ones does not run: the third is not over.
    plays = [play("é", NOON, video=3), play("a", NOON, 9, 9, video=2), play("B", NOON, video=1)]
    assert classified(plays) == {"B": None, "a": None, "é": None}


def test_the_limit_crosses_midnight():
    # 86,400 s videos: a playback of 0-3600 s started 23:40 runs 30 minutes, past midnight.
    plays = [
        play("a", MIDNIGHT - 20 * 60 * S, 0, 3600, video=5),
        play("b", MIDNIGHT - 60 * S, 0, 3600, video=6),
        play("c", MIDNIGHT + 9 * 60 * S, video=2),  # a and b still run: over the limit
        play("d", MIDNIGHT + 10 * 60 * S - 1, video=3),  # a, b and c run
        # a ended at 00:10:00, c (over the limit, it still ran) at 00:14:00 and d exactly
        # now: b alone runs
        play("e", MIDNIGHT + 15 * 60 * S - 1, video=1),
    ]
    assert classified(plays) == {"a": None, "b": None, "c": E.STREAM_LIMIT, "d": E.STREAM_LIMIT, "e": None}


def test_attribution_overlap_before_stream_limit_before_repeat_and_watch_time():
    plays = [
        play("a", NOON, video=1),
        play("b", NOON + 1 * S, video=2),
        play("c", NOON + 2 * S, video=1),  # overlaps a, and over the limit: OVERLAP
        play("d", NOON + 3 * S, video=2),  # overlaps b too: OVERLAP
        play("e", NOON + 4 * S, 0, 0, video=3),  # over the limit (a, b, c, d run), zero watch
        play("f", NOON + 5 * S, video=3),  # a repeat of e (not an overlap), over the limit
    ]
    result = classified(plays)
    assert result == {"a": None, "b": None, "c": E.OVERLAP, "d": E.OVERLAP, "e": E.STREAM_LIMIT, "f": E.STREAM_LIMIT}
    assert not counted_views.earns_watch_time(E.STREAM_LIMIT)
    assert counted_views.earns_watch_time(E.REPEAT) and counted_views.earns_watch_time(E.CAP)


def test_an_over_limit_playback_is_still_the_previous_playback_of_rules_2_and_3():
    plays = [
        play("a", NOON, 0, 1000, video=1),  # runs 500 s
        play("b", NOON + 1 * S, 0, 1000, video=2),
        play("c", NOON + 2 * S, 0, 100, video=3),  # over the limit; runs 50 s all the same
        play("d", NOON + 42 * S, 0, 10, video=3),  # before c could end at 2x: an overlap of c
    ]
    assert classified(plays) == {"a": None, "b": None, "c": E.STREAM_LIMIT, "d": E.OVERLAP}
    plays = [
        play("a", NOON, 0, 20, video=1),  # runs 10 s
        play("b", NOON + 1 * S, 0, 20, video=2),  # runs until NOON + 11 s
        play("c", NOON + 5 * S, 0, 0, video=3),  # over the limit
        play("d", NOON + 20 * S, 0, 10, video=3),  # a, b ended; 15 s after c: a repeat of c
    ]
    assert classified(plays) == {"a": None, "b": None, "c": E.STREAM_LIMIT, "d": E.REPEAT}


def test_the_cap_counts_only_playbacks_that_pass_the_stream_limit():
    # Twelve well spaced 0-10 s plays of video 1; the second is over the limit (two short
    # plays of other videos run then): of the eleven that pass, the eleventh is capped.
    plays = [play(f"v{i:02}", NOON + i * 60 * S, 0, 10, video=1) for i in range(12)]
    plays += [play("x", NOON + 55 * S, 0, 20, video=2), play("y", NOON + 56 * S, 0, 20, video=3)]
    result = classified(plays)
    assert result.pop("v01") is E.STREAM_LIMIT and result.pop("v11") is E.CAP
    assert set(result.values()) == {None}


@st.composite
def histories(draw):
    """One or two viewers' playbacks of four videos (one the first viewer's own), each placed
    relative to an earlier one at, around and inside its running time, with ties on the
    instant, zero watch times and seeks past the end, around midnight."""
    plays = []
    for i in range(draw(st.integers(1, 14))):
        video = draw(st.sampled_from([1, 2, 3, 4]))
        viewer = draw(st.sampled_from([VIEWER, VIEWER, 8]))
        start = draw(st.sampled_from([0, 0, 10, 999, 1000]))
        end = start + draw(st.sampled_from([0, 1, 60, 301, 600, 2000]))
        if plays and draw(st.booleans()):
            base = draw(st.sampled_from(plays))
            watch = max(0, min(base.end_position_sec, 1000) - base.start_position_sec)
            half = watch * S // 2
            gap = draw(st.sampled_from([0, 1, half - 1, half, half + 1, 30 * S, half // 2]).filter(lambda g: g >= 0))
            started = base.started_at_us + gap
        else:
            started = MIDNIGHT + draw(st.integers(-600, 600)) * S
        tag = draw(st.sampled_from(["a", "B", "é", "9"]))
        plays.append(play(f"{tag}{i:02}", started, start, end, video=video, viewer=viewer))
    return plays


@settings(max_examples=300, deadline=None)
@given(histories())
def test_rules_classify_plays_equals_the_reference(plays):
    classified(plays)
