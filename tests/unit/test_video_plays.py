"""The playback rules of the ingest, without a database."""

from __future__ import annotations

import random
import string
from zoneinfo import ZoneInfo

import pytest

from services.common.errors import BadPageRequest
from services.common.periods import local_day_of
from services.video.plays import (
    FUTURE_ALLOWANCE_US,
    LocalDays,
    PlayEvent,
    resume_key,
    resume_position,
    shape_is_fine,
    shape_problem,
    video_problem,
)
from services.video.service import decode_page_token, encode_page_token

NOW = 1_800_000_000_000_000


def ev(**overrides) -> PlayEvent:
    fields = dict(event_id="e-1", video_id=1, viewer_id=2, started_at_us=NOW, start_position_sec=0, end_position_sec=10)
    fields.update(overrides)
    return PlayEvent(**fields)


def test_a_well_formed_event_has_no_problem():
    assert shape_problem(ev(), NOW) is None


def test_a_playback_with_equal_start_and_end_is_valid():
    assert shape_problem(ev(start_position_sec=5, end_position_sec=5), NOW) is None


def test_started_at_may_be_up_to_five_minutes_ahead_of_the_server_clock():
    assert shape_problem(ev(started_at_us=NOW + FUTURE_ALLOWANCE_US), NOW) is None
    assert shape_problem(ev(started_at_us=NOW + FUTURE_ALLOWANCE_US + 1), NOW).startswith("started_at:")


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
    assert shape_problem(ev(**overrides), NOW).startswith(f"{field}:")


def test_an_event_id_of_128_characters_any_script_is_fine():
    assert shape_problem(ev(event_id="é" * 128), NOW) is None


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
    ids += ["".join(rng.choice(string.printable + "é\u3000\u00a0\x00") for _ in range(rng.randint(0, 6))) for _ in range(300)]
    numbers = [-1, 0, 1, 5]
    times = [None, -1, 0, NOW, NOW + FUTURE_ALLOWANCE_US, NOW + FUTURE_ALLOWANCE_US + 1]
    checked = passed = 0
    for event_id in ids:
        for _ in range(20):
            event = PlayEvent(
                event_id, rng.choice(numbers), rng.choice(numbers), rng.choice(times), rng.choice(numbers), rng.choice(numbers)
            )
            quick = shape_is_fine(event, NOW + FUTURE_ALLOWANCE_US)
            checked += 1
            passed += quick
            if quick:
                assert shape_problem(event, NOW) is None, event
    assert passed > 0 and checked > passed
    assert shape_is_fine(ev(), NOW + FUTURE_ALLOWANCE_US)


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"])
def test_the_remembered_local_day_equals_local_day_of_around_clock_changes_and_midnights(zone):
    tz = ZoneInfo(zone)
    days = LocalDays(tz)
    rng = random.Random(zone)
    # 2026: every instant within a few hours of local midnights and of the clock changes.
    start = 1_767_225_600_000_000
    instants = [start + rng.randrange(366 * 86_400_000_000) for _ in range(4_000)]
    instants += [start + h * 3_600_000_000 + rng.randrange(-5, 5) * 60_000_000 + rng.randrange(60_000_000) for h in range(366 * 24)]
    instants += [start + m * 15 * 60_000_000 + d for m in range(0, 366 * 96, 7) for d in (-1, 0, 1)]
    for instant in instants:
        assert days.iso(instant) == local_day_of(instant, tz).isoformat(), instant
