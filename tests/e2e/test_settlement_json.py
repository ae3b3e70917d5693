"""Statements through Envoy: JSON over HTTP/1.1 (transcoded) and native gRPC on one port.

Figures are written into the mesh's database the way the batch writes them
(tests.plugins.readside.publish_day), on days in 2020 that no other test uses.
"""

from __future__ import annotations

import datetime as dt

import grpc
import pytest

from paysystem.v1 import common_pb2, settlement_pb2, settlement_pb2_grpc
from services.common import db
from tests.plugins.readside import Daily, publish_day

# ISO week 2020-W53 runs Monday 2020-12-28 .. Sunday 2021-01-03: two months and two years.
WEEK = [dt.date(2020, 12, 28) + dt.timedelta(days=i) for i in range(7)]


@pytest.fixture(scope="module")
def figures(mesh):
    seller_id, token = mesh.sign_up_and_login("SELLER")
    video_ids = []
    for title in ("first", "second"):
        status, body = mesh.json("POST", "/v1/videos", {"title": title, "duration_sec": 900}, token=token)
        assert status == 200, body
        video_ids.append(int(body["video_id"]))
    engine = db.make_engine(mesh.settings)
    try:
        for day in WEEK:
            publish_day(
                engine,
                day,
                [
                    Daily(video_ids[0], views=100, ad_views=2, video_revenue="100.25", ad_revenue="20"),
                    Daily(video_ids[1], views=1, video_revenue="1.1"),
                ],
            )
        yield seller_id, token, video_ids, engine
    finally:
        engine.dispose()


def test_a_weekly_statement_across_a_new_year_arrives_as_json_with_exact_strings(mesh, figures):
    seller_id, token, (v1, v2), _ = figures
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/settlements?period=WEEKLY&date=2021-01-01", token=token)
    assert status == 200, body
    assert "grpc-status" not in mesh.last_headers
    assert (body["period"], body["period_start"], body["period_end"]) == ("WEEKLY", "2020-12-28", "2021-01-03")
    assert [(line["video_id"], line["title"], line["amount"]) for line in body["lines"]] == [
        (str(v1), "first", "841.75"),  # 7 * (100.25 + 20)
        (str(v2), "second", "7.7"),
    ]
    assert (body["video_revenue"], body["ad_revenue"], body["total"]) == ("709.45", "140.0", "849.45")
    assert body["payable_krw"] == "849"  # int64 is a JSON string
    assert body["currency"] == "KRW"
    assert body["lines"][0]["views"] == "700" and body["lines"][0]["ad_views"] == "14"


def test_monthly_statements_split_the_week_between_december_and_january(mesh, figures):
    seller_id, token, _, _ = figures
    _, december = mesh.json("GET", f"/v1/sellers/{seller_id}/settlements?period=MONTHLY&date=2020-12-31", token=token)
    _, january = mesh.json("GET", f"/v1/sellers/{seller_id}/settlements?period=MONTHLY&date=2021-01-31", token=token)
    assert (december["total"], january["total"]) == ("485.4", "364.05")  # 4 days and 3 days
    assert (december["payable_krw"], january["payable_krw"]) == ("485", "364")


def test_an_empty_statement_prints_its_zeros(mesh, figures):
    seller_id, token, _, _ = figures
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/settlements?period=DAILY&date=2019-06-01", token=token)
    assert status == 200, body
    assert body["lines"] == [] and body["total"] == "0.0" and body["payable_krw"] == "0"


def test_another_sellers_statement_is_a_json_403(mesh, figures):
    seller_id, _, _, _ = figures
    _, other_token = mesh.sign_up_and_login("SELLER")
    status, body = mesh.json(
        "GET", f"/v1/sellers/{seller_id}/settlements?period=WEEKLY&date=2021-01-01", token=other_token
    )
    assert status == 403
    assert body["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]


def test_an_admin_reads_any_statement(mesh, figures):
    seller_id, _, _, _ = figures
    _, admin_token = mesh.create_admin()
    status, body = mesh.json(
        "GET", f"/v1/sellers/{seller_id}/settlements?period=WEEKLY&date=2021-01-01", token=admin_token
    )
    assert status == 200 and body["total"] == "849.45"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=PERIOD_UNSPECIFIED&date=2021-01-01", "period"),
        ("date=2021-01-01", "period"),
        ("period=WEEKLY&date=2021-02-30", "date"),
        ("period=WEEKLY&date=2021-1-1", "date"),
        ("period=WEEKLY", "date"),
    ],
)
def test_a_bad_period_or_date_is_a_json_400_naming_the_field(mesh, figures, query, field):
    seller_id, token, _, _ = figures
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/settlements?{query}", token=token)
    assert status == 400
    assert body["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert body["message"].startswith(f"{field}:")


def test_an_unknown_period_name_is_a_400(mesh, figures):
    # The transcoder itself refuses an enum name it does not know (before the service).
    seller_id, token, _, _ = figures
    status, _ = mesh.json("GET", f"/v1/sellers/{seller_id}/settlements?period=YEARLY&date=2021-01-01", token=token)
    assert status == 400


def test_a_republished_day_changes_the_next_statement(mesh, figures):
    seller_id, token, (v1, v2), engine = figures
    path = f"/v1/sellers/{seller_id}/settlements?period=DAILY&date=2020-12-30"
    assert mesh.json("GET", path, token=token)[1]["total"] == "121.35"
    assert mesh.json("GET", path, token=token)[1]["total"] == "121.35"  # now cached (MariaDB mesh)
    day = dt.date(2020, 12, 30)
    publish_day(engine, day, [Daily(v1, views=100, ad_views=2, video_revenue="200.25", ad_revenue="20")])
    try:
        assert mesh.json("GET", path, token=token)[1]["total"] == "221.35"
    finally:
        publish_day(engine, day, [Daily(v1, views=100, ad_views=2, video_revenue="100.25", ad_revenue="20")])


def test_a_grpc_client_gets_the_same_statement_through_envoy(mesh, figures):
    seller_id, token, _, _ = figures
    stub = settlement_pb2_grpc.SettlementServiceStub(mesh.channel())
    statement = stub.GetStatement(
        settlement_pb2.GetStatementRequest(seller_id=seller_id, period=common_pb2.WEEKLY, date="2020-12-31"),
        metadata=mesh.metadata(token),
    )
    assert (statement.total, statement.payable_krw, len(statement.lines)) == ("849.45", 849, 2)
