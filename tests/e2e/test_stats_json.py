"""Top-5 lists and video series through Envoy as JSON (figures written as the batch writes them)."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from services.common import db
from tests.plugins.readside import Daily, publish_day

DAY = dt.date(2020, 3, 4)  # a Wednesday no other test uses


@pytest.fixture(scope="module")
def figures(mesh):
    seller_id, token = mesh.sign_up_and_login("SELLER")
    video_ids = []
    for i in range(7):
        status, body = mesh.json("POST", "/v1/videos", {"title": f"clip {i}", "duration_sec": 60}, token=token)
        assert status == 200, body
        video_ids.append(int(body["video_id"]))
    engine = db.make_engine(mesh.settings)
    views = [3, 9, 3, 0, 1, 5, 3]  # ties at 3 broken by video id; the zero left out
    try:
        publish_day(
            engine,
            DAY,
            [
                Daily(v, views=n, watch_time_sec=10 * (7 - i))
                for i, (v, n) in enumerate(zip(video_ids, views, strict=True))
            ],
        )
        # As the batch writes a day's rule exclusions (9 views = 20 plays - 1 - 3 - 3 - 2 - 2).
        publish_day(
            engine,
            DAY,
            [
                Daily(
                    video_ids[1],
                    views=9,
                    watch_time_sec=60,
                    plays=20,
                    excluded_self_view=1,
                    excluded_overlap=3,
                    excluded_stream_limit=3,
                    excluded_repeat=2,
                    excluded_cap=2,
                )
            ],
        )
        yield seller_id, token, video_ids
    finally:
        engine.dispose()


def test_the_top_five_arrives_as_json_ranked_with_ties_by_video_id(mesh, figures):
    seller_id, token, ids = figures
    status, body = mesh.json(
        "GET", f"/v1/sellers/{seller_id}/top-videos?period=WEEKLY&date=2020-03-08&metric=VIEWS", token=token
    )
    assert status == 200, body
    assert [(v["rank"], v["video_id"], v["views"]) for v in body["videos"]] == [
        (1, str(ids[1]), "9"),
        (2, str(ids[5]), "5"),
        (3, str(ids[0]), "3"),
        (4, str(ids[2]), "3"),
        (5, str(ids[6]), "3"),
    ]
    assert (body["period_start"], body["period_end"], body["metric"]) == ("2020-03-02", "2020-03-08", "VIEWS")
    assert "data_through" in body


def test_the_top_five_by_watch_time(mesh, figures):
    seller_id, token, ids = figures
    _, body = mesh.json(
        "GET", f"/v1/sellers/{seller_id}/top-videos?period=MONTHLY&date=2020-03-31&metric=WATCH_TIME", token=token
    )
    assert [v["video_id"] for v in body["videos"]] == [str(i) for i in ids[:5]]


def test_another_sellers_top_five_is_a_json_403(mesh, figures):
    seller_id, _, _ = figures
    _, other = mesh.sign_up_and_login("SELLER")
    status, body = mesh.json(
        "GET", f"/v1/sellers/{seller_id}/top-videos?period=DAILY&date=2020-03-04&metric=VIEWS", token=other
    )
    assert status == 403 and body["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=DAILY&date=2020-03-04", "metric"),
        ("period=DAILY&date=2020-03-04&metric=METRIC_UNSPECIFIED", "metric"),
        ("period=DAILY&date=04-03-2020&metric=VIEWS", "date"),
        ("date=2020-03-04&metric=VIEWS", "period"),
    ],
)
def test_a_bad_top_five_query_is_a_json_400_naming_the_field(mesh, figures, query, field):
    seller_id, token, _ = figures
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/top-videos?{query}", token=token)
    assert status == 400
    assert body["message"].startswith(f"{field}:")


def test_a_video_series_arrives_as_json_with_zero_points(mesh, figures):
    _, token, ids = figures
    status, body = mesh.json(
        "GET", f"/v1/videos/{ids[1]}/stats?period=DAILY&from=2020-03-03&to=2020-03-05", token=token
    )
    assert status == 200, body
    assert [(p["period_start"], p["views"]) for p in body["points"]] == [
        ("2020-03-03", "0"),
        ("2020-03-04", "9"),
        ("2020-03-05", "0"),
    ]


def test_a_too_long_series_is_a_json_400(mesh, figures):
    _, token, ids = figures
    status, body = mesh.json(
        "GET", f"/v1/videos/{ids[1]}/stats?period=DAILY&from=2019-01-01&to=2020-12-31", token=token
    )
    assert status == 400 and "at most 366" in body["message"]


def test_a_video_series_explains_per_rule_how_many_playbacks_were_not_views(mesh, figures):
    _, token, ids = figures
    status, body = mesh.json(
        "GET", f"/v1/videos/{ids[1]}/stats?period=WEEKLY&from=2020-03-04&to=2020-03-04", token=token
    )
    assert status == 200, body
    [point] = body["points"]
    assert {
        k: point[k]
        for k in (
            "views",
            "plays",
            "excluded_self_view",
            "excluded_overlap",
            "excluded_stream_limit",
            "excluded_repeat",
            "excluded_cap",
        )
    } == {
        "views": "9",
        "plays": "20",
        "excluded_self_view": "1",
        "excluded_overlap": "3",
        "excluded_stream_limit": "3",
        "excluded_repeat": "2",
        "excluded_cap": "2",
    }
    _, zero = mesh.json("GET", f"/v1/videos/{ids[1]}/stats?period=DAILY&from=2020-03-03&to=2020-03-03", token=token)
    assert zero["points"][0]["plays"] == "0" and zero["points"][0]["excluded_cap"] == "0"


def test_ping_through_envoy_answers_an_empty_object_to_a_token_and_401_without_one(mesh):
    _, token = mesh.sign_up_and_login("VIEWER")
    assert mesh.json("GET", "/v1/statistics:ping", token=token) == (200, {})
    status, body = mesh.json("GET", "/v1/statistics:ping")
    assert status == 401, body
