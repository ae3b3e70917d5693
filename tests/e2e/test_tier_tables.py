"""Tier tables as managed data through Envoy JSON (docs/ledger.md, "Tier tables").

The mesh is shared by the whole e2e session, so every table scheduled here starts after today
(the batch never prices a day that is not over) and is deleted again at the end of the module.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import grpc
import pytest
import sqlalchemy as sa

from services.common import db
from services.settlement.tables import month_closings, tier_prices

PATH = "/v1/settlement/tier-tables"
SEEDED = {
    "effective_from": "1970-01-01",
    "video": [
        {"lower_bound": "0", "unit_price": "1.0"},
        {"lower_bound": "100000", "unit_price": "1.1"},
        {"lower_bound": "500000", "unit_price": "1.3"},
        {"lower_bound": "1000000", "unit_price": "1.5"},
    ],
    "ad": [
        {"lower_bound": "0", "unit_price": "10.0"},
        {"lower_bound": "100000", "unit_price": "12.0"},
        {"lower_bound": "500000", "unit_price": "15.0"},
        {"lower_bound": "1000000", "unit_price": "20.0"},
    ],
}


def table(day: dt.date, video=(("0", "1.2"), ("200000", "1.4")), ad=(("0", "11.5"),)) -> dict:
    return {
        "effective_from": day.isoformat(),
        "video": [{"lower_bound": lower, "unit_price": price} for lower, price in video],
        "ad": [{"lower_bound": lower, "unit_price": price} for lower, price in ad],
    }


@pytest.fixture(scope="module")
def tiers_mesh(mesh):
    """(mesh, admin token, today in the platform zone, engine); deletes what the module stored."""
    _, admin = mesh.create_admin()
    today = dt.datetime.now(ZoneInfo(mesh.settings.timezone)).date()
    engine = db.make_engine(mesh.settings)
    try:
        yield mesh, admin, today, engine
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(tier_prices).where(tier_prices.c.effective_from > today))
        engine.dispose()


def stored_days(engine) -> set[dt.date]:
    with engine.connect() as conn:
        return set(conn.execute(sa.select(tier_prices.c.effective_from).distinct()).scalars())


def test_the_list_starts_with_the_seeded_design_table(tiers_mesh):
    mesh, admin, _, _ = tiers_mesh
    status, body = mesh.json("GET", PATH, token=admin)
    assert status == 200, body
    assert body["tables"][0] == SEEDED


def test_a_table_scheduled_from_tomorrow_is_stored_exactly_and_listed(tiers_mesh):
    mesh, admin, today, _ = tiers_mesh
    tomorrow = today + dt.timedelta(days=1)
    wanted = table(tomorrow, video=(("0", "1.0001"), ("7", "99999999.9999")), ad=(("0", "0"), ("1", "12.5")))
    status, body = mesh.json("POST", PATH, wanted, token=admin)
    assert status == 200, body
    expected = table(tomorrow, video=(("0", "1.0001"), ("7", "99999999.9999")), ad=(("0", "0.0"), ("1", "12.5")))
    assert body == expected
    status, listed = mesh.json("GET", PATH, token=admin)
    assert status == 200, listed
    assert listed["tables"][0] == SEEDED
    assert expected in listed["tables"]
    days = [t["effective_from"] for t in listed["tables"]]
    assert days == sorted(days)


def test_scheduling_a_future_day_again_replaces_its_table(tiers_mesh):
    mesh, admin, today, _ = tiers_mesh
    day = today + dt.timedelta(days=30)
    assert mesh.json("POST", PATH, table(day), token=admin)[0] == 200
    second = table(day, video=(("0", "2.0"),), ad=(("0", "3.0"), ("10", "4.0"), ("20", "5.0")))
    status, body = mesh.json("POST", PATH, second, token=admin)
    assert status == 200, body
    _, listed = mesh.json("GET", PATH, token=admin)
    of_day = [t for t in listed["tables"] if t["effective_from"] == day.isoformat()]
    assert of_day == [second]  # the first table's extra video tier is gone


def test_an_idempotency_key_replays_its_answer_without_scheduling_again(tiers_mesh):
    mesh, admin, today, _ = tiers_mesh
    day = today + dt.timedelta(days=40)
    first, other = table(day), table(day, video=(("0", "2.5"),))
    key = {"Idempotency-Key": f"tiers-{day}-{today}"}

    def listed() -> list[dict]:
        return [t for t in mesh.json("GET", PATH, token=admin)[1]["tables"] if t["effective_from"] == day.isoformat()]

    status, answer = mesh.request("POST", PATH, first, admin, headers=key)
    assert status == 200, answer
    # Another admin action replaces the day's table; replaying the key gives the stored answer
    # again, byte for byte, and does not schedule the first table a second time.
    assert mesh.json("POST", PATH, other, token=admin)[0] == 200
    assert mesh.request("POST", PATH, first, admin, headers=key) == (200, answer)
    assert listed() == [other]
    status, reply = mesh.json("POST", PATH, table(day, ad=(("0", "9.0"),)), token=admin, headers=key)
    assert status == 409 and reply["code"] == grpc.StatusCode.ALREADY_EXISTS.value[0], reply
    assert "was already used with another request" in reply["message"]
    assert listed() == [other]


@pytest.mark.parametrize("offset_days", [0, -1, -400])
def test_today_or_a_past_day_is_a_json_400_and_nothing_is_stored(tiers_mesh, offset_days):
    mesh, admin, today, engine = tiers_mesh
    day = today + dt.timedelta(days=offset_days)
    before = stored_days(engine)
    with engine.connect() as conn:
        rows_before = conn.execute(sa.select(sa.func.count()).select_from(tier_prices)).scalar_one()
    status, body = mesh.json("POST", PATH, table(day), token=admin)
    assert status == 400, body
    assert body["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert body["message"].startswith("effective_from: must be after today")
    assert stored_days(engine) == before
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tier_prices)).scalar_one() == rows_before


def test_a_day_inside_a_closed_month_is_a_json_400_and_nothing_is_stored(tiers_mesh):
    # A closing row for a month after today (no real close can make one; it stands for the
    # second condition on its own), removed again so the shared mesh is left as it was.
    mesh, admin, today, engine = tiers_mesh
    closed = (today + dt.timedelta(days=70)).replace(day=1)
    row = {c: 0 for c in ("closed_at_us", "closed_by", "sellers", "lines", "earnings", "adjustment_lines")}
    row |= {"adjustments": 0, "payouts_created": 0, "payouts_krw": 0, "month": closed}
    with engine.begin() as conn:
        conn.execute(sa.insert(month_closings), row)
    try:
        for day in (closed, closed + dt.timedelta(days=27)):
            status, body = mesh.json("POST", PATH, table(day), token=admin)
            assert status == 400, body
            assert body["message"].startswith(f"effective_from: must be after the last closed month ({closed:%Y-%m})")
            assert day not in stored_days(engine)
        next_month = (closed + dt.timedelta(days=31)).replace(day=1)
        status, body = mesh.json("POST", PATH, table(next_month), token=admin)
        assert status == 200, body
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(month_closings).where(month_closings.c.month == closed))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"video": []}, "video"),
        ({"ad": []}, "ad"),
        ({"video": [{"lower_bound": "5", "unit_price": "1"}]}, "video[0]"),
        ({"video": [{"lower_bound": "0", "unit_price": "1"}, {"lower_bound": "0", "unit_price": "2"}]}, "video[1]"),
        (
            {
                "ad": [
                    {"lower_bound": "0", "unit_price": "1"},
                    {"lower_bound": "9", "unit_price": "2"},
                    {"lower_bound": "3", "unit_price": "2"},
                ]
            },
            "ad[2]",
        ),
        ({"video": [{"lower_bound": "0", "unit_price": "-1"}]}, "video[0].unit_price"),
        ({"video": [{"lower_bound": "0", "unit_price": "1.00001"}]}, "video[0].unit_price"),
        ({"video": [{"lower_bound": "0", "unit_price": "123456789"}]}, "video[0].unit_price"),
        ({"video": [{"lower_bound": "0", "unit_price": "1e2"}]}, "video[0].unit_price"),
        ({"video": [{"lower_bound": "0", "unit_price": "NaN"}]}, "video[0].unit_price"),
        ({"ad": [{"lower_bound": "0"}]}, "ad[0].unit_price"),
        ({"ad": [{"lower_bound": str(i), "unit_price": "1"} for i in range(51)]}, "ad"),
        ({"effective_from": "2999-02-30"}, "effective_from"),
        ({"effective_from": ""}, "effective_from"),
    ],
)
def test_a_malformed_table_is_a_json_400_naming_the_field_and_nothing_is_stored(tiers_mesh, change, field):
    mesh, admin, today, engine = tiers_mesh
    day = today + dt.timedelta(days=45)
    status, body = mesh.json("POST", PATH, table(day) | change, token=admin)
    assert status == 400, body
    assert body["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert body["message"].startswith(f"{field}:"), body["message"]
    assert day not in stored_days(engine)


def test_fifty_tiers_are_allowed(tiers_mesh):
    mesh, admin, today, _ = tiers_mesh
    day = today + dt.timedelta(days=46)
    fifty = [(str(i * 10), f"{i}.5") for i in range(50)]
    status, body = mesh.json("POST", PATH, table(day, video=fifty, ad=fifty), token=admin)
    assert status == 200, body
    assert len(body["video"]) == len(body["ad"]) == 50


@pytest.mark.parametrize("role", ["SELLER", "VIEWER"])
def test_only_admins_list_or_schedule_tables(tiers_mesh, role):
    mesh, _, today, engine = tiers_mesh
    _, token = mesh.sign_up_and_login(role)
    day = today + dt.timedelta(days=47)
    for method, body in (("GET", None), ("POST", table(day))):
        status, answer = mesh.json(method, PATH, body, token=token)
        assert status == 403, answer
        assert answer["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert day not in stored_days(engine)


def test_without_a_token_it_is_a_json_401(tiers_mesh):
    mesh, _, today, engine = tiers_mesh
    day = today + dt.timedelta(days=48)
    for method, body in (("GET", None), ("POST", table(day))):
        status, answer = mesh.json(method, PATH, body)
        assert status == 401, answer
        assert answer["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert day not in stored_days(engine)
