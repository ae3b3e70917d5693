"""A seller's series (GET /v1/sellers/{seller_id}/stats) through Envoy as JSON, on both storages
(figures written as the batch writes them). Expected points: tests/reference.py seller_series
over the same daily rows; each point also agrees with the statement and the video series of
the same period, read through the same JSON API."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import grpc
import pytest

from services.common import db
from tests import reference
from tests.plugins.readside import Daily, publish_day

D = dt.date
DAYS = (D(2019, 7, 10), D(2019, 7, 11), D(2019, 7, 16))  # Wed, Thu, and Tue of the next ISO week
MONEY = ("video_revenue", "ad_revenue")


def _rows(video_ids: list[int]) -> dict[dt.date, list[Daily]]:
    a, b, c = video_ids
    return {
        DAYS[0]: [
            Daily(a, views=3, watch_time_sec=100, ad_views=1, video_revenue="3.3333", ad_revenue="10", plays=4),
            Daily(b, views=2, watch_time_sec=50, video_revenue="2.0001", plays=3, excluded_repeat=1),
        ],
        DAYS[1]: [Daily(c, views=7, watch_time_sec=9, ad_views=2, video_revenue="7.7", ad_revenue="20.5", plays=7)],
        DAYS[2]: [Daily(a, views=1, watch_time_sec=1, video_revenue="0.0001", plays=2, excluded_self_view=1)],
    }


@pytest.fixture(scope="module")
def figures(mesh):
    seller_id, token = mesh.sign_up_and_login("SELLER")
    video_ids = []
    for i in range(3):
        status, body = mesh.json("POST", "/v1/videos", {"title": f"series {i}", "duration_sec": 60}, token=token)
        assert status == 200, body
        video_ids.append(int(body["video_id"]))
    rows = _rows(video_ids)
    engine = db.make_engine(mesh.settings)
    try:
        for day, daily in rows.items():
            publish_day(engine, day, daily)
    finally:
        engine.dispose()
    oracle = {
        (r.video_id, day): reference.DailyRow(
            day=day, seller_id=seller_id, cum_views=0, cum_ad_views=0, **_as_reference(r)
        )
        for day, daily in rows.items()
        for r in daily
    }
    return seller_id, token, video_ids, oracle


def _as_reference(row: Daily) -> dict:
    values = dataclasses.asdict(row)
    return {**values, **{name: Decimal(values[name]) for name in MONEY}}


def _expected(oracle, seller_id: int, period: str, starts: list[dt.date]) -> list[dict]:
    return [
        {name: Decimal(p[name]) if name in MONEY else p[name] for name in reference.SERIES_FIELDS}
        for p in reference.seller_series(oracle, seller_id, period, starts)
    ]


def _figures(point: dict) -> dict:
    # int64 are JSON strings and money exact decimal strings: parsed exactly, never as floats.
    assert all(type(point[name]) is str for name in reference.SERIES_FIELDS), point
    return {name: Decimal(point[name]) if name in MONEY else int(point[name]) for name in reference.SERIES_FIELDS}


def _get(mesh, seller_id: int, query: str, token: str):
    return mesh.json("GET", f"/v1/sellers/{seller_id}/stats?{query}", token=token)


def test_a_daily_series_arrives_as_json_one_point_per_day_with_exact_strings(mesh, figures):
    seller_id, token, _, oracle = figures
    status, body = _get(mesh, seller_id, "period=DAILY&from=2019-07-09&to=2019-07-12", token)
    assert status == 200, body
    assert (body["seller_id"], body["period"]) == (str(seller_id), "DAILY")
    assert "data_through" in body
    starts = [D(2019, 7, 9) + dt.timedelta(days=i) for i in range(4)]
    assert [(p["period_start"], p["period_end"]) for p in body["points"]] == [(d.isoformat(),) * 2 for d in starts]
    assert [_figures(p) for p in body["points"]] == _expected(oracle, seller_id, "DAILY", starts)
    assert body["points"][1]["video_revenue"] == "5.3334" and body["points"][1]["ad_revenue"] == "10.0"


def test_weekly_points_equal_the_weekly_statements(mesh, figures):
    seller_id, token, _, oracle = figures
    status, body = _get(mesh, seller_id, "period=WEEKLY&from=2019-07-10&to=2019-07-21", token)
    assert status == 200, body
    starts = [D(2019, 7, 8), D(2019, 7, 15)]
    assert [_figures(p) for p in body["points"]] == _expected(oracle, seller_id, "WEEKLY", starts)
    for point in body["points"]:
        status, statement = mesh.json(
            "GET", f"/v1/sellers/{seller_id}/settlements?period=WEEKLY&date={point['period_start']}", token=token
        )
        assert status == 200, statement
        lines = statement["lines"]
        assert int(point["views"]) == sum(int(line["views"]) for line in lines)
        assert int(point["ad_views"]) == sum(int(line["ad_views"]) for line in lines)
        assert Decimal(point["video_revenue"]) == Decimal(statement["video_revenue"])
        assert Decimal(point["ad_revenue"]) == Decimal(statement["ad_revenue"])


def test_a_monthly_point_is_the_video_series_summed(mesh, figures):
    seller_id, token, video_ids, oracle = figures
    status, body = _get(mesh, seller_id, "period=MONTHLY&from=2019-06-30&to=2019-07-01", token)
    assert status == 200, body
    assert [p["period_start"] for p in body["points"]] == ["2019-06-01", "2019-07-01"]
    assert [_figures(p) for p in body["points"]] == _expected(
        oracle, seller_id, "MONTHLY", [D(2019, 6, 1), D(2019, 7, 1)]
    )
    per_video = []
    for video_id in video_ids:
        status, series = mesh.json(
            "GET", f"/v1/videos/{video_id}/stats?period=MONTHLY&from=2019-07-01&to=2019-07-31", token=token
        )
        assert status == 200, series
        per_video.append(_figures(series["points"][0]))
    july = _figures(body["points"][1])
    assert july == {name: sum(v[name] for v in per_video) for name in reference.SERIES_FIELDS}


def test_another_sellers_series_is_a_json_403_and_an_admin_reads_it(mesh, figures):
    seller_id, token, _, oracle = figures
    _, other = mesh.sign_up_and_login("SELLER")
    status, body = _get(mesh, seller_id, "period=DAILY&from=2019-07-10&to=2019-07-10", other)
    assert status == 403 and body["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0], body
    assert "points" not in body
    _, admin = mesh.create_admin()
    status, body = _get(mesh, seller_id, "period=DAILY&from=2019-07-10&to=2019-07-10", admin)
    assert status == 200, body
    assert [_figures(p) for p in body["points"]] == _expected(oracle, seller_id, "DAILY", [DAYS[0]])
    status, _ = mesh.json("GET", f"/v1/sellers/{seller_id}/stats?period=DAILY&from=2019-07-10&to=2019-07-10")
    assert status == 401


@pytest.mark.parametrize(
    ("query", "field", "text"),
    [
        ("from=2019-07-10&to=2019-07-10", "period", "DAILY, WEEKLY or MONTHLY"),
        ("period=DAILY&from=2019-07-32&to=2019-08-01", "from", ""),
        ("period=DAILY&from=2019-07-10", "to", "required"),
        ("period=DAILY&from=2019-07-10&to=2019-07-09", "to", "must not be before from"),
        ("period=DAILY&from=2018-01-01&to=2019-12-31", "to", "at most 366 per request"),
    ],
)
def test_a_bad_series_query_is_a_json_400_naming_the_field(mesh, figures, query, field, text):
    seller_id, token, _, _ = figures
    status, body = _get(mesh, seller_id, query, token)
    assert status == 400, body
    assert body["message"].startswith(f"{field}:") and text in body["message"], body


def test_a_cached_series_shows_the_batchs_new_figures_right_after_it_published_them(mesh, figures):
    seller_id, token, video_ids, _ = figures
    query = "period=WEEKLY&from=2019-07-22&to=2019-07-28"
    before = [_get(mesh, seller_id, query, token) for _ in range(2)]  # the second from the cache
    assert before[0] == before[1] and before[0][1]["points"][0]["views"] == "0", before
    engine = db.make_engine(mesh.settings)
    try:  # as a re-run of the batch: the day's rows, then its computed_days stamp (a new data version)
        publish_day(engine, D(2019, 7, 24), [Daily(video_ids[2], views=4, video_revenue="4.0004", plays=4)])
    finally:
        engine.dispose()
    status, body = _get(mesh, seller_id, query, token)
    assert status == 200, body
    [point] = body["points"]
    assert (point["views"], point["video_revenue"], point["plays"]) == ("4", "4.0004", "4")
