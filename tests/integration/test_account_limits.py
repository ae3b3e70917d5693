"""Issue 14 on the account service over real gRPC: on MariaDB with the log-in throttle in
Redis, and on the embedded SQLite default with the in-process throttle."""

from __future__ import annotations

import uuid

import grpc
import pytest
import sqlalchemy as sa

from domain.errors import NotFound, TooManyRequests
from entrypoints.servers import account as account_main
from paysystem.v1 import account_pb2, account_pb2_grpc, common_pb2
from services.account import repository, service
from services.account.tables import accounts
from services.account.throttle import make_throttle
from services.common import auth, db
from services.common.metrics import LOGINS_THROTTLED
from services.common.server import Server, ServiceContext
from services.common.settings import Settings
from services.readpath.cache import make_redis
from tests.databases import fresh_database

PORT = {"sqlite": 17131, "mariadb": 17132}
REDIS = {"sqlite": "", "mariadb": "redis://127.0.0.1:6379/1"}
PASSWORD = "correct-horse"
MAX_FAILURES, WINDOW_SEC = 3, 120


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def account_service(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("account-limits")
    with fresh_database(request.param, "paysystem_acclim_", tmp) as url:
        settings = Settings(
            data_dir=tmp,
            db_url=url,
            redis_url=REDIS[request.param],
            login_max_failures=MAX_FAILURES,
            login_failure_window_sec=WINDOW_SEC,
        )
        auth.ensure_keys(settings.keys_dir)
        ctx = ServiceContext(settings=settings, engine=db.make_engine(settings), instance="account-test")
        server = Server("account", account_main.build(ctx), ctx, PORT[request.param])
        server.grpc_server.start()
        channel = grpc.insecure_channel(server.address)
        yield account_pb2_grpc.AccountServiceStub(channel), ctx
        channel.close()
        server.grpc_server.stop(0).wait()
        ctx.engine.dispose()


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _sign_up(stub, username, role=common_pb2.SELLER):
    return stub.SignUp(account_pb2.SignUpRequest(username=username, password=PASSWORD, role=role))


def _log_in(stub, username, password=PASSWORD):
    return stub.Login(account_pb2.LoginRequest(username=username, password=password), timeout=10)


def _error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def _count(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar()


@pytest.mark.parametrize("role", [99, -1, common_pb2.ADMIN, common_pb2.INGEST])
def test_sign_up_with_a_role_number_outside_the_self_service_roles_is_invalid(account_service, role):
    stub, ctx = account_service
    before = _count(ctx)
    err = _error(lambda: _sign_up(stub, _unique("role"), role=role))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT and err.details().startswith("role: ")
    assert _count(ctx) == before


@pytest.mark.parametrize("suffix", ["\n", "\r\n"])
def test_a_username_with_a_trailing_newline_is_not_a_new_look_alike_account(account_service, suffix):
    stub, ctx = account_service
    name = _unique("alice")
    _sign_up(stub, name)
    long_name = "b" * 54 + _unique("")  # 64 characters
    before = _count(ctx)
    for username in (name + suffix, long_name + suffix):
        err = _error(lambda username=username: _sign_up(stub, username))
        assert err.code() is grpc.StatusCode.INVALID_ARGUMENT and err.details().startswith("username: ")
    assert _count(ctx) == before


def test_the_database_never_cuts_a_too_long_value(account_service):
    _, ctx = account_service
    if ctx.engine.dialect.name == "sqlite":
        # SQLite does not enforce VARCHAR lengths: the value is stored whole, never cut.
        with db.unit_of_work(ctx.engine) as conn:
            repository.insert(conn, username="c" * 65, password_hash="!", role="VIEWER", created_at_us=0)
        with ctx.engine.connect() as conn:
            assert repository.by_username(conn, "c" * 65) is not None
        return
    with ctx.engine.connect() as conn:
        mode = conn.execute(sa.text("SELECT @@SESSION.sql_mode")).scalar()
    assert mode == db.SQL_MODE  # set by the engine, whatever the server's default is
    with pytest.raises(sa.exc.DataError):
        with db.unit_of_work(ctx.engine) as conn:
            repository.insert(conn, username="c" * 65, password_hash="!", role="VIEWER", created_at_us=0)
    with ctx.engine.connect() as conn:
        assert conn.execute(sa.select(accounts.c.account_id).where(accounts.c.username == "c" * 64)).first() is None


def test_a_disabled_account_cannot_log_in_and_gets_the_same_answer_as_a_wrong_password(account_service):
    stub, ctx = account_service
    name = _unique("gone")
    _sign_up(stub, name)
    _log_in(stub, name)
    account, disabled_at = service.disable_account(service.sql_unit_of_work(ctx.engine), name)
    assert service.disable_account(service.sql_unit_of_work(ctx.engine), name)[1] == disabled_at  # once
    disabled = _error(lambda: _log_in(stub, name))
    wrong = _error(lambda: _log_in(stub, _unique("nobody")))
    assert disabled.code() is wrong.code() is grpc.StatusCode.UNAUTHENTICATED
    assert disabled.details() == wrong.details() == "wrong username or password"


def test_after_n_failed_log_ins_even_the_right_password_is_refused_with_retry_after(account_service):
    stub, ctx = account_service
    name = _unique("target")
    _sign_up(stub, name)
    for _ in range(MAX_FAILURES):
        assert _error(lambda: _log_in(stub, name, "wrong-password")).code() is grpc.StatusCode.UNAUTHENTICATED
    before = LOGINS_THROTTLED._value.get()
    err = _error(lambda: _log_in(stub, name))
    assert err.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and "too many failed log-ins" in err.details()
    retry_after = int(dict(err.trailing_metadata())["retry-after"])
    assert 0 < retry_after <= WINDOW_SEC
    assert LOGINS_THROTTLED._value.get() == before + 1
    other = _unique("other")
    _sign_up(stub, other)
    _log_in(stub, other)  # other usernames are not affected


def test_with_redis_every_account_instance_sees_the_failures_without_each_process_counts_alone(account_service):
    stub, ctx = account_service
    name = _unique("shared")
    _sign_up(stub, name)
    for _ in range(MAX_FAILURES):
        _error(lambda: _log_in(stub, name, "wrong-password"))
    # Another instance: its own throttle object, with the same Redis URL (or none).
    other = make_throttle(make_redis(ctx.settings.redis_url), max_failures=MAX_FAILURES, window_sec=WINDOW_SEC)
    if ctx.settings.redis_url:
        with pytest.raises(TooManyRequests, match="too many failed log-ins"):
            other.check(name)
    else:
        other.check(name)  # the embedded default: per-process counts (docs/operations.md)


def test_disabling_an_account_that_does_not_exist_is_not_found(account_service):
    _, ctx = account_service
    with pytest.raises(NotFound, match="no account 'nobody-by-that-name'"):
        service.disable_account(service.sql_unit_of_work(ctx.engine), "nobody-by-that-name")


def test_a_redis_that_does_not_answer_falls_back_to_counting_in_the_process():
    # Nothing listens on port 1: every Redis call fails at once, as with a stopped Redis.
    throttle = make_throttle(make_redis("redis://127.0.0.1:1/0"), max_failures=2, window_sec=60)
    name = _unique("fallback")
    throttle.failed(name)
    throttle.check(name)
    throttle.failed(name)
    with pytest.raises(TooManyRequests):
        throttle.check(name)
