"""The playback rules of the ingest, without a database."""

from __future__ import annotations

import pytest

from services.video.plays import (
    FUTURE_ALLOWANCE_US,
    PlayEvent,
    resume_key,
    resume_position,
    shape_problem,
    video_problem,
)
from services.video.service import decode_page_token, encode_page_token
from services.common.errors import InvalidArgument

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
        with pytest.raises(InvalidArgument):
            decode_page_token(forged)
