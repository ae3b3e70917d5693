"""Issue 28, item 2, through the real Envoy: a route's path variables come from the path only.

Envoy's transcoder let a JSON body field, or a query parameter, of the same name override the
path: `POST /v1/payouts/999999:mark {"payout_id": "3", "status": "FAILED"}` failed payout 3.
The routes are read here from the descriptors of the generated stubs (paysystem/v1), not from
a list, so a method added to the protos is walked too. For every route with a path variable:
a body repeating it with another value (routes with a body) and a query parameter naming it
(every route) get 400 from Envoy, and no call reaches any service.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json as jsonlib
import pkgutil
import random
import re
import time
import urllib.parse

import pytest
import sqlalchemy as sa
from google.api import annotations_pb2
from google.protobuf import descriptor

import paysystem.v1
from entrypoints.launcher.topology import SERVICES
from services.common import db
from services.settlement.tables import ledger_entries, payouts
from tests.plugins.edge import envoy_stats

F = descriptor.FieldDescriptor
INTEGER_TYPES = {F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_INT32, F.TYPE_UINT32, F.TYPE_SINT64, F.TYPE_SINT32}


def _annotated_routes() -> list[dict]:
    """Every method of every generated module with a google.api.http option."""
    routes = []
    for info in pkgutil.iter_modules(paysystem.v1.__path__):
        if not info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"paysystem.v1.{info.name}")
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                verb = rule.WhichOneof("pattern")
                if verb in (None, "custom"):
                    continue
                template = getattr(rule, verb)
                routes.append(
                    {
                        "id": f"{service.name}.{method.name}",
                        "cluster": next(s.name for s in SERVICES if service.full_name in s.grpc_services),
                        "verb": verb.upper(),
                        "template": template,
                        "body": rule.body,
                        "variables": re.findall(r"{(\w+)", template),
                        "fields": {f.name: f for f in method.input_type.fields},
                    }
                )
    return routes


ROUTES = _annotated_routes()
WITH_VARIABLES = [r for r in ROUTES if r["variables"]]
WITH_VARIABLES_AND_BODY = [r for r in WITH_VARIABLES if r["body"]]


def _values(field: F) -> tuple[str, str]:
    """Two different valid values for a path variable: the one in the path, the other one."""
    if field.type in INTEGER_TYPES:
        return "999999", "3"
    if "month" in field.name:
        return "2011-01", "2011-02"
    return "path-value", "other-value"


def _path(route: dict, value_of: dict[str, str]) -> str:
    return re.sub(r"{(\w+)[^}]*}", lambda m: urllib.parse.quote(value_of[m.group(1)], safe=""), route["template"])


def _forwarded(mesh, route: dict) -> int:
    """Calls of the route's service that answered (health checks are not counted; the cluster
    of the route only, so that a late retry of an earlier test's call elsewhere does not
    count). Answered, not started: with a connection to the service already open, Envoy may
    start the upstream stream with the request's headers before the transcoder has read the
    body; on a collision the transcoder then resets that stream (upstream_rq_tx_reset) before
    any message was sent, so the service never gets a request to handle."""
    name = f"cluster.{route['cluster']}.upstream_rq_completed"
    return envoy_stats(mesh, name.replace(".", r"\.")).get(name, 0)


def _refused_before_any_service(mesh, token: str, route: dict, method: str, path: str, body) -> dict:
    """Sends the call and returns its JSON answer, checking that Envoy forwarded nothing to the
    route's service. The counter is shared with the rest of the mesh (a late retry of another
    test's call may move it), so a moved counter is tried again: a call that is forwarded moves
    it every time."""
    for _ in range(3):
        before = _forwarded(mesh, route)
        status, answer = mesh.json(method, path, body, token=token)
        assert status == 400, (route["id"], path, answer)
        if _forwarded(mesh, route) == before:
            return answer
    raise AssertionError(f"{route['id']}: {method} {path} reached the service")


@pytest.fixture(scope="module")
def admin_token(mesh) -> str:
    return mesh.create_admin()[1]


def test_the_walk_finds_the_routes_of_the_protos():
    ids = {r["id"] for r in WITH_VARIABLES_AND_BODY}
    assert "SettlementService.MarkPayout" in ids
    assert len(ROUTES) >= 25 and len(WITH_VARIABLES) >= 10


@pytest.mark.parametrize("route", WITH_VARIABLES_AND_BODY, ids=lambda r: r["id"])
def test_a_body_field_that_repeats_a_path_variable_with_another_value_is_a_400(mesh, admin_token, route):
    for variable in route["variables"]:
        in_body = _values(route["fields"][variable])[1]
        path = _path(route, {v: _values(route["fields"][v])[0] for v in route["variables"]})
        answer = _refused_before_any_service(mesh, admin_token, route, route["verb"], path, {variable: in_body})
        assert answer["code"] == 3 and variable in answer["message"] and "conflicting" in answer["message"], answer
        assert set(answer) == {"code", "message", "details"}


@pytest.mark.parametrize("route", WITH_VARIABLES, ids=lambda r: r["id"])
def test_a_query_parameter_that_names_a_path_variable_is_a_400(mesh, admin_token, route):
    values = {v: _values(route["fields"][v])[0] for v in route["variables"]}
    path = _path(route, values)
    for variable in route["variables"]:
        field = route["fields"][variable]
        other = _values(field)[1]
        escaped = "".join(f"%{ord(c):02X}" if c == "_" else c for c in variable)
        for name in dict.fromkeys([variable, field.json_name, escaped]):
            body = {} if route["body"] else None
            answer = _refused_before_any_service(
                mesh, admin_token, route, route["verb"], f"{path}?x=1&{name}={other}", body
            )
            assert answer == {
                "code": 3,
                "message": f"{variable}: comes from the path ({route['verb']} {route['template']}), not from the query string",
                "details": [],
            }


def test_a_conflicting_mark_leaves_the_payout_and_the_ledger_as_they_were(mesh, admin_token):
    engine = db.make_engine(mesh.settings)
    now_us = time.time_ns() // 1000
    try:
        with engine.begin() as conn:
            payout_id = conn.execute(
                sa.insert(payouts).values(
                    seller_id=random.randint(10**12, 10**13),
                    month=dt.date(2011, 1, 1),
                    amount_krw=12_345,
                    # APPROVED: a payout a mark could settle (maker-checker refuses PENDING ones anyway).
                    status="APPROVED",
                    created_at_us=now_us,
                    updated_at_us=now_us,
                )
            ).inserted_primary_key[0]

        def state():
            with engine.connect() as conn:
                row = conn.execute(sa.select(payouts).where(payouts.c.payout_id == payout_id)).one()
                reversals = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(ledger_entries)
                    .where(ledger_entries.c.payout_id == payout_id)
                ).scalar_one()
            return row._asdict(), reversals

        before = state()
        attacks = [
            ("/v1/payouts/999999:mark", {"payout_id": str(payout_id), "status": "FAILED"}),
            ("/v1/payouts/999999:mark", {"payout_id": payout_id, "status": "FAILED"}),  # a number, same thing
            (f"/v1/payouts/999999:mark?payout_id={payout_id}", {"status": "FAILED"}),
            (f"/v1/payouts/999999:mark?payoutId={payout_id}", {"status": "FAILED"}),
            (f"/v1/payouts/{payout_id}:mark?payout_id=999999", {"status": "FAILED"}),
        ]
        for path, body in attacks:
            status, answer = mesh.request("POST", path, raw=jsonlib.dumps(body).encode(), token=admin_token)
            assert status == 400, (path, answer)
            assert jsonlib.loads(answer)["code"] == 3  # one JSON object, not JSON inside JSON
        assert state() == before
        assert before[0]["status"] == "APPROVED" and before[1] == 0
        # The route itself works: the service sees the path's id.
        status, answer = mesh.json("POST", "/v1/payouts/999999:mark", {"status": "FAILED"}, token=admin_token)
        assert (status, answer["message"]) == (404, "payout_id: no payout 999999")
        # A camelCase body field does not bind to payout_id over the path either.
        status, answer = mesh.json(
            "POST", "/v1/payouts/999999:mark", {"payoutId": str(payout_id), "status": "FAILED"}, token=admin_token
        )
        assert status == 404, answer
        assert state() == before
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(payouts).where(payouts.c.payout_id == payout_id))
        engine.dispose()


@pytest.mark.parametrize("route", [r for r in ROUTES if r["body"] == "*"], ids=lambda r: r["id"])
def test_a_query_parameter_that_names_a_body_field_is_a_400(mesh, admin_token, route):
    # With body "*" every field comes from the JSON body; `?rerun=yes` got past the boolean check.
    path = _path(route, {v: _values(route["fields"][v])[0] for v in route["variables"]})
    for name in route["fields"]:
        if name in route["variables"]:
            continue
        answer = _refused_before_any_service(mesh, admin_token, route, route["verb"], f"{path}?{name}=1", {})
        assert answer["code"] == 3, (route["id"], name, answer)
        assert answer["message"].startswith(f"{name}: goes in the JSON body of"), answer
