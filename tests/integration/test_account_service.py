"""The account service over real gRPC, on MariaDB and on the embedded SQLite default."""

from __future__ import annotations

import threading

import grpc
import pytest
import sqlalchemy as sa

from entrypoints.servers import account as account_main
from paysystem.v1 import account_pb2, account_pb2_grpc, common_pb2
from services.account.tables import accounts
from services.common import auth, db
from services.common.server import Server, ServiceContext
from services.common.settings import Settings
from tests.databases import fresh_database

PORT = {"sqlite": 17101, "mariadb": 17102}


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def account_service(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("account")
    with fresh_database(request.param, "paysystem_account_", tmp) as url:
        settings = Settings(data_dir=tmp, db_url=url, jwt_issuer="paysystem")
        auth.ensure_keys(settings.keys_dir)
        ctx = ServiceContext(settings=settings, engine=db.make_engine(settings), instance="account-test")
        server = Server("account", account_main.build(ctx), ctx, PORT[request.param])
        server.grpc_server.start()
        server.set_status(1)
        channel = grpc.insecure_channel(server.address)
        yield account_pb2_grpc.AccountServiceStub(channel), ctx
        channel.close()
        server.grpc_server.stop(0).wait()
        ctx.engine.dispose()


def _sign_up(stub, username, password="correct-horse", role=common_pb2.SELLER):
    return stub.SignUp(account_pb2.SignUpRequest(username=username, password=password, role=role))


def _count(ctx, username) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).where(accounts.c.username == username)).scalar()


def test_sign_up_then_log_in_gives_a_token_for_that_account(account_service):
    stub, ctx = account_service
    account = _sign_up(stub, "seller.one")
    token = stub.Login(account_pb2.LoginRequest(username="seller.one", password="correct-horse"))
    principal = auth.verify_token(
        auth.load_public_key(ctx.settings.keys_dir), token.access_token, issuer="paysystem", leeway_sec=0
    )
    assert (principal.account_id, principal.role) == (account.account_id, "SELLER")
    assert token.expires_in == ctx.settings.token_ttl_sec


def test_passwords_are_stored_as_argon2_hashes(account_service):
    stub, ctx = account_service
    _sign_up(stub, "hashed.user", password="plain-text-pw")
    with ctx.engine.connect() as conn:
        stored = conn.execute(sa.select(accounts.c.password_hash).where(accounts.c.username == "hashed.user")).scalar()
    assert stored.startswith("$argon2") and "plain-text-pw" not in stored


def test_a_taken_username_is_already_exists_and_the_first_account_stays(account_service):
    stub, ctx = account_service
    _sign_up(stub, "taken")
    with pytest.raises(grpc.RpcError) as caught:
        _sign_up(stub, "taken", role=common_pb2.VIEWER)
    assert caught.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert _count(ctx, "taken") == 1


@pytest.mark.parametrize(
    ("username", "password", "role", "field"),
    [
        ("ab", "long-enough", common_pb2.VIEWER, "username"),
        ("has space", "long-enough", common_pb2.VIEWER, "username"),
        ("fine.name", "short", common_pb2.VIEWER, "password"),
        ("fine.name", "long-enough", common_pb2.ADMIN, "role"),
        ("fine.name", "long-enough", common_pb2.ROLE_UNSPECIFIED, "role"),
    ],
)
def test_bad_sign_ups_are_invalid_argument_and_store_nothing(account_service, username, password, role, field):
    stub, ctx = account_service
    with pytest.raises(grpc.RpcError) as caught:
        _sign_up(stub, username, password, role)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith(f"{field}:")
    assert _count(ctx, username) == 0


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(account_service):
    stub, _ = account_service
    _sign_up(stub, "careful")
    answers = []
    for username, password in [("careful", "wrong-password"), ("nobody-here", "wrong-password")]:
        with pytest.raises(grpc.RpcError) as caught:
            stub.Login(account_pb2.LoginRequest(username=username, password=password))
        answers.append((caught.value.code(), caught.value.details()))
    assert answers[0] == answers[1] == (grpc.StatusCode.UNAUTHENTICATED, "wrong username or password")


def test_usernames_differing_only_in_case_are_different_accounts(account_service):
    stub, _ = account_service
    first = _sign_up(stub, "CaseUser")
    second = _sign_up(stub, "caseuser")
    assert first.account_id != second.account_id


def test_concurrent_sign_ups_of_one_name_store_one_account(account_service):
    stub, ctx = account_service
    codes = []

    def attempt():
        try:
            _sign_up(stub, "racer")
            codes.append("ok")
        except grpc.RpcError as exc:
            codes.append(exc.code())

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes.count("ok") == 1
    assert codes.count(grpc.StatusCode.ALREADY_EXISTS) == 5
    assert _count(ctx, "racer") == 1


def test_calls_are_counted_by_method_and_status_for_prometheus(account_service):
    from prometheus_client import REGISTRY

    stub, _ = account_service
    labels = {"method": "/paysystem.v1.AccountService/SignUp", "code": "ALREADY_EXISTS"}
    before = REGISTRY.get_sample_value("paysystem_rpc_requests_total", labels) or 0
    _sign_up(stub, "counted")
    with pytest.raises(grpc.RpcError):
        _sign_up(stub, "counted")
    assert REGISTRY.get_sample_value("paysystem_rpc_requests_total", labels) == before + 1
