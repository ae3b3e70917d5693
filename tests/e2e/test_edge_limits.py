"""Issue 14 through the real Envoy: limits and refusals as JSON and gRPC callers see them."""

from __future__ import annotations

import json
import time

import grpc
import pytest

from paysystem.v1 import account_pb2, account_pb2_grpc
from tests.mesh import PASSWORD

RESOURCE_EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED.value[0]


def _sign_up(mesh, role: str = "SELLER") -> tuple[str, int, str]:
    username = mesh.unique_username(role.lower())
    account_id, token = mesh.sign_up_and_login(role, username=username)
    return username, account_id, token


def _create_video(mesh, token: str) -> tuple[int, object]:
    return mesh.json("POST", "/v1/videos", {"title": "t", "duration_sec": 60}, token=token)


def test_a_throttled_log_in_is_a_429_with_a_retry_after_header_over_json_and_grpc(mesh):
    username, _, _ = _sign_up(mesh)
    failures = mesh.settings.login_max_failures
    shared = bool(mesh.settings.redis_url)  # without Redis each account instance counts alone
    attempts = failures if shared else failures * len(mesh.instances("account"))
    statuses = [
        mesh.json("POST", "/v1/auth/token", {"username": username, "password": "wrong-password"})[0]
        for _ in range(attempts)
    ]
    assert statuses[:failures] == [401] * failures and set(statuses) <= {401, 429}
    if not shared:
        # Per-process counts: the next attempts reach a throttled instance sooner or later.
        for _ in range(10):
            status, body = mesh.json("POST", "/v1/auth/token", {"username": username, "password": "wrong-password"})
            if status == 429:
                break
        assert status == 429 and int(mesh.last_headers["retry-after"]) > 0
        return
    status, body = mesh.json("POST", "/v1/auth/token", {"username": username, "password": PASSWORD})
    assert status == 429 and body["code"] == RESOURCE_EXHAUSTED and "too many failed log-ins" in body["message"]
    retry_after = int(mesh.last_headers["retry-after"])
    assert 0 < retry_after <= mesh.settings.login_failure_window_sec
    stub = account_pb2_grpc.AccountServiceStub(mesh.channel())
    with pytest.raises(grpc.RpcError) as err:
        stub.Login(account_pb2.LoginRequest(username=username, password=PASSWORD), timeout=10)
    assert err.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert 0 < int(dict(err.value.trailing_metadata())["retry-after"]) <= retry_after


def test_a_validly_signed_token_for_an_account_that_does_not_exist_is_a_401(mesh):
    status, body = _create_video(mesh, mesh.token(9_000_000_000_000, "SELLER"))
    assert status == 401 and body["code"] == UNAUTHENTICATED
    assert body["message"] == "account disabled or unknown"


def test_a_disabled_account_loses_its_tokens_within_the_check_ttl_and_cannot_log_in(mesh):
    username, _, token = _sign_up(mesh)
    assert _create_video(mesh, token)[0] == 200
    result = mesh.cli("disable-account", "--username", username)
    assert result.returncode == 0, result.stderr
    assert f"disabled SELLER {username}" in result.stdout
    disabled_at = time.monotonic()
    deadline = disabled_at + mesh.settings.account_check_ttl_sec + 3
    while True:
        status, body = _create_video(mesh, token)
        if status == 401 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert status == 401 and body["message"] == "account disabled or unknown"
    status, body = mesh.json("POST", "/v1/auth/token", {"username": username, "password": PASSWORD})
    assert status == 401 and body["message"] == "wrong username or password"


@pytest.mark.parametrize("role", [99])
def test_sign_up_with_a_role_number_no_role_has_is_a_400(mesh, role):
    body = {"username": mesh.unique_username("r"), "password": PASSWORD, "role": role}
    status, answer = mesh.json("POST", "/v1/accounts", body)
    assert status == 400 and "role" in str(answer)


@pytest.mark.parametrize("username_suffix", ["\n"])
def test_sign_up_with_a_trailing_newline_is_a_400(mesh, username_suffix):
    body = {"username": mesh.unique_username("n") + username_suffix, "password": PASSWORD, "role": "VIEWER"}
    status, answer = mesh.json("POST", "/v1/accounts", body)
    assert status == 400 and answer["message"].startswith("username: ")


@pytest.mark.parametrize("date", ["9999-12-31"])
def test_a_statement_at_the_ends_of_the_calendar_is_a_400(mesh, date):
    _, seller_id, token = _sign_up(mesh)
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/settlements?period=WEEKLY&date={date}", token=token)
    assert status == 400 and body["message"].startswith("date: ")


def test_the_widest_video_series_is_refused_quickly_and_only_to_its_owner(mesh):
    _, _, owner = _sign_up(mesh)
    _, _, stranger = _sign_up(mesh)
    status, video = _create_video(mesh, owner)
    assert status == 200
    path = f"/v1/videos/{video['video_id']}/stats?period=DAILY&from=1970-01-01&to=9999-12-26"
    assert mesh.json("GET", path, token=stranger, timeout=3)[0] == 403
    status, body = mesh.json("GET", path, token=owner, timeout=3)
    assert status == 400 and "at most 366" in body["message"]


# Envoy's transcoder turns JSON strings into bools ("yes", "1", "no"): envoy/envoy.yaml.j2
# refuses them before it (filter json-bool-fields).
@pytest.mark.parametrize("value", ["yes", "1", "true", 1])
def test_a_string_where_rerun_takes_a_boolean_is_a_400_naming_the_field(mesh, value):
    _, admin = mesh.create_admin()
    # An unknown job: if `rerun` got through, the service would refuse the job name instead.
    status, body = mesh.json(
        "POST", "/v1/batch/jobs", raw=json.dumps({"job": "no-such-job", "rerun": value}).encode(), token=admin
    )
    assert status == 400, body
    # One JSON error object (the check's own JSON was once wrapped again as a string).
    assert body == {
        "code": 3,
        "message": "rerun: must be true or false (a JSON boolean), not a string or number",
        "details": [],
    }


def test_the_reported_rerun_string_is_one_json_error_with_the_three_keys(mesh):
    _, admin = mesh.create_admin()
    raw = json.dumps({"job": "daily", "date": "2026-11-01", "rerun": "yes"}).encode()
    status, text = mesh.request("POST", "/v1/batch/jobs", raw=raw, token=admin)
    assert status == 400 and mesh.last_headers["content-type"] == "application/json"
    body = json.loads(text)
    assert isinstance(body, dict) and set(body) == {"code", "message", "details"}, text
    assert body["code"] == 3 and body["message"].startswith("rerun: must be true or false"), text
    # Nor can the query string set it, past the body's check.
    status, body = mesh.json(
        "POST", "/v1/batch/jobs?rerun=yes", raw=json.dumps({"job": "daily", "date": "2026-11-01"}).encode(), token=admin
    )
    assert (status, body["code"]) == (400, 3) and body["message"].startswith("rerun: goes in the JSON body"), body


def test_a_real_boolean_rerun_reaches_the_service(mesh):
    _, admin = mesh.create_admin()
    status, body = mesh.json(
        "POST", "/v1/batch/jobs", raw=json.dumps({"job": "no-such-job", "rerun": True}).encode(), token=admin
    )
    assert status == 400 and "job" in body["message"] and "rerun" not in body["message"], body
