"""Issue 28 item 4 through the real Envoy: an admin demotes a seller with
`POST /v1/accounts/{account_id}:set-role`, and the seller's old token stops creating videos
within the account check interval; `paysystem set-role` does the same from the command line.

A mesh of its own on MariaDB with a short PAYSYSTEM_ACCOUNT_CHECK_TTL_SEC (the shared e2e
meshes keep the default 5 s), so the test waits about a second, not five.
"""

from __future__ import annotations

import time

import grpc
import pytest

from paysystem.v1 import account_pb2, account_pb2_grpc, common_pb2
from tests.databases import fresh_database
from tests.mesh import PASSWORD, Mesh

TTL_SEC = 1
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED.value[0]
ROLE_CHANGED = "the account's role changed since this token was issued; log in again"


@pytest.fixture(scope="module")
def roles_mesh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roles-mesh")
    with fresh_database("mariadb", "paysystem_roles_mesh_", tmp) as url:
        env = {"PAYSYSTEM_ACCOUNT_CHECK_TTL_SEC": str(TTL_SEC)}
        with Mesh.on_free_ports(tmp / "mesh", db_url=url, env=env) as mesh:
            yield mesh


def _create_video(mesh, token: str) -> tuple[int, object]:
    return mesh.json("POST", "/v1/videos", {"title": "still a seller?", "duration_sec": 60}, token=token)


def _until_refused(mesh, token: str, call=_create_video) -> tuple[int, dict, float]:
    """Makes `call` (by default: create a video) with the token until one is refused: status,
    body, seconds it took."""
    started = time.monotonic()
    while True:
        status, body = call(mesh, token)
        elapsed = time.monotonic() - started
        if status != 200 or elapsed > TTL_SEC + 5:
            return status, body, elapsed
        time.sleep(0.1)


def test_a_seller_demoted_through_envoy_loses_its_old_token_within_the_check_interval(roles_mesh):
    mesh = roles_mesh
    assert mesh.settings.account_check_ttl_sec == TTL_SEC
    _, admin = mesh.create_admin()
    username = mesh.unique_username("demoted")
    seller_id, seller = mesh.sign_up_and_login("SELLER", username=username)
    status, video = _create_video(mesh, seller)
    assert status == 200, video

    status, account = mesh.json("POST", f"/v1/accounts/{seller_id}:set-role", {"role": "VIEWER"}, token=admin)
    assert status == 200, account
    assert (account["account_id"], account["username"], account["role"]) == (str(seller_id), username, "VIEWER")
    status, body, elapsed = _until_refused(mesh, seller)
    assert status == 401, body
    assert body == {"code": UNAUTHENTICATED, "message": ROLE_CHANGED, "details": []}
    assert elapsed < TTL_SEC + 5
    # Logging in again gives a viewer's token: a viewer may not create videos.
    viewer = mesh.login(username)
    assert _create_video(mesh, viewer)[0] == 403

    # The operator's command changes it back; the viewer token goes stale in its turn.
    result = mesh.cli("set-role", "--username", username, "--role", "SELLER")
    assert result.returncode == 0, result.stderr
    assert f"changed {username} (account_id {seller_id}) from VIEWER to SELLER" in result.stdout

    # A call the viewer's role may make, so that the only refusal is the role change's (creating
    # a video would be refused with 403 for the role until the instance notices the change).
    def read_video(mesh, token: str) -> tuple[int, object]:  # anyone signed in may
        return mesh.json("GET", f"/v1/videos/{video['video_id']}", token=token)

    status, body, _ = _until_refused(mesh, viewer, read_video)
    assert (status, body["message"]) == (401, ROLE_CHANGED)
    assert _create_video(mesh, mesh.login(username))[0] == 200


def test_refusals_of_set_role_as_json(roles_mesh):
    mesh = roles_mesh
    admin_id, admin = mesh.create_admin()
    target_id, target = mesh.sign_up_and_login("VIEWER")
    path = f"/v1/accounts/{target_id}:set-role"
    cases = [
        (path, {"role": "ROOT"}, admin, 400, "role"),
        (path, {"role": 99}, admin, 400, "role"),
        (path, {"role": "SELLER"}, target, 403, "needs ADMIN"),
        (path, {"role": "SELLER"}, None, 401, ""),
        (f"/v1/accounts/{admin_id}:set-role", {"role": "VIEWER"}, admin, 403, "cannot change their own role"),
        ("/v1/accounts/987654321987:set-role", {"role": "SELLER"}, admin, 404, "no account 987654321987"),
    ]
    for where, body, token, expected, words in cases:
        status, reply = mesh.json("POST", where, body, token=token)
        assert status == expected, (where, body, reply)
        assert words in str(reply)
    # Nothing changed: the target's token still works (a 404 for a video that does not exist,
    # not the 401 of a changed role), after more than the check interval.
    time.sleep(TTL_SEC * 1.5)
    assert mesh.json("GET", "/v1/videos/987654321987", token=target)[0] == 404


def test_grpc_set_role_needs_a_token_at_envoy_while_sign_up_and_log_in_stay_open(roles_mesh):
    mesh = roles_mesh
    stub = account_pb2_grpc.AccountServiceStub(mesh.channel())
    with pytest.raises(grpc.RpcError) as err:
        stub.SetRole(account_pb2.SetRoleRequest(account_id=1, role=common_pb2.SELLER), timeout=10)
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
    username = mesh.unique_username("grpc")
    stub.SignUp(account_pb2.SignUpRequest(username=username, password=PASSWORD, role=common_pb2.VIEWER), timeout=10)
    assert stub.Login(account_pb2.LoginRequest(username=username, password=PASSWORD), timeout=10).access_token


def test_the_cli_refuses_unknown_roles_and_accounts_and_says_when_nothing_changed(roles_mesh):
    mesh = roles_mesh
    missing = mesh.cli("set-role", "--username", "nobody-at-all", "--role", "SELLER")
    assert missing.returncode != 0 and "no account 'nobody-at-all'" in missing.stderr
    username = mesh.unique_username("cli")
    mesh.sign_up_and_login("VIEWER", username=username)
    unknown = mesh.cli("set-role", "--username", username, "--role", "ROOT")
    assert unknown.returncode != 0 and "role: must be one of VIEWER, SELLER, ADMIN, INGEST" in unknown.stderr
    same = mesh.cli("set-role", "--username", username, "--role", "VIEWER")
    assert same.returncode == 0 and "already VIEWER; nothing changed" in same.stdout
