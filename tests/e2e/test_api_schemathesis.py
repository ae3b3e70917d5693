"""The published OpenAPI document against the real mesh: Envoy serves it, and schemathesis
generates requests from it (valid and invalid ones) for every operation, as each role and with
no token, through the real Envoy.

Checks per response: no 5xx, a status the document lists for the operation, the documented
content type, a body that matches its schema. And for each 4xx, no row of any table changed
(calls run one at a time and nothing else writes meanwhile, so the counts are exact); a 200 of
POST /v1/plays:batch adds exactly the `stored` count of plays.

RunJob (POST /v1/batch/jobs) is left out of random generation: its answer is a stream of
newline-delimited JSON that schemathesis validates as one JSON document, and random valid
requests would start real batch jobs over random date ranges. It is checked here by hand:
every line against the JobEvent schema, the last one final. CloseMonth (POST
/v1/settlement/closings) is left out too: a close is global and final, so a random valid month
would close it for every test of the shared mesh; tests/e2e/test_ledger_json.py checks its
answers and refusals by hand. SetRole (POST /v1/accounts/{account_id}:set-role) is left out
for the same reason: a random valid id would change the role of another test's account on the
shared mesh (its tokens would then be refused); tests/e2e/test_account_roles_json.py checks its
answers and refusals by hand.

Generation is derandomized (the same cases on every run, so CI does not flake) and bounded
(EXAMPLES per operation, caller and mode), and failures are collected, not shrunk, to keep the
time bounded.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json

import jsonschema_rs  # schemathesis's own JSON Schema validator
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from migrations.schema import metadata
from services.common import db
from tools import gendocs

EXAMPLES = 2
CALLERS = ["anonymous", "VIEWER", "SELLER", "ADMIN", "INGEST"]
DOCUMENT = json.loads(gendocs.OPENAPI_PATH.read_text())
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
NOT_GENERATED = {"POST /v1/batch/jobs", "POST /v1/settlement/closings", "POST /v1/accounts/{account_id}:set-role"}
OPERATIONS = sorted(
    f"{verb.upper()} {path}"
    for path, item in DOCUMENT["paths"].items()
    for verb in item
    if f"{verb.upper()} {path}" not in NOT_GENERATED
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def accounts(mesh) -> dict[str, tuple[int, str]]:
    """{role: (account_id, token)}."""
    result = {role: mesh.sign_up_and_login(role) for role in ("VIEWER", "SELLER")}
    result |= {role: mesh.create_account_directly(role) for role in ("ADMIN", "INGEST")}
    return result


@pytest.fixture(scope="module")
def tokens(accounts) -> dict[str, str | None]:
    return {"anonymous": None} | {role: token for role, (_, token) in accounts.items()}


@pytest.fixture(scope="module")
def engine(mesh):
    engine = db.make_engine(mesh.settings)
    yield engine
    # Webhook endpoints a generated request registered (random URLs): nothing more is sent to
    # them for the rest of the shared mesh's session.
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE webhook_endpoints SET active = :no"), {"no": False})
    engine.dispose()


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Every table's row count, in one round trip."""
    import batch.jobs.tables  # noqa: F401 - the job tables are on the same metadata

    # webhook_deliveries is written by the webhook dispatcher process in the background (fan-out
    # of committed events), not by the call under test.
    names = sorted(t.name for t in metadata.sorted_tables if t.name != "webhook_deliveries")
    query = " UNION ALL ".join(f"SELECT '{name}', COUNT(*) FROM {name}" for name in names)
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(query)).all())


def _modes(operation, caller: str) -> list[GenerationMode]:
    # An operation without parameters or body has nothing to make invalid; without a token,
    # invalid input meets the same 401 as valid input.
    has_input = operation.path_parameters or operation.query or operation.body
    if has_input and caller != "anonymous":
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


