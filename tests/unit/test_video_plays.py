"""The playback rules of the ingest, without a database."""

from __future__ import annotations

import random
import string
from zoneinfo import ZoneInfo

import pytest

from domain import counted_views
from domain.errors import BadPageRequest
from domain.periods import local_day_of
from domain.plays import (
    DEFAULT_VIEWER_LATE_WINDOW_SEC,
    FUTURE_ALLOWANCE_US,
    NOT_ENDED,
    LocalDays,
    PlayEvent,
    cannot_have_ended,
    is_too_late,
    resume_key,
    resume_position,
    shape_is_fine,
    shape_problem,
    timing_problem,
    too_late_reason,
    video_problem,
    watch_time_sec,
)
from services.common.settings import Settings
from services.video.service import decode_page_token, encode_page_token

NOW = 1_800_000_000_000_000


def ev(**overrides) -> PlayEvent:
    fields = dict(event_id="e-1", video_id=1, viewer_id=2, started_at_us=NOW, start_position_sec=0, end_position_sec=10)
    fields.update(overrides)
    return PlayEvent(**fields)


def test_a_well_formed_event_has_no_problem():
    assert shape_problem(ev()) is None


def test_a_playback_with_equal_start_and_end_is_valid():
    assert shape_problem(ev(start_position_sec=5, end_position_sec=5)) is None


WEEK_US = 7 * 86_400 * 1_000_000
MINUTES_5_US = 5 * 60 * 1_000_000


def test_the_limits_are_the_designs_five_minutes_and_seven_days():
    assert FUTURE_ALLOWANCE_US == MINUTES_5_US
    assert DEFAULT_VIEWER_LATE_WINDOW_SEC * 1_000_000 == WEEK_US


def test_a_playback_may_end_at_double_speed_up_to_five_minutes_after_the_server_clock():
    # 600 s watched: at 2x it takes 300 s, so the latest start is now + 5 min - 300 s = now.
    assert not cannot_have_ended(NOW, 600, NOW)
    assert cannot_have_ended(NOW + 1, 600, NOW)
    # An odd watch time: half of 601 s is 300.5 s.
    assert not cannot_have_ended(NOW - 500_000, 601, NOW)
    assert cannot_have_ended(NOW - 499_999, 601, NOW)


def test_with_no_watch_time_the_start_itself_may_be_five_minutes_ahead_of_the_server_clock():
    assert not cannot_have_ended(NOW + MINUTES_5_US, 0, NOW)
    assert cannot_have_ended(NOW + MINUTES_5_US + 1, 0, NOW)


def test_a_playback_may_be_recorded_up_to_exactly_the_late_window_after_it_started():
    assert not is_too_late(NOW - WEEK_US, NOW, WEEK_US)
    assert is_too_late(NOW - WEEK_US - 1, NOW, WEEK_US)
    assert not is_too_late(NOW + MINUTES_5_US, NOW, WEEK_US)  # ahead of the clock: the other rule


def test_the_timing_problem_applies_the_late_window_only_when_given_one():
    old = ev(started_at_us=NOW - WEEK_US - 1, start_position_sec=0, end_position_sec=10)
    assert timing_problem(old, 600, NOW, WEEK_US) == too_late_reason(WEEK_US)
    assert timing_problem(old, 600, NOW, None) is None  # an INGEST account backfills
    assert timing_problem(ev(started_at_us=NOW - WEEK_US), 600, NOW, WEEK_US) is None


def test_the_timing_problem_clamps_the_watch_time_to_the_videos_length():
    # 0..900 of a 600 s video is 600 s watched, 300 s at 2x: a start at `now` is the limit.
    overshoot = ev(started_at_us=NOW, start_position_sec=0, end_position_sec=900)
    assert timing_problem(overshoot, 600, NOW, WEEK_US) is None
    assert timing_problem(overshoot._replace(started_at_us=NOW + 1), 600, NOW, WEEK_US) == NOT_ENDED
    assert timing_problem(overshoot._replace(started_at_us=NOW + 1), 900, NOW, None) == NOT_ENDED


def test_the_reasons_name_the_field_and_the_limit():
    assert NOT_ENDED.startswith("started_at: ") and "5 minutes" in NOT_ENDED
    assert too_late_reason(WEEK_US).startswith("started_at: more than 7 days ago")
    assert "2 hours" in too_late_reason(7_200_000_000) and "90 s" in too_late_reason(90_000_000)
    assert "1 day " in too_late_reason(86_400_000_000)


def test_the_late_window_setting_comes_from_the_environment_and_must_be_positive(monkeypatch):
    monkeypatch.delenv("PAYSYSTEM_VIEWER_LATE_WINDOW_SEC", raising=False)
    assert Settings().viewer_late_window_sec == DEFAULT_VIEWER_LATE_WINDOW_SEC
    monkeypatch.setenv("PAYSYSTEM_VIEWER_LATE_WINDOW_SEC", "3600")
    assert Settings().viewer_late_window_sec == 3_600
    monkeypatch.setenv("PAYSYSTEM_VIEWER_LATE_WINDOW_SEC", "0")
    with pytest.raises(ValueError, match="PAYSYSTEM_VIEWER_LATE_WINDOW_SEC"):
        Settings()


