"""RPM, totals and `compare=PREVIOUS|YEAR_AGO` on the series paths (GET /v1/sellers/{id}/stats
and GET /v1/videos/{id}/stats) through Envoy as JSON, on both storages (figures written as the
batch writes them, tests/plugins/readside.publish_day). Expected: tests/reference.py over the
same daily rows (seller_series, earlier_starts, series_totals, series_changes), exact."""

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
MONEY = ("video_revenue", "ad_revenue")


def _rows(a: int, b: int) -> dict[dt.date, list[Daily]]:
    # A year apart (2018-03-01 / 2019-03-01), and the days just before 2019-02-28
    return {
        D(2018, 3, 1): [Daily(a, views=4, watch_time_sec=40, ad_views=1, video_revenue="4.0004", ad_revenue="10", plays=5, excluded_repeat=1)],
        D(2019, 2, 27): [Daily(b, views=3, watch_time_sec=9, video_revenue="3.3", plays=3)],
        D(2019, 2, 28): [Daily(a, views=6, watch_time_sec=70, ad_views=2, video_revenue="6.6", ad_revenue="20", plays=7, excluded_cap=1)],
        D(2019, 3, 1): [
            Daily(a, views=3, watch_time_sec=5, video_revenue="3.3333", plays=3),
            Daily(b, plays=2, excluded_self_view=2),
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def figures(mesh):
    seller_id, token = mesh.sign_up_and_login("SELLER")
    video_ids = []
    for i in range(2):
        status, body = mesh.json("POST", "/v1/videos", {"title": f"compare {i}", "duration_sec": 600}, token=token)
        assert status == 200, body
        video_ids.append(int(body["video_id"]))
    rows = _rows(*video_ids)
    engine = db.make_engine(mesh.settings)
    try:
        for day, daily in rows.items():
            publish_day(engine, day, daily)
    finally:
        engine.dispose()
    oracle = {
        (r.video_id, day): reference.DailyRow(
            day=day,
            seller_id=seller_id,
            cum_views=0,
            cum_ad_views=0,
            **{**dataclasses.asdict(r), **{name: Decimal(getattr(r, name)) for name in MONEY}},
        )
        for day, daily in rows.items()
        for r in daily
    }
    return seller_id, token, video_ids, oracle


def _parsed(point: dict) -> dict:
    # int64 are JSON strings, money and RPM exact decimal strings: parsed exactly, never as floats
    values = {name: Decimal(point[name]) if name in MONEY else int(point[name]) for name in reference.SERIES_FIELDS}
    return {**values, "rpm": Decimal(point["rpm"]) if point["rpm"] != "" else None}


def _expected_points(oracle, seller_id: int, period: str, starts: list[dt.date]) -> list[dict]:
    return [
        {**p, "rpm": reference.rpm(p["video_revenue"], p["ad_revenue"], p["views"])}
        for p in reference.seller_series(oracle, seller_id, period, starts)
    ]


def _check(body: dict, oracle, seller_id: int, period: str, compare: str, starts: list[dt.date]) -> None:
    assert [p["period_start"] for p in body["points"]] == [s.isoformat() for s in starts]
    assert [_parsed(p) for p in body["points"]] == _expected_points(oracle, seller_id, period, starts)
    now = reference.series_totals(reference.seller_series(oracle, seller_id, period, starts))
    assert _parsed(body["totals"]) == now
    earlier_starts = reference.earlier_starts(compare, period, starts)
    comparison = body["comparison"]
    assert comparison["compare"] == compare
    assert [p["period_start"] for p in comparison["points"]] == [s.isoformat() for s in earlier_starts]
    assert [_parsed(p) for p in comparison["points"]] == _expected_points(oracle, seller_id, period, earlier_starts)
    before = reference.series_totals(reference.seller_series(oracle, seller_id, period, earlier_starts))
    assert _parsed(comparison["totals"]) == before
    changes = {c["figure"]: (Decimal(c["absolute"]), c["percent"]) for c in comparison["changes"]}
    assert changes == reference.series_changes(before, now)


@pytest.mark.parametrize(
    ("period", "compare", "first", "last"),
    [
        ("DAILY", "PREVIOUS", D(2019, 2, 28), D(2019, 3, 1)),
        ("DAILY", "YEAR_AGO", D(2019, 2, 28), D(2019, 3, 1)),
        ("MONTHLY", "YEAR_AGO", D(2019, 3, 1), D(2019, 3, 31)),
    ],
)
def test_a_sellers_series_compared_as_json_equals_the_reference(mesh, figures, period, compare, first, last):
    seller_id, token, _, oracle = figures
    query = f"period={period}&from={first}&to={last}&compare={compare}"
    for _ in range(2):  # the second answer from the cache (MariaDB mesh): the same
        status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/stats?{query}", token=token)
        assert status == 200, body
        starts = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        _check(body, oracle, seller_id, period, compare, starts if period == "DAILY" else [D(2019, 3, 1)])


def test_the_figures_hand_worked_rpm_and_changes_arrive_as_exact_strings(mesh, figures):
    seller_id, token, _, _ = figures
    query = "period=DAILY&from=2019-02-28&to=2019-03-01&compare=PREVIOUS"
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/stats?{query}", token=token)
    assert status == 200, body
    # 2019-02-28: (6.6 + 20) * 1000 / 6 = 4433.333...; 2019-03-01: 3.3333 * 1000 / 3 = 1111.1
    assert [p["rpm"] for p in body["points"]] == ["4433.3333", "1111.1"]
    # totals: 29.9333 * 1000 / 9 = 3325.9222...; earlier (Feb 26, 27): 3.3 * 1000 / 3 = 1100
    assert (body["totals"]["rpm"], body["comparison"]["totals"]["rpm"]) == ("3325.9222", "1100.0")
    changes = {c["figure"]: (c["absolute"], c["percent"]) for c in body["comparison"]["changes"]}
    assert changes["views"] == ("6", "200.0")  # 3 -> 9
    assert changes["ad_revenue"] == ("20.0", "new")  # 0 -> 20
    assert changes["video_revenue"] == ("6.6333", "201.0")  # 3.3 -> 9.9333: 201.0091 %
    assert changes["revenue"] == ("26.6333", "807.1")  # video + ad: 3.3 -> 29.9333: 807.0697 %
    assert changes["excluded_overlap"] == ("0", "0.0")
    status, body = mesh.json(
        "GET", f"/v1/sellers/{seller_id}/stats?period=DAILY&from=2019-02-26&to=2019-02-26", token=token
    )
    assert status == 200, body
    assert body["points"][0]["rpm"] == "" and "comparison" not in body  # no views: no RPM


def test_a_videos_series_compared_as_json_equals_the_reference(mesh, figures):
    seller_id, token, (a, _), oracle = figures
    query = "period=WEEKLY&from=2019-02-25&to=2019-03-03&compare=YEAR_AGO"  # the week of Mon 2019-02-25
    status, body = mesh.json("GET", f"/v1/videos/{a}/stats?{query}", token=token)
    assert status == 200, body
    only_a = {key: row for key, row in oracle.items() if row.video_id == a}
    _check(body, only_a, seller_id, "WEEKLY", "YEAR_AGO", [D(2019, 2, 25)])
    assert body["comparison"]["points"][0]["period_start"] == "2018-02-26"  # 52 weeks earlier, a Monday


@pytest.mark.parametrize("compare", ["previous", "LAST_YEAR", "1"])
def test_a_bad_compare_is_a_json_400_naming_the_field(mesh, figures, compare):
    seller_id, token, (a, _), _ = figures
    for path in (f"/v1/sellers/{seller_id}/stats", f"/v1/videos/{a}/stats"):
        status, body = mesh.json(
            "GET", f"{path}?period=DAILY&from=2019-03-01&to=2019-03-01&compare={compare}", token=token
        )
        assert status == 400, body
        assert body["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0], body
        assert body["message"] == f"compare: must be PREVIOUS or YEAR_AGO, got {compare!r}", body
