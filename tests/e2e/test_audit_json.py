"""The audit log through the real Envoy, in JSON (DESIGN 2b, "Audit log"): each admin or
money action done through the API (a batch run, a close, a mark, a tier table, a role change)
leaves exactly one entry, with the caller as actor and the request id Envoy passed on; a
repeat that changes nothing and a refused call leave none; GET /v1/audit is for admins only,
filtered and paged.

Months close in order and for every seller at once, so this module runs a mesh of its own on
MariaDB (a close in the session's shared mesh would decide which months other tests may close;
SQLite is covered by tests/integration/test_audit_log.py). Plays go into the database; the
batch runs through Envoy. A payout minimum of 1 KRW makes a payout of a few plays.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from services.common import db
from services.settlement.tables import payout_minimums
from tests.databases import fresh_database
from tests.mesh import Mesh
from tests.plugins.jobs import add_plays, play

FEB = dt.date(2016, 2, 1)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audit-mesh")
    with fresh_database("mariadb", "audit_mesh_", tmp) as url:
        with Mesh.on_free_ports(tmp / "mesh", db_url=url, redis_url="redis://127.0.0.1:6379/1") as mesh:
            engine = db.make_engine(mesh.settings)
            try:
                yield mesh, engine
            finally:
                engine.dispose()


def entries(mesh: Mesh, token: str, query: str = "") -> list[dict]:
    status, body = mesh.json("GET", f"/v1/audit{query}", token=token)
    assert status == 200, body
    return body["entries"]


def acted(mesh: Mesh, admin: str, action: str) -> list[dict]:
    return entries(mesh, admin, f"?action={action}")


def call(mesh: Mesh, method: str, path: str, body: object, token: str) -> str:
    """The call's request id, as Envoy's response names it (a client's own x-request-id is
    replaced at the edge)."""
    status, answer = mesh.json(method, path, body, token=token, headers={"x-request-id": "mine"}, timeout=120)
    assert status == 200, answer
    request_id = mesh.last_headers["x-request-id"]
    assert request_id != "mine" and uuid.UUID(request_id)
    return request_id


def test_each_action_through_envoy_leaves_exactly_one_entry_and_only_admins_read_them(world):
    mesh, engine = world
    admin_id, admin = mesh.create_admin()
    checker_id, checker = mesh.create_admin()  # maker-checker: approves what admin closed
    seller_id, seller = mesh.sign_up_and_login("SELLER")
    viewer_id, _ = mesh.sign_up_and_login("VIEWER")
    (video_id,) = mesh.create_videos(seller, 1, duration_sec=600)
    with engine.begin() as conn:
        conn.execute(sa.insert(payout_minimums).values(effective_from=FEB, minimum_krw=1))
    add_plays(engine, [play(f"audit-{i}", video_id, 7_000 + i, FEB.replace(day=3 + i), 3_600) for i in range(5)])
    ids = {}
    profile = {"legal_name": "Kim Minji", "tax_type": "INDIVIDUAL", "bank_code": "004", "account_number": "1102345678"}
    ids["profile"] = call(mesh, "PUT", f"/v1/sellers/{seller_id}/payout-profile", profile, seller)
    call(mesh, "PUT", f"/v1/sellers/{seller_id}/payout-profile", profile, seller)  # the same: nothing

    status, events = mesh.request("POST", "/v1/batch/jobs", {"job": "daily"}, admin, timeout=300)
    assert status == 200 and '"JOB_FINISHED"' in events.splitlines()[-1], events
    ids["run"] = mesh.last_headers["x-request-id"]
    ids["close"] = call(mesh, "POST", "/v1/settlement/closings", {"month": "2016-02"}, admin)
    call(mesh, "POST", "/v1/settlement/closings", {"month": "2016-02"}, admin)  # closed: nothing
    status, payouts = mesh.json("GET", f"/v1/sellers/{seller_id}/payouts", token=admin)
    assert status == 200 and len(payouts["payouts"]) == 1, payouts
    payout_id = payouts["payouts"][0]["payout_id"]
    ids["approve"] = call(mesh, "POST", "/v1/settlement/closings/2016-02:approve", {}, checker)
    call(mesh, "POST", "/v1/settlement/closings/2016-02:approve", {}, checker)  # approved: nothing
    mark = {"status": "PAID", "reference": "BANK-77"}
    ids["mark"] = call(mesh, "POST", f"/v1/payouts/{payout_id}:mark", mark, admin)
    call(mesh, "POST", f"/v1/payouts/{payout_id}:mark", mark, admin)  # the same mark: nothing
    today = dt.datetime.now(ZoneInfo(mesh.settings.timezone)).date()
    day = (today + dt.timedelta(days=40)).isoformat()
    tiers = {
        "effective_from": day,
        "video": [{"lower_bound": "0", "unit_price": "1.5"}],
        "ad": [{"lower_bound": "0", "unit_price": "12"}],
    }
    ids["tiers"] = call(mesh, "POST", "/v1/settlement/tier-tables", tiers, admin)
    ids["role"] = call(mesh, "POST", f"/v1/accounts/{viewer_id}:set-role", {"role": "SELLER"}, admin)
    status, _ = mesh.json("POST", f"/v1/accounts/{viewer_id}:set-role", {"role": "ADMIN"}, token=seller)
    assert status == 403  # refused: nothing recorded

    expected = {
        "payout_profile.set": (seller_id, f"payout_profile:{seller_id}", ids["profile"]),
        "batch.run": (admin_id, "job:daily", ids["run"]),
        "month.close": (admin_id, "month:2016-02", ids["close"]),
        "payouts.approve": (checker_id, "month:2016-02", ids["approve"]),
        "payout.mark": (admin_id, f"payout:{payout_id}", ids["mark"]),
        "tier_table.schedule": (admin_id, f"tier_table:{day}", ids["tiers"]),
        "account.set_role": (admin_id, f"account:{viewer_id}", ids["role"]),
    }
    for action, (actor_id, target, request_id) in expected.items():
        found = acted(mesh, admin, action)
        assert [(e["actor_id"], e["target"], e["request_id"]) for e in found] == [(str(actor_id), target, request_id)]
    assert "1102345678" not in acted(mesh, admin, "payout_profile.set")[0]["after"]  # masked
    log = entries(mesh, admin)
    assert len(log) == len(expected)
    assert [int(e["seq"]) for e in log] == list(range(len(expected), 0, -1))  # newest first
    assert all(newer["prev_hash"] == older["hash"] for newer, older in zip(log, log[1:], strict=False))
    assert '"status":"PAID"' in acted(mesh, admin, "payout.mark")[0]["after"]

    # Paged, filtered by actor and by day; sellers and viewers are refused.
    status, first = mesh.json("GET", "/v1/audit?page_size=2", token=admin)
    assert status == 200 and len(first["entries"]) == 2 and first["next_page_token"]
    status, second = mesh.json("GET", f"/v1/audit?page_size=2&page_token={first['next_page_token']}", token=admin)
    assert [e["seq"] for e in second["entries"]] == [log[2]["seq"], log[3]["seq"]]
    assert [e["action"] for e in entries(mesh, admin, f"?actor_id={seller_id}")] == ["payout_profile.set"]
    around_now = f"?from={today - dt.timedelta(days=1)}&to={today + dt.timedelta(days=1)}"
    assert len(entries(mesh, admin, around_now)) == len(expected)
    assert entries(mesh, admin, "?from=2000-01-01&to=2000-01-31") == []
    for token in (seller, mesh.sign_up_and_login("VIEWER")[1]):
        status, body = mesh.json("GET", "/v1/audit", token=token)
        assert status == 403, body
    status, body = mesh.json("GET", "/v1/audit?from=2016-13-01", token=admin)
    assert status == 400 and "from" in body["message"], body
