"""`GET /v1/accounts/{account_id}` through the real Envoy, on both storages (the shared `mesh`
fixture): an admin reads any account's name (the dashboard names the seller whose pages it
shows), an account reads itself whatever its role, anyone else is refused with 403 whether or
not the id exists; an admin's unknown id is a 404, an id that cannot name an account a 400.
No answer carries password material."""

from __future__ import annotations

import json

import grpc
import pytest

from paysystem.v1 import account_pb2, account_pb2_grpc, common_pb2
from tests.mesh import PASSWORD

ACCOUNT_FIELDS = {"account_id", "username", "role", "created_at"}
UNKNOWN_ID = 987654321987


@pytest.fixture
def seller_account(mesh) -> tuple[dict, str]:
    """A seller's sign-up answer (what GetAccount must give back) and its token."""
    username = mesh.unique_username("named")
    status, account = mesh.json("POST", "/v1/accounts", {"username": username, "password": PASSWORD, "role": "SELLER"})
    assert status == 200, account
    return account, mesh.login(username)


def _read(mesh, account_id, token: str | None) -> tuple[int, object, str]:
    """Status, parsed body and the raw text (to look for password material in it)."""
    status, text = mesh.request("GET", f"/v1/accounts/{account_id}", None, token)
    try:
        return status, json.loads(text), text
    except ValueError:
        return status, text, text


def _no_password_material(text: str) -> None:
    lowered = text.lower()
    assert PASSWORD not in text and "argon2" not in lowered and "password" not in lowered, text


def test_an_admin_reads_a_sellers_name_and_the_seller_reads_itself(mesh, seller_account):
    account, seller = seller_account
    _, admin = mesh.create_admin()
    for token in (admin, seller):
        status, body, text = _read(mesh, account["account_id"], token)
        assert status == 200, body
        assert body == account  # id, username, role and created_at, as the sign-up answered
        assert set(body) == ACCOUNT_FIELDS and body["role"] == "SELLER"
        _no_password_material(text)


@pytest.mark.parametrize("role", ["VIEWER", "ADMIN", "INGEST"])
def test_every_role_reads_its_own_account(mesh, role):
    username = mesh.unique_username(role.lower())
    account_id, token = (
        mesh.sign_up_and_login(role, username) if role == "VIEWER" else mesh.create_account_directly(role, username)
    )
    status, body, text = _read(mesh, account_id, token)
    assert status == 200, body
    assert (body["account_id"], body["username"], body["role"]) == (str(account_id), username, role)
    _no_password_material(text)


def test_another_account_is_refused_whether_or_not_the_id_exists(mesh, seller_account):
    account, _ = seller_account
    other_id, other = mesh.sign_up_and_login("SELLER")
    _, viewer = mesh.sign_up_and_login("VIEWER")
    admin_id, _ = mesh.create_admin()
    for target, token in [(account["account_id"], other), (account["account_id"], viewer), (admin_id, other)]:
        status, body, text = _read(mesh, target, token)
        assert status == 403, body
        assert "belongs to another account" in body["message"], body
        assert account["username"] not in text
    # An unknown id is refused the same way: a seller cannot tell which ids exist.
    assert _read(mesh, UNKNOWN_ID, other)[:2] == _read(mesh, other_id + 10**9, other)[:2]
    assert _read(mesh, UNKNOWN_ID, other)[0] == 403


def test_unknown_and_bad_ids_and_no_token(mesh, seller_account):
    account, _ = seller_account
    _, admin = mesh.create_admin()
    status, body, _ = _read(mesh, UNKNOWN_ID, admin)
    assert (status, body["message"]) == (404, f"account_id: no account {UNKNOWN_ID}"), body
    for bad in ("0", "-3", "abc", "1.5"):
        status, body, _ = _read(mesh, bad, admin)
        assert status == 400, (bad, body)
    assert "account_id: must be a positive id" in _read(mesh, "0", admin)[1]["message"]
    assert _read(mesh, account["account_id"], None)[0] == 401


def test_grpc_get_account_through_envoy(mesh, seller_account):
    account, seller = seller_account
    stub = account_pb2_grpc.AccountServiceStub(mesh.channel())
    request = account_pb2.GetAccountRequest(account_id=int(account["account_id"]))
    answer = stub.GetAccount(request, metadata=mesh.metadata(seller), timeout=10)
    assert (answer.username, answer.role) == (account["username"], common_pb2.SELLER)
    with pytest.raises(grpc.RpcError) as err:
        stub.GetAccount(request, timeout=10)
    assert err.value.code() is grpc.StatusCode.UNAUTHENTICATED