def call_and_check(mesh, engine, case, token: str | None) -> tuple[int, list[str]]:
    """Sends one case through Envoy: its status and what is wrong with the answer."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    before = row_counts(engine)
    response = case.call(base_url=mesh.base_url, headers=headers, timeout=30)
    after = row_counts(engine)
    problems = []
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except Exception as exc:  # noqa: BLE001 - collected and reported by the caller
        problems.append(str(exc)[:1500])
    if 400 <= response.status_code < 500 and after != before:
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        problems.append(f"a rejected request ({response.status_code}) changed rows: {changed}")
    if case.operation.label == "POST /v1/plays:batch" and response.status_code == 200:
        stored = int(response.json()["stored"])
        if after["plays"] - before["plays"] != stored:
            problems.append(f"stored {stored} but plays grew by {after['plays'] - before['plays']}")
    if problems:
        problems.insert(0, case.as_curl_command(headers=headers))
    return response.status_code, problems


@pytest.mark.parametrize("label", OPERATIONS)
def test_generated_requests_get_documented_answers_and_rejected_ones_store_nothing(mesh, tokens, engine, label):
    operation = SCHEMA.find_operation_by_label(label)
    failures: list[str] = []
    calls: dict[int, int] = {}

    def exercise(case, caller: str) -> None:
        status, problems = call_and_check(mesh, engine, case, tokens[caller])
        calls[status] = calls.get(status, 0) + 1
        if problems:
            failures.append(f"[{caller}] " + "\n  ".join(problems))

    for caller in CALLERS:
        for mode in _modes(operation, caller):
            bounded = settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            bounded(given(case=operation.as_strategy(generation_mode=mode))(lambda case: exercise(case, caller)))()  # noqa: B023 - run at once, inside the loop

    assert sum(calls.values()) >= EXAMPLES, f"too few calls: {calls}"
    assert not failures, f"{len(failures)} failures of {sum(calls.values())} calls {calls}:\n\n" + "\n\n".join(
        failures[:10]
    )


def test_envoy_serves_the_committed_document_without_a_token(mesh):
    conn = http.client.HTTPConnection("127.0.0.1", mesh.settings.http_port, timeout=30)
    try:
        conn.request("GET", "/openapi.json")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status == 200
    assert response.getheader("content-type") == "application/json"
    assert json.loads(body) == DOCUMENT


def _validator(name: str) -> jsonschema_rs.Draft7Validator:
    return jsonschema_rs.Draft7Validator({"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]})


def test_the_job_stream_is_documented_line_by_line_and_a_refused_job_stores_nothing(mesh, tokens, engine):
    day = dt.date(2014, 3, 3)  # no plays: a quick job
    before = row_counts(engine)
    status, text = mesh.request(
        "POST", "/v1/batch/jobs", token=tokens["VIEWER"], body={"job": "daily", "date": day.isoformat()}
    )
    assert status == 403 and "403" in DOCUMENT["paths"]["/v1/batch/jobs"]["post"]["responses"]
    _validator("Error").validate(json.loads(text))
    assert row_counts(engine) == before

    status, text = mesh.request(
        "POST", "/v1/batch/jobs", token=tokens["ADMIN"], body={"job": "daily", "date": day.isoformat(), "rerun": True}
    )
    assert status == 200, text
    events = [json.loads(line) for line in text.splitlines() if line.strip()]
    validator = _validator("JobEvent")
    for event in events:
        validator.validate(event)
    assert events[-1]["final"] is True and events[-1]["type"] == "JOB_FINISHED"
    assert not any(event["final"] for event in events[:-1])


MAX_INT64 = str(2**63 - 1)
# Edges that random generation rarely reaches: the ends of the calendar, an enum number that
# names nothing, the widest ranges, the largest ids, an id past int64. (label, caller, what to
# send with {seller}, {viewer} and {video} standing for the callers' own ids, and the statuses
# it must get where the right answer is plain; otherwise any documented one.)
EDGES = [
    (
        "GET /v1/sellers/{seller_id}/top-videos",
        "SELLER",
        {
            "path_parameters": {"seller_id": "{seller}"},
            "query": {"period": "WEEKLY", "date": "9999-12-31", "metric": "VIEWS"},
        },
        None,
    ),
    (
        "GET /v1/sellers/{seller_id}/top-videos",
        "SELLER",
        {
            "path_parameters": {"seller_id": "{seller}"},
            "query": {"period": "MONTHLY", "date": "0001-01-01", "metric": "WATCH_TIME"},
        },
        None,
    ),
    (
        "GET /v1/sellers/{seller_id}/top-videos",
        "ADMIN",
        {"path_parameters": {"seller_id": MAX_INT64}, "query": {"period": 99, "date": "2026-01-01", "metric": 99}},
        {400},
    ),
    (
        "GET /v1/sellers/{seller_id}/settlements",
        "SELLER",
        {"path_parameters": {"seller_id": "{seller}"}, "query": {"period": "WEEKLY", "date": "9999-12-31"}},
        None,
    ),
    (
        "GET /v1/sellers/{seller_id}/settlements",
        "ADMIN",
        {"path_parameters": {"seller_id": "{seller}"}, "query": {"period": "DAILY", "date": "0001-01-01"}},
        None,
    ),
    (
        "GET /v1/videos/{video_id}/stats",
        "SELLER",
        {
            "path_parameters": {"video_id": "{video}"},
            "query": {"period": "DAILY", "from": "0001-01-01", "to": "9999-12-31"},
        },
        None,
    ),
    (
        "GET /v1/videos/{video_id}/stats",
        "ADMIN",
        {
            "path_parameters": {"video_id": "{video}"},
            "query": {"period": "MONTHLY", "from": "9999-12-01", "to": "9999-12-31"},
        },
        None,
    ),
    ("GET /v1/videos/{video_id}", "VIEWER", {"path_parameters": {"video_id": MAX_INT64}}, {404}),
    ("GET /v1/videos/{video_id}", "VIEWER", {"path_parameters": {"video_id": "9223372036854775808"}}, {400}),
    (
        "GET /v1/sellers/{seller_id}/videos",
        "SELLER",
        {"path_parameters": {"seller_id": "{seller}"}, "query": {"page_size": 2**31 - 1, "page_token": "x"}},
        None,
    ),
    (
        "POST /v1/accounts",
        "anonymous",
        {"body": {"username": "edge-role-99", "password": "correct-horse-battery", "role": 99}},
        {400},
    ),
    (
        "POST /v1/accounts",
        "anonymous",
        {"body": {"username": "edge-role-admin", "password": "correct-horse-battery", "role": "ADMIN"}},
        {400, 403},
    ),
    ("POST /v1/videos", "SELLER", {"body": {"title": "edge", "duration_sec": MAX_INT64}}, None),
    # SetRole is not generated (it would change other tests' accounts): its refusals here.
    (
        "POST /v1/accounts/{account_id}:set-role",
        "ADMIN",
        {"path_parameters": {"account_id": MAX_INT64}, "body": {"role": "VIEWER"}},
        {404},
    ),
    (
        "POST /v1/accounts/{account_id}:set-role",
        "ADMIN",
        {"path_parameters": {"account_id": "9223372036854775808"}, "body": {"role": "VIEWER"}},
        {400},
    ),
    (
        "POST /v1/accounts/{account_id}:set-role",
        "ADMIN",
        {"path_parameters": {"account_id": "{viewer}"}, "body": {"role": 99}},
        {400},
    ),
    (
        "POST /v1/accounts/{account_id}:set-role",
        "SELLER",
        {"path_parameters": {"account_id": "{viewer}"}, "body": {"role": "SELLER"}},
        {403},
    ),
    (
        "POST /v1/accounts/{account_id}:set-role",
        "anonymous",
        {"path_parameters": {"account_id": "{viewer}"}, "body": {"role": "SELLER"}},
        {401},
    ),
    # Reading an account: its own (200, the Account schema), by an admin, by another account
    # (403, documented although every role may call it), an id past int64.
    ("GET /v1/accounts/{account_id}", "SELLER", {"path_parameters": {"account_id": "{seller}"}}, {200}),
    ("GET /v1/accounts/{account_id}", "ADMIN", {"path_parameters": {"account_id": "{viewer}"}}, {200}),
    ("GET /v1/accounts/{account_id}", "VIEWER", {"path_parameters": {"account_id": "{seller}"}}, {403}),
    ("GET /v1/accounts/{account_id}", "INGEST", {"path_parameters": {"account_id": "{seller}"}}, {403}),
    ("GET /v1/accounts/{account_id}", "ADMIN", {"path_parameters": {"account_id": "9223372036854775808"}}, {400}),
    (
        "POST /v1/plays:batch",
        "VIEWER",
        {
            "body": {
                "events": [
                    {
                        "event_id": "openapi-edge-1",
                        "video_id": "{video}",
                        "viewer_id": "{viewer}",
                        "started_at": "9999-12-31T23:59:59Z",
                        "start_position_sec": "0",
                        "end_position_sec": MAX_INT64,
                    }
                ]
            }
        },
        None,
    ),
    (
        "POST /v1/plays:batch",
        "VIEWER",
        {
            "body": {
                "events": [
                    {
                        "event_id": "openapi-edge-2",
                        "video_id": "{video}",
                        "viewer_id": "{viewer}",
                        "started_at": "0001-01-01T00:00:00Z",
                        "start_position_sec": "0",
                        "end_position_sec": "10",
                    }
                ]
            }
        },
        None,
    ),
]


def _fill(value, ids: dict[str, str]):
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.fixture(scope="module")
def own_ids(mesh, accounts) -> dict[str, str]:
    seller_id, seller_token = accounts["SELLER"]
    status, video = mesh.json("POST", "/v1/videos", {"title": "edges", "duration_sec": 600}, token=seller_token)
    assert status == 200, video
    return {"seller": str(seller_id), "viewer": str(accounts["VIEWER"][0]), "video": video["video_id"]}


@pytest.mark.parametrize(
    ("label", "caller", "sent", "expected"), EDGES, ids=[f"{e[0]}-{i}" for i, e in enumerate(EDGES)]
)
def test_edge_values_get_documented_answers_and_rejected_ones_store_nothing(
    mesh, engine, tokens, own_ids, label, caller, sent, expected
):
    case = SCHEMA.find_operation_by_label(label).Case(**_fill(sent, own_ids))
    status, problems = call_and_check(mesh, engine, case, tokens[caller])
    assert not problems, f"[{caller}] {status}\n  " + "\n  ".join(problems)
    assert expected is None or status in expected, f"[{caller}] {label} {sent}: {status}, expected {expected}"


@pytest.mark.parametrize(("account_id", "role"), [(0, "VIEWER"), (2**63, "VIEWER"), (-1, "SELLER"), (1, "ROOT")])
def test_a_signed_token_with_a_bad_subject_or_role_gets_a_documented_refusal(mesh, engine, own_ids, account_id, role):
    token = mesh.token(account_id, role)
    case = SCHEMA.find_operation_by_label("GET /v1/videos/{video_id}").Case(
        path_parameters={"video_id": own_ids["video"]}
    )
    status, problems = call_and_check(mesh, engine, case, token)
    assert not problems, "\n  ".join(problems)
    assert status in (401, 403), status
