"""Issue 14, item 1: ImportPlays streams cannot hold the video service's threads.

A real video service (gRPC server with its interceptors, on SQLite: the limits do not depend
on the database) with small limits: 4 handler threads, at most 2 import streams, 0.6 s of
idleness, 3 s in all. Before the fix, streams were admitted without limit and never ended, so
two idle streams plus two more took every thread and a unary call waited for ever.
"""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from paysystem.v1 import video_pb2
from services.common.metrics import STREAMS_REFUSED
from tests.plugins.video import video_service

LIMITS = {"grpc_workers": 4, "import_streams_max": 2, "import_idle_sec": 0.6, "import_max_sec": 3.0}


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    with video_service("sqlite", tmp_path_factory.mktemp("import-limits"), **LIMITS) as running:
        yield running


@pytest.fixture
def ingest_md(harness):
    return harness.md(harness.account("INGEST"))


def _chunk(n_events: int = 1) -> video_pb2.ImportPlaysChunk:
    # Events the ingest rejects (no such video): a chunk with events is progress all the same.
    return video_pb2.ImportPlaysChunk(
        events=[video_pb2.PlayEvent(event_id=f"e{i}", video_id=1) for i in range(n_events)]
    )


def _stream(release: threading.Event, *, every_sec: float | None = None, empty: bool = False):
    """One chunk, then (every `every_sec`) more chunks until `release` is set."""
    yield _chunk()
    while not release.wait(every_sec if every_sec is not None else 60):
        yield video_pb2.ImportPlaysChunk() if empty else _chunk()


def _refused(method: str, reason: str) -> float:
    return STREAMS_REFUSED.labels(method, reason)._value.get()


def _ended(future, timeout: float) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        future.result(timeout=timeout)
    return err.value


def test_a_stream_that_sends_nothing_is_ended_after_the_idle_limit_with_a_clear_message(harness, ingest_md):
    release = threading.Event()
    before = _refused("ImportPlays", "idle")
    started = time.monotonic()
    call = harness.stub.ImportPlays.future(_stream(release), metadata=ingest_md, timeout=20)
    err = _ended(call, timeout=20)
    release.set()
    assert err.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "no events for 0.6 s" in err.details()
    assert 0.6 <= time.monotonic() - started < 5
    assert _refused("ImportPlays", "idle") == before + 1


def test_empty_chunks_do_not_keep_a_stream_alive(harness, ingest_md):
    release = threading.Event()
    call = harness.stub.ImportPlays.future(_stream(release, every_sec=0.1, empty=True), metadata=ingest_md, timeout=20)
    err = _ended(call, timeout=20)
    release.set()
    assert err.code() is grpc.StatusCode.DEADLINE_EXCEEDED and "no events" in err.details()


def test_a_stream_that_keeps_sending_is_ended_at_the_total_limit(harness, ingest_md):
    release = threading.Event()
    started = time.monotonic()
    call = harness.stub.ImportPlays.future(_stream(release, every_sec=0.2), metadata=ingest_md, timeout=20)
    err = _ended(call, timeout=20)
    release.set()
    assert err.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "open for more than 3 s" in err.details()
    assert 3 <= time.monotonic() - started < 8


def test_streams_over_the_cap_are_refused_at_once_and_unary_calls_keep_their_threads(harness, ingest_md):
    release = threading.Event()
    # Keep-alive chunks every 0.2 s: within the idle limit, so the two streams stay open.
    open_streams = [
        harness.stub.ImportPlays.future(_stream(release, every_sec=0.2), metadata=ingest_md, timeout=20)
        for _ in range(2)
    ]
    try:
        time.sleep(0.5)  # both admitted
        for _ in range(3):
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as err:
                harness.stub.ImportPlays(iter([_chunk()]), metadata=ingest_md, timeout=5)
            assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "2 ImportPlays streams already open" in err.value.details()
            assert dict(err.value.trailing_metadata()).get("retry-after") == "1"
            assert time.monotonic() - started < 1
        # The other two threads still answer unary calls.
        for _ in range(4):
            with pytest.raises(grpc.RpcError) as err:
                harness.stub.GetVideo(video_pb2.GetVideoRequest(video_id=999_999), metadata=ingest_md, timeout=2)
            assert err.value.code() is grpc.StatusCode.NOT_FOUND
    finally:
        release.set()
    for stream in open_streams:
        assert stream.result(timeout=10).received == stream.result().rejected > 0


def test_a_slot_is_free_again_once_a_limit_ended_its_stream(harness, ingest_md):
    release = threading.Event()
    ended = [harness.stub.ImportPlays.future(_stream(release), metadata=ingest_md, timeout=20) for _ in range(2)]
    for call in ended:
        assert _ended(call, timeout=20).code() is grpc.StatusCode.DEADLINE_EXCEEDED
    release.set()
    answer = harness.stub.ImportPlays(iter([_chunk(3)]), metadata=ingest_md, timeout=5)
    assert (answer.received, answer.rejected) == (3, 3)


def test_an_oversize_record_plays_is_refused_before_its_events_are_converted(harness):
    # The attack's request: 2,700,000 empty events, sent as raw bytes (tag 1, length 0 each).
    # Converting them took 9 s before the count was checked first, and parsing them 0.2-1.9 s
    # before it was counted in the raw message (services/common/decoding.py).
    record = harness.channel.unary_unary(
        "/paysystem.v1.VideoService/RecordPlays",
        request_serializer=None,
        response_deserializer=video_pb2.RecordPlaysResponse.FromString,
    )
    viewer = harness.md(harness.account("VIEWER"))
    with pytest.raises(grpc.RpcError) as err:
        record(b"\n\x00" * 2_700_000, metadata=viewer, timeout=5)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 5000 events per call, got more than 5000" in err.value.details()
