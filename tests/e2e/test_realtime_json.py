"""The realtime estimate through Envoy, on both meshes (SQLite without Redis: read from the play
history; MariaDB with Redis: counted at ingest): playbacks recorded with POST /v1/plays:batch
are in GET /v1/sellers/{id}/realtime and GET /v1/videos/{id}/realtime within 2 seconds,
equal to tests/reference.py's count of the playbacks sent minus self-views; the
WatchRealtime stream pushes the change and ends at the client's deadline."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import grpc
import pytest

from paysystem.v1 import realtime_pb2, statistics_pb2_grpc
from services.readpath.cache import make_redis
from services.video.realtime import PREFIX
from tests.e2e.conftest import REDIS_URL
from tests.reference import Play, Video, realtime_estimate

VISIBLE_WITHIN_SEC = 2.0


def forget_realtime(seller_id: int) -> None:
    """Deletes the seller's Redis counters left by another database with the same account ids
    (an earlier run on the same Redis); a new seller of this database has none of its own."""
    client = make_redis(REDIS_URL, socket_timeout=1.0)
    keys = list(client.scan_iter(match=f"{PREFIX}:{{{seller_id}}}:*"))
    if keys:
        client.delete(*keys)


def _points(points: list[dict]) -> list[tuple[str, int]]:
    return [(p["start"], int(p.get("playbacks", "0"))) for p in points]


def _as_of(body: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(body["as_of"].replace("Z", "+00:00"))


def _now_us(offset_sec: float = 0) -> int:
    return time.time_ns() // 1000 + int(offset_sec * 1_000_000)


@pytest.fixture
def channel_seller(mesh):
    seller_id, token = mesh.sign_up_and_login("SELLER")
    forget_realtime(seller_id)
    videos = mesh.create_videos(token, 2)
    return seller_id, token, videos


def _record(mesh, plays: list[Play], viewers: dict[int, str]) -> None:
    """Each viewer records its own playbacks (the seller's own are self-views)."""
    for viewer_id, token in viewers.items():
        own = [p for p in plays if p.viewer_id == viewer_id]
        if own:
            status, body = mesh.record_plays(own, token)
            assert status == 200 and int(body.get("stored", 0)) == len(own), body


def _until(read, expected_of, what: str):
    """Reads until the answer equals what the reference expects at the answer's own time;
    fails after VISIBLE_WITHIN_SEC. Returns (answer, seconds it took)."""
    started = time.monotonic()
    while True:
        status, body = read()
        assert status == 200, body
        got = (_points(body["minutes"]), _points(body["hours"]))
        if got == expected_of(_as_of(body)):
            return body, time.monotonic() - started
        if time.monotonic() - started > VISIBLE_WITHIN_SEC:
            raise AssertionError(f"{what}: not the expected figures after {VISIBLE_WITHIN_SEC} s: {got}")
        time.sleep(0.05)


def test_playbacks_are_in_the_realtime_figures_within_two_seconds(mesh, channel_seller):
    seller_id, seller_token, (video_a, video_b) = channel_seller
    viewers = dict(mesh.sign_up_and_login("VIEWER") for _ in range(2))
    (v1, v2) = viewers
    catalogue = {v: Video(v, seller_id, 600) for v in (video_a, video_b)}
    plays = [
        Play(uuid.uuid4().hex, video_a, v1, _now_us(-5), 0, 3),
        Play(uuid.uuid4().hex, video_a, v1, _now_us(-130), 0, 60),
        Play(uuid.uuid4().hex, video_b, v1, _now_us(-70 * 60), 0, 60),  # in the hours only
        Play(uuid.uuid4().hex, video_b, v2, _now_us(-20), 5, 9),
        Play(uuid.uuid4().hex, video_a, v2, _now_us(-30 * 3600), 0, 9),
        Play(uuid.uuid4().hex, video_a, seller_id, _now_us(-8), 0, 9),  # a self-view
    ]
    _record(mesh, plays, {**viewers, seller_id: seller_token})
    seller_path = f"/v1/sellers/{seller_id}/realtime"
    body, took = _until(
        lambda: mesh.json("GET", seller_path, token=seller_token),
        lambda now: realtime_estimate(catalogue, plays, now, seller_id),
        "seller",
    )
    assert took <= VISIBLE_WITHIN_SEC
    assert body["estimated"] is True and len(body["minutes"]) == 60 and len(body["hours"]) == 48
    assert sum(int(p.get("playbacks", "0")) for p in body["hours"]) == 5  # six sent, one self-view
    if mesh.settings.redis_url:  # the MariaDB mesh: counted at ingest, in Redis
        counters = make_redis(REDIS_URL).scan_iter(match=f"{PREFIX}:{{{seller_id}}}:*")
        assert any(key.split(b":")[2] == b"s" for key in counters)
    _until(
        lambda: mesh.json("GET", f"/v1/videos/{video_b}/realtime", token=seller_token),
        lambda now: realtime_estimate(catalogue, plays, now, seller_id, video_b),
        "video",
    )
    # Who may read: the seller, an admin; not another seller; an unknown video is 404.
    _, other = mesh.sign_up_and_login("SELLER")
    assert mesh.json("GET", seller_path, token=other)[0] == 403
    assert mesh.json("GET", f"/v1/videos/{video_a}/realtime", token=other)[0] == 403
    _, admin = mesh.create_admin()
    assert mesh.json("GET", seller_path, token=admin)[0] == 200
    status, body = mesh.json("GET", f"/v1/videos/{10**12}/realtime", token=seller_token)
    assert status == 404, body


def test_the_stream_pushes_a_playback_and_ends_at_the_deadline(mesh, channel_seller):
    seller_id, seller_token, (video_a, _) = channel_seller
    viewer_id, viewer_token = mesh.sign_up_and_login("VIEWER")
    stub = statistics_pb2_grpc.StatisticsServiceStub(mesh.channel())
    stream = stub.WatchRealtime(
        realtime_pb2.WatchRealtimeRequest(seller_id=seller_id), metadata=mesh.metadata(seller_token), timeout=3.5
    )
    first = next(stream)
    assert first.estimated and sum(p.playbacks for p in first.minutes) == 0
    received: list[tuple[float, realtime_pb2.Realtime]] = []
    errors: list[grpc.StatusCode] = []

    def read() -> None:
        try:
            for message in stream:
                received.append((time.monotonic(), message))
        except grpc.RpcError as exc:
            errors.append(exc.code())

    reader = threading.Thread(target=read)
    reader.start()
    play = Play(uuid.uuid4().hex, video_a, viewer_id, _now_us(-3), 0, 2)
    _record(mesh, [play], {viewer_id: viewer_token})
    sent = time.monotonic()
    reader.join(10)
    assert not reader.is_alive() and errors == []  # ended at the deadline, with OK
    pushed = [(at, m) for at, m in received if sum(p.playbacks for p in m.minutes) == 1]
    assert pushed, [sum(p.playbacks for p in m.minutes) for _, m in received]
    assert pushed[0][0] - sent <= VISIBLE_WITHIN_SEC


def test_a_caller_has_at_most_two_streams_at_once(mesh, channel_seller):
    seller_id, seller_token, _ = channel_seller
    stub = statistics_pb2_grpc.StatisticsServiceStub(mesh.channel())
    request = realtime_pb2.WatchRealtimeRequest(seller_id=seller_id)
    # Envoy spreads the streams over the two instances: the limit is per instance, so five
    # streams of one caller open at once leave at least one refused.
    streams = [stub.WatchRealtime(request, metadata=mesh.metadata(seller_token), timeout=3) for _ in range(5)]
    codes = []
    for stream in streams:
        try:
            next(stream)
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as exc:
            codes.append(exc.code())
    for stream in streams:
        stream.cancel()
    assert codes.count(grpc.StatusCode.OK) <= 4
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes
