"""The ingest use cases (services/video/ingest.py: RecordPlays, ImportPlays) against the
in-memory play log (tests/fakes/video.py's FakePlayLog): no database. A rejected event is
checked to leave no trace."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import NotOwner, RoleNotAllowed, TooManyEvents
from domain.plays import (
    ARCHIVED_MONTH,
    CONFLICT_IN_REQUEST,
    CONFLICT_STORED,
    FUTURE_ALLOWANCE_US,
    MAX_EVENTS_PER_CALL,
    NOT_ENDED,
    Outcome,
    PlayEvent,
    PlayResult,
    timing_problem,
    too_late_reason,
)
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.video.ingest import Ingest
from services.video.ports import StoredResume
from tests.fakes.video import FakePlayLog

UTC = ZoneInfo("UTC")
SEOUL = ZoneInfo("Asia/Seoul")
NOW = 1_700_000_000_000_000  # 2023-11-14T22:13:20Z (2023-11-15 in Seoul)
MIN, DAY = 60_000_000, 86_400_000_000
WINDOW_SEC = 7 * 86_400
INGESTER = Principal(1, "ingest", "INGEST")
VIEWER = Principal(20, "viewer", "VIEWER")
STORED, DUPLICATE, REJECTED = Outcome.STORED, Outcome.DUPLICATE, Outcome.REJECTED


def world(*, archived: set[str] | None = None, zone: ZoneInfo = UTC) -> tuple[Ingest, FakePlayLog]:
    log = FakePlayLog({7: 600, 8: 61}, {20, 21}, archived)
    return Ingest(log, zone, viewer_late_window_sec=WINDOW_SEC, clock=FixedClock(NOW)), log


def play(event_id: str, *, video: int = 7, viewer: int = 20, at: int = NOW - 60 * MIN, start=0, end=60) -> PlayEvent:
    return PlayEvent(event_id, video, viewer, at, start, end)


def test_new_events_are_stored_with_their_day_counts_and_resume_positions():
    ingest, log = world()
    events = [play("b", end=30), play("a", viewer=21, at=NOW - 2 * DAY, start=10, end=700)]
    assert ingest.record_plays(INGESTER, events) == [PlayResult("b", STORED), PlayResult("a", STORED)]
    assert log.plays == {
        "b": ((7, 20, NOW - 60 * MIN, 0, 30), "2023-11-14"),
        "a": ((7, 21, NOW - 2 * DAY, 10, 700), "2023-11-12"),
    }
    assert log.day_counts == {"2023-11-14": 1, "2023-11-12": 1}
    assert log.resume_position(20, 7) == StoredResume(30, NOW)
    assert log.resume_position(21, 7) == StoredResume(0, NOW)  # reached the end: back to 0
    assert log.stores == 1


def test_the_local_day_is_the_zones():
    ingest, log = world(zone=SEOUL)
    ingest.record_plays(INGESTER, [play("a")])  # 21:13 UTC is 06:13 the next day in Seoul
    assert log.plays["a"][1] == "2023-11-15"
    assert log.day_counts == {"2023-11-15": 1}


def test_the_same_event_again_is_a_duplicate_and_changes_nothing():
    ingest, log = world()
    ingest.record_plays(INGESTER, [play("a")])
    before = (dict(log.plays), dict(log.resumes), dict(log.day_counts))
    assert ingest.record_plays(INGESTER, [play("a"), play("n", end=90)]) == [
        PlayResult("a", DUPLICATE),
        PlayResult("n", STORED),
    ]
    assert log.day_counts == {"2023-11-14": 2}
    assert (log.plays["a"], log.resumes[(20, 7)][2]) == (before[0]["a"], "n")


def test_different_content_under_a_stored_event_id_is_a_conflict_and_the_stored_event_stays():
    ingest, log = world()
    ingest.record_plays(INGESTER, [play("a", end=60)])
    assert ingest.record_plays(INGESTER, [play("a", end=61)]) == [PlayResult("a", REJECTED, CONFLICT_STORED)]
    assert log.plays["a"][0][-1] == 60
    assert log.day_counts == {"2023-11-14": 1}
    assert log.resume_position(20, 7) == StoredResume(60, NOW)


def test_repeats_within_a_request_follow_the_first_occurrence():
    ingest, log = world()
    results = ingest.record_plays(
        INGESTER, [play("a"), play("a"), play("a", end=61), play("x", video=99), play("x", video=99)]
    )
    assert results == [
        PlayResult("a", STORED),
        PlayResult("a", DUPLICATE),
        PlayResult("a", REJECTED, CONFLICT_IN_REQUEST),
        PlayResult("x", REJECTED, "video_id: unknown video 99"),
        PlayResult("x", REJECTED, "video_id: unknown video 99"),  # a rejected first: the same
    ]
    assert list(log.plays) == ["a"]
    assert log.day_counts == {"2023-11-14": 1}


def test_a_repeat_of_a_stored_event_within_a_request_with_other_content_is_a_conflict_in_the_request():
    ingest, log = world()
    ingest.record_plays(INGESTER, [play("a")])
    assert ingest.record_plays(INGESTER, [play("a"), play("a", end=5)]) == [
        PlayResult("a", DUPLICATE),
        PlayResult("a", REJECTED, CONFLICT_IN_REQUEST),
    ]


def test_unknown_videos_accounts_and_bad_shapes_are_rejected_and_leave_no_trace():
    ingest, log = world()
    results = ingest.record_plays(
        INGESTER,
        [
            play("v", video=99),
            play("w", viewer=77),
            play("s", start=601, end=700),  # beyond the video's 600 s
            play("e", start=10, end=5),
            play(" padded"),
        ],
    )
    assert [r.reason for r in results] == [
        "video_id: unknown video 99",
        "viewer_id: unknown account 77",
        "start_position_sec: 601 is beyond the video's length of 600 s",
        "end_position_sec: 5 is before start_position_sec 10",
        "event_id: must not start or end with whitespace",
    ]
    assert {r.outcome for r in results} == {REJECTED}
    assert (log.plays, log.resumes, log.day_counts, log.stores) == ({}, {}, {}, 0)  # nothing to store


def test_the_callers_own_account_is_known_without_a_lookup():
    ingest, log = world()
    log.accounts.clear()
    assert ingest.record_plays(VIEWER, [play("a")]) == [PlayResult("a", STORED)]


def test_a_viewer_records_only_their_own_playbacks_and_import_is_for_ingest_accounts():
    ingest, log = world()
    with pytest.raises(NotOwner):
        ingest.record_plays(VIEWER, [play("a"), play("b", viewer=21)])
    with pytest.raises(RoleNotAllowed):
        list(ingest.import_plays(VIEWER, [[play("a")]]))
    with pytest.raises(TooManyEvents):
        ingest.record_plays(INGESTER, [play(f"e{i}") for i in range(MAX_EVENTS_PER_CALL + 1)])
    assert log.plays == {}


def test_timing_rules_at_their_edges():
    ingest, log = world()
    window = WINDOW_SEC * 1_000_000
    latest = NOW + FUTURE_ALLOWANCE_US
    results = ingest.record_plays(
        VIEWER,
        [
            play("late-ok", at=NOW - window),
            play("late", at=NOW - window - 1),
            play("end-ok", at=latest - 30_000_000, start=0, end=60),  # + 60 s / 2 = the limit
            play("end", at=latest - 30_000_000 + 1, start=0, end=60),
            play("clamped", video=8, at=latest - 30_500_000, start=0, end=900),  # watch time 61 s
        ],
    )
    assert results == [
        PlayResult("late-ok", STORED),
        PlayResult("late", REJECTED, too_late_reason(window)),
        PlayResult("end-ok", STORED),
        PlayResult("end", REJECTED, NOT_ENDED),
        PlayResult("clamped", STORED),
    ]
    # INGEST accounts backfill any past day; the future limit still holds.
    old = NOW - 400 * DAY
    assert ingest.record_plays(INGESTER, [play("old", at=old), play("future", at=latest + 1, end=0)]) == [
        PlayResult("old", STORED),
        PlayResult("future", REJECTED, NOT_ENDED),
    ]


def test_an_archived_month_refuses_its_playbacks_and_stores_the_others():
    ingest, log = world(archived={"2023-10"})
    october = NOW - 20 * DAY  # 2023-10-25
    results = ingest.record_plays(INGESTER, [play("old", at=october), play("new"), play("old", at=october)])
    assert results == [
        PlayResult("old", REJECTED, ARCHIVED_MONTH),
        PlayResult("new", STORED),
        PlayResult("old", REJECTED, ARCHIVED_MONTH),
    ]
    assert list(log.plays) == ["new"]
    assert log.day_counts == {"2023-11-14": 1}


def test_the_resume_position_follows_the_newest_playback_by_started_at_then_event_id():
    ingest, log = world()
    t = NOW - 60 * MIN
    ingest.record_plays(INGESTER, [play("m", at=t, end=100), play("k", at=t - 1, end=200)])
    assert log.resume_position(20, 7) == StoredResume(100, NOW)
    ingest.record_plays(INGESTER, [play("z", at=t - MIN, end=300)])  # older, later: no change
    assert log.resumes[(20, 7)] == (100, t, "m", NOW)
    ingest.record_plays(INGESTER, [play("n", at=t, end=400), play("a", at=t, end=500)])  # same start: "n" > "m"
    assert log.resumes[(20, 7)] == (400, t, "n", NOW)
    ingest.record_plays(INGESTER, [play("b", at=t + 1, start=590, end=600)])  # reached the end
    assert log.resume_position(20, 7) == StoredResume(0, NOW)
    assert log.day_counts == {"2023-11-14": 6}


def test_import_writes_chunk_by_chunk_in_stream_order():
    ingest, log = world()
    batches = [[play(f"e{i}") for i in range(3_000)], [play(f"e{i}") for i in range(2_999, 6_000)]]
    chunks = list(ingest.import_plays(INGESTER, batches))
    assert [len(c) for c in chunks] == [5_000, 1_001]
    outcomes = [r.outcome for c in chunks for r in c]
    assert outcomes.count(DUPLICATE) == 1 and outcomes[3_000] is DUPLICATE  # e2999 again, within the first chunk
    assert len(log.plays) == 6_000 and log.stores == 2


# --- the hot loop's inlined timing test is plays.timing_problem's ----------------------------

DURATIONS = {7: 600, 8: 61, 9: 1, 10: 3_599}


@st.composite
def near_the_edges(draw) -> tuple[PlayEvent, bool]:
    video = draw(st.sampled_from(sorted(DURATIONS)))
    duration = DURATIONS[video]
    start = draw(st.integers(0, duration))
    end = draw(st.one_of(st.integers(start, duration + 3), st.integers(start, start + 3)))
    watch = max(0, min(end, duration) - start)
    viewer_window = draw(st.booleans())
    edge = draw(
        st.sampled_from(
            [
                NOW - WINDOW_SEC * 1_000_000,  # the late window's edge
                NOW + FUTURE_ALLOWANCE_US - watch * 500_000,  # ends exactly at the limit
                NOW + FUTURE_ALLOWANCE_US,
                NOW,
                0,
            ]
        )
    )
    at = max(0, edge + draw(st.one_of(st.integers(-2, 2), st.integers(-600_000, 600_000))))
    return PlayEvent("e", video, 20, at, start, end), viewer_window


@settings(max_examples=400, deadline=None)
@given(near_the_edges())
def test_the_hot_loops_timing_test_accepts_and_refuses_what_timing_problem_does(case):
    event, viewer_window = case
    log = FakePlayLog(DURATIONS, {20})
    ingest = Ingest(log, UTC, viewer_late_window_sec=WINDOW_SEC, clock=FixedClock(NOW))
    principal = VIEWER if viewer_window else INGESTER
    [result] = ingest.record_plays(principal, [event])
    problem = timing_problem(event, DURATIONS[event.video_id], NOW, WINDOW_SEC * 1_000_000 if viewer_window else None)
    if problem is None:
        assert result == PlayResult("e", STORED)
    else:
        assert result == PlayResult("e", REJECTED, problem)
        assert log.plays == {} and log.stores == 0
