"""The raw count of a request's top-level fields (services/common/decoding.py) and the safe
deserializer: no grpc server here (tests/integration/test_request_decoding.py has one)."""

from __future__ import annotations

import time

import pytest

from domain.errors import MalformedRequest, TooManyEvents
from paysystem.v1 import video_pb2
from services.common.decoding import FieldCap, Refused, safe_deserializer, top_level_fields_exceed


def _request(count: int) -> bytes:
    events = [video_pb2.PlayEvent(event_id=f"e{i}", video_id=i + 1, viewer_id=2) for i in range(count)]
    return video_pb2.RecordPlaysRequest(events=events).SerializeToString()


@pytest.mark.parametrize("count", [0, 1, 4, 5])
def test_the_count_is_exact_at_and_around_the_cap(count):
    data = _request(count)
    assert top_level_fields_exceed(data, count) is False
    assert top_level_fields_exceed(data, count - 1) is (count > 0)


def test_every_wire_type_is_walked_and_unknown_fields_count():
    # field 2 varint, field 3 fixed64, field 4 fixed32, field 1 length-delimited
    data = b"\x10\x96\x01" + b"\x19" + b"\x00" * 8 + b"\x25" + b"\x00" * 4 + b"\x0a\x00"
    assert top_level_fields_exceed(data, 4) is False
    assert top_level_fields_exceed(data, 3) is True


@pytest.mark.parametrize("data", [b"\xff\xff\xff", b"\x0a\x05ab", b"\x0b\x0c", b"\x08" + b"\x80" * 20])
def test_a_malformed_message_is_left_to_the_parser(data):
    assert top_level_fields_exceed(data, 0 if not data else 10) is False


def test_the_walk_stops_at_the_cap_whatever_the_size():
    # Benchmark-style, no timed assertion: prints what the refusal of the attack's 2.7
    # million empty events costs against counting a message at the cap.
    attack, at_cap = b"\n\x00" * 2_700_000, b"\n\x00" * 5_000
    for label, data in (("2.7M events", attack), ("at the cap", at_cap)):
        started = time.process_time()
        refused = top_level_fields_exceed(data, 5_000)
        print(f"{label}: {(time.process_time() - started) * 1000:.2f} ms of CPU, refused={refused}")
    assert top_level_fields_exceed(attack, 5_000) and not top_level_fields_exceed(at_cap, 5_000)


def test_the_safe_deserializer_returns_refusals_instead_of_raising():
    parse = safe_deserializer(
        video_pb2.RecordPlaysRequest.FromString, "/x.S/RecordPlays", FieldCap(3, lambda: TooManyEvents("too many"))
    )
    assert len(parse(_request(3)).events) == 3
    over = parse(_request(4))
    assert type(over) is Refused and isinstance(over.error, TooManyEvents) and over.log_line is None
    bad = parse(b"\xff\xff\xff")
    assert type(bad) is Refused and isinstance(bad.error, MalformedRequest)
    assert "not a valid protobuf message for RecordPlays" in str(bad.error) and "/x.S/RecordPlays" in bad.log_line
