"""Audience retention through Envoy as JSON, fed by the real batch (on both meshes: SQLite and
MariaDB): plays ingested with an INGEST account, the daily job run with RunJob, then
GET /v1/videos/{id}/retention over ranges equal to tests/reference.py's compute_retention
summed over the range's days (counts, not percents); another seller 403, an admin 200, an
unknown video 404, a bad range 400."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import grpc
import pytest

from domain.periods import day_bounds_us
from tests import reference

# March 2013: before every other test's data (the reference e2e test's 2014 included).
DAYS = [dt.date(2013, 3, 4), dt.date(2013, 3, 5), dt.date(2013, 3, 6)]
DURATIONS = (250, 333)  # not divisible by 100: points at fractional seconds
SEGMENTS = [(0, 250), (0, 1), (5, 10), (10, 10), (249, 250), (250, 400), (100, 333), (0, 999), (17, 18)]


def _plays(zone: ZoneInfo, videos: list[int], viewers: list[int], tag: str) -> list[reference.Play]:
    plays = []
    for d, day in enumerate(DAYS):
        start_us, _ = day_bounds_us(day, zone)
        for k, (start, end) in enumerate(SEGMENTS):
            video = videos[(k + d) % 2]
            at = start_us + (k * 3_600 + 60 + d) * 1_000_000
            plays.append(reference.Play(f"{tag}-{day}-{k}", video, viewers[(k + d) % 4], at, start, end))
        # The same viewer and video 10 s after the first play: an overlap, not a counted view.
        first = plays[-len(SEGMENTS)]
        plays.append(
            reference.Play(f"{tag}-{day}-o", first.video_id, first.viewer_id, first.started_at_us + 10**7, 0, 250)
        )
    return plays


@pytest.fixture(scope="module")
def retention_world(mesh):
    zone = ZoneInfo(mesh.settings.timezone)
    seller_id, seller_token = mesh.sign_up_and_login("SELLER")
    videos = []
    for duration in DURATIONS:
        status, body = mesh.json(
            "POST", "/v1/videos", {"title": f"retention {duration}", "duration_sec": duration}, token=seller_token
        )
        assert status == 200, body
        videos.append(int(body["video_id"]))
    viewers = [mesh.sign_up_and_login("VIEWER")[0] for _ in range(3)] + [seller_id]  # the seller: self-views
    plays = _plays(zone, videos, viewers, f"ret-{seller_id}")
    _, ingest = mesh.create_account_directly("INGEST")
    status, body = mesh.record_plays(plays, ingest)
    assert status == 200 and int(body["stored"]) == len(plays), body
    _, admin = mesh.create_admin()
    status, events = mesh.run_job(
        {"job": "daily", "date": DAYS[0].isoformat(), "to_date": DAYS[-1].isoformat(), "rerun": True}, admin
    )
    assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events
    catalogue = [reference.Video(v, seller_id, d) for v, d in zip(videos, DURATIONS, strict=True)]
    expected = reference.compute_retention(catalogue, plays, zone)
    return seller_token, admin, videos, expected


def _expected(expected: dict, video: int, first: dt.date, last: dt.date) -> tuple[int, list[int]]:
    days = [row for (v, day), row in expected.items() if v == video and first <= day <= last]
    return sum(views for views, _ in days), [sum(points[k] for _, points in days) for k in range(100)]


def _retention(mesh, video: int, first: dt.date, last: dt.date, token: str) -> tuple[int, dict]:
    return mesh.json("GET", f"/v1/videos/{video}/retention?from={first}&to={last}", token=token)


@pytest.mark.parametrize(("first", "last"), [(DAYS[0], DAYS[-1]), (DAYS[1], DAYS[1]), (DAYS[0], DAYS[1])])
def test_the_range_sums_the_days_counts_as_the_reference(mesh, retention_world, first, last):
    token, _, videos, expected = retention_world
    for video in videos:
        status, body = _retention(mesh, video, first, last, token)
        assert status == 200, body
        views, points = _expected(expected, video, first, last)
        assert views > 0 and max(points) > 0  # the range has figures to compare
        assert int(body["views"]) == views
        assert [int(p) for p in body["points"]] == points  # counts (int64 as JSON strings), not percents
        assert (body["video_id"], body["from"], body["to"]) == (str(video), first.isoformat(), last.isoformat())


def test_a_range_without_plays_has_100_zero_points(mesh, retention_world):
    token, _, videos, _ = retention_world
    status, body = _retention(mesh, videos[0], dt.date(2013, 1, 1), dt.date(2013, 1, 31), token)
    assert status == 200, body
    assert int(body.get("views", "0")) == 0 and [int(p) for p in body["points"]] == [0] * 100


def test_an_admin_reads_it_another_seller_gets_403(mesh, retention_world):
    token, admin, videos, expected = retention_world
    status, body = _retention(mesh, videos[1], DAYS[0], DAYS[-1], admin)
    assert status == 200 and int(body["views"]) == _expected(expected, videos[1], DAYS[0], DAYS[-1])[0]
    _, other = mesh.sign_up_and_login("SELLER")
    status, body = _retention(mesh, videos[1], DAYS[0], DAYS[-1], other)
    assert status == 403 and body["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0], body


def test_an_unknown_video_is_404(mesh, retention_world):
    token, _, _, _ = retention_world
    status, body = _retention(mesh, 10**12, DAYS[0], DAYS[-1], token)
    assert status == 404 and body["code"] == grpc.StatusCode.NOT_FOUND.value[0], body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2013-03-06&to=2013-03-04", "to"),  # ends before it starts
        ("from=2012-01-01&to=2013-03-06", "to"),  # more than 366 days
        ("from=06-03-2013&to=2013-03-06", "from"),
        ("from=2013-03-04", "to"),
    ],
)
def test_a_bad_range_is_a_json_400_naming_the_field(mesh, retention_world, query, field):
    token, _, videos, _ = retention_world
    status, body = mesh.json("GET", f"/v1/videos/{videos[0]}/retention?{query}", token=token)
    assert status == 400 and body["message"].startswith(f"{field}:"), body