def test_the_ingests_watch_time_is_the_batchs():
    for start, end, duration in [(0, 0, 10), (0, 5, 10), (3, 20, 10), (10, 10, 10), (0, 10**6, 3_600)]:
        event = ev(start_position_sec=start, end_position_sec=end)
        assert watch_time_sec(event, duration) == counted_views.watch_time_sec(start, end, duration)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_id": ""}, "event_id"),
        ({"event_id": "x" * 129}, "event_id"),
        ({"event_id": " lead"}, "event_id"),
        ({"event_id": "tab\t"}, "event_id"),
        ({"event_id": "nul\x00inside"}, "event_id"),
        ({"video_id": 0}, "video_id"),
        ({"viewer_id": -1}, "viewer_id"),
        ({"started_at_us": None}, "started_at"),
        ({"started_at_us": -1}, "started_at"),
        ({"start_position_sec": -1}, "start_position_sec"),
        ({"start_position_sec": 10, "end_position_sec": 9}, "end_position_sec"),
    ],
)
def test_malformed_events_are_rejected_with_a_reason_naming_the_field(overrides, field):
    assert shape_problem(ev(**overrides)).startswith(f"{field}:")


def test_an_event_id_of_128_characters_any_script_is_fine():
    assert shape_problem(ev(event_id="é" * 128)) is None


def test_start_may_reach_but_not_pass_the_videos_length_and_end_may_pass_it():
    assert video_problem(ev(start_position_sec=600, end_position_sec=900), 600) is None
    assert video_problem(ev(start_position_sec=601, end_position_sec=900), 600).startswith("start_position_sec:")
    assert video_problem(ev(), None) == "video_id: unknown video 1"


def test_the_resume_position_goes_back_to_zero_once_the_end_is_reached():
    assert resume_position(599, 600) == 599
    assert resume_position(600, 600) == 0
    assert resume_position(900, 600) == 0


def test_playbacks_are_ordered_by_start_then_by_event_id_byte_order():
    assert resume_key(ev(event_id="B", started_at_us=1)) < resume_key(ev(event_id="a", started_at_us=1))
    assert resume_key(ev(event_id="z", started_at_us=1)) < resume_key(ev(event_id="a", started_at_us=2))


def test_page_tokens_round_trip_and_forgeries_are_refused():
    assert decode_page_token(encode_page_token(12345)) == 12345
    assert decode_page_token("") == 0
    for forged in ["nope", encode_page_token(1)[:-1] + "!", "djE6MA"]:  # last: "v1:0"
        with pytest.raises(BadPageRequest):
            decode_page_token(forged)


def test_the_quick_shape_test_never_passes_an_event_that_has_a_problem():
    rng = random.Random(7)
    ids = ["e-1", "", " a", "a ", "\u3000a", "a\u00a0", "a\tb", "é" * 128, "x" * 129, "\x85z", "ok\u2028", "it's"]
    ids += [
        "".join(rng.choice(string.printable + "é\u3000\u00a0\x00") for _ in range(rng.randint(0, 6)))
        for _ in range(300)
    ]
    numbers = [-1, 0, 1, 5]
    times = [None, -1, 0, NOW, NOW + 10**15]
    checked = passed = 0
    for event_id in ids:
        for _ in range(20):
            event = PlayEvent(
                event_id,
                rng.choice(numbers),
                rng.choice(numbers),
                rng.choice(times),
                rng.choice(numbers),
                rng.choice(numbers),
            )
            quick = shape_is_fine(event)
            checked += 1
            passed += quick
            if quick:
                assert shape_problem(event) is None, event
    assert passed > 0 and checked > passed
    assert shape_is_fine(ev())


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"])
def test_the_remembered_local_day_equals_local_day_of_around_clock_changes_and_midnights(zone):
    tz = ZoneInfo(zone)
    days = LocalDays(tz)
    rng = random.Random(zone)
    # 2026: every instant within a few hours of local midnights and of the clock changes.
    start = 1_767_225_600_000_000
    instants = [start + rng.randrange(366 * 86_400_000_000) for _ in range(4_000)]
    instants += [
        start + h * 3_600_000_000 + rng.randrange(-5, 5) * 60_000_000 + rng.randrange(60_000_000)
        for h in range(366 * 24)
    ]
    instants += [start + m * 15 * 60_000_000 + d for m in range(0, 366 * 96, 7) for d in (-1, 0, 1)]
    for instant in instants:
        assert days.iso(instant) == local_day_of(instant, tz).isoformat(), instant
