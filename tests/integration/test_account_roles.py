"""Issue 28 item 4: a role change takes effect on existing tokens, like disabling does.

Real account and video services (gRPC servers with every interceptor and the account check as
the processes run it: ActiveAccounts over the accounts table, a short TTL) on SQLite and
MariaDB. Before, a SELLER demoted to VIEWER in the table kept
creating videos with its old token until the token expired (15 minutes).
"""

from __future__ import annotations

import time
import uuid

import grpc
import pytest
import sqlalchemy as sa

from domain.errors import BadInput, LastAdmin, NotFound
from entrypoints.servers import account as account_main
from entrypoints.servers import video as video_main
from paysystem.v1 import account_pb2, account_pb2_grpc, common_pb2, video_pb2, video_pb2_grpc
from services.account import published as published_accounts
from services.account import service
from services.account.tables import accounts
from services.common import account_status, auth, db
from services.common.server import Server, ServiceContext
from services.common.settings import Settings
from tests.databases import fresh_database

TTL_SEC = 0.6
PASSWORD = "correct-horse"
PORTS = {"sqlite": (17141, 17142), "mariadb": (17143, 17144)}


class Services:
    def __init__(self, ctx: ServiceContext, accounts_stub, videos_stub) -> None:
        self.ctx = ctx
        self.accounts = accounts_stub
        self.videos = videos_stub

    def account(self, role: str) -> tuple[int, str]:
        """A new account of that role and a token from a real log-in."""
        username = f"{role.lower()}-{uuid.uuid4().hex[:10]}"
        service.create_account(
            service.sql_unit_of_work(self.ctx.engine), username, PASSWORD, role, allowed_roles=(role,)
        )
        token = self.accounts.Login(account_pb2.LoginRequest(username=username, password=PASSWORD), timeout=10)
        return token.account_id, token.access_token

    def create_video(self, token: str):
        return self.videos.CreateVideo(
            video_pb2.CreateVideoRequest(title="demoted?", duration_sec=60),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )

    def set_role(self, token: str, account_id: int, role: int):
        return self.accounts.SetRole(
            account_pb2.SetRoleRequest(account_id=account_id, role=role),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=10,
        )

    def role_in_table(self, account_id: int) -> str:
        with self.ctx.engine.connect() as conn:
            return conn.execute(sa.select(accounts.c.role).where(accounts.c.account_id == account_id)).scalar()


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def services(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roles")
    with fresh_database(request.param, "paysystem_roles_", tmp) as url:
        settings = Settings(data_dir=tmp, db_url=url, account_check_ttl_sec=TTL_SEC)
        auth.ensure_keys(settings.keys_dir)
        engine = db.make_engine(settings)
        servers, channels = [], []
        for name, build, port in zip(
            ("account", "video"), (account_main.build, video_main.build), PORTS[request.param], strict=True
        ):
            # One account check per process, as run_service makes it, but without its
            # background refresh (a thread that would outlive this module's database): each
            # account is read again by the first call after the TTL. The refresh itself is
            # tested in tests/unit/test_account_limits.py.
            active = account_status.ActiveAccounts(
                published_accounts.role_lookup(engine),
                TTL_SEC,
                current_roles=published_accounts.bulk_role_lookup(engine),
                background=False,
            )
            ctx = ServiceContext(
                settings=settings, engine=engine, instance=f"{name}-roles", require_active_account=active.require_active
            )
            server = Server(name, build(ctx), ctx, port)
            server.grpc_server.start()
            servers.append(server)
            channels.append(grpc.insecure_channel(server.address))
        yield Services(
            ctx, account_pb2_grpc.AccountServiceStub(channels[0]), video_pb2_grpc.VideoServiceStub(channels[1])
        )
        for channel in channels:
            channel.close()
        for server in servers:
            server.grpc_server.stop(0).wait()
        engine.dispose()


def _error(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def _refused_within_ttl(call) -> tuple[grpc.RpcError, float]:
    """Calls until refused; the error and the seconds it took."""
    started = time.monotonic()
    while True:
        try:
            call()
        except grpc.RpcError as exc:
            return exc, time.monotonic() - started
        assert time.monotonic() - started < TTL_SEC + 3, "still accepted long after the account check TTL"
        time.sleep(0.05)


def test_a_demoted_sellers_old_token_cannot_create_a_video_within_the_check_interval(services):
    _, admin = services.account("ADMIN")
    seller_id, seller = services.account("SELLER")
    assert services.create_video(seller).seller_id == seller_id
    changed = services.set_role(admin, seller_id, common_pb2.VIEWER)
    assert (changed.account_id, changed.role) == (seller_id, common_pb2.VIEWER)
    assert services.role_in_table(seller_id) == "VIEWER"
    err, after = _refused_within_ttl(lambda: services.create_video(seller))
    assert err.code() is grpc.StatusCode.UNAUTHENTICATED
    assert err.details() == account_status.ROLE_CHANGED
    assert after < TTL_SEC + 3
    # A new log-in carries the new role: a viewer's token, refused by the role check (403).
    token = services.accounts.Login(
        account_pb2.LoginRequest(username=changed.username, password=PASSWORD), timeout=10
    ).access_token
    assert _error(lambda: services.create_video(token)).code() is grpc.StatusCode.PERMISSION_DENIED
    # Promoted back: the viewer token goes stale in turn, a new seller token works.
    services.set_role(admin, seller_id, common_pb2.SELLER)
    err, _ = _refused_within_ttl(
        lambda: services.videos.GetVideo(
            video_pb2.GetVideoRequest(video_id=1), metadata=(("authorization", f"Bearer {token}"),), timeout=10
        )
    )
    assert err.code() is grpc.StatusCode.UNAUTHENTICATED
    again = services.accounts.Login(account_pb2.LoginRequest(username=changed.username, password=PASSWORD))
    assert services.create_video(again.access_token).seller_id == seller_id


def test_setting_the_role_an_account_has_changes_nothing_and_keeps_its_tokens(services):
    _, admin = services.account("ADMIN")
    seller_id, seller = services.account("SELLER")
    assert services.set_role(admin, seller_id, common_pb2.SELLER).role == common_pb2.SELLER
    time.sleep(TTL_SEC * 2)
    assert services.create_video(seller).seller_id == seller_id


@pytest.mark.parametrize("caller_role", ["SELLER", "VIEWER", "INGEST"])
def test_only_an_admin_changes_roles(services, caller_role):
    _, caller = services.account(caller_role)
    target_id, _ = services.account("VIEWER")
    err = _error(lambda: services.set_role(caller, target_id, common_pb2.SELLER))
    assert err.code() is grpc.StatusCode.PERMISSION_DENIED
    assert services.role_in_table(target_id) == "VIEWER"


def test_no_token_is_a_401(services):
    target_id, _ = services.account("VIEWER")
    err = _error(lambda: services.accounts.SetRole(account_pb2.SetRoleRequest(account_id=target_id, role=2)))
    assert err.code() is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("role", [common_pb2.ROLE_UNSPECIFIED, 99, -1])
def test_a_role_that_does_not_exist_is_a_400_naming_role(services, role):
    _, admin = services.account("ADMIN")
    target_id, _ = services.account("VIEWER")
    err = _error(lambda: services.set_role(admin, target_id, role))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT and err.details().startswith("role: must be one of")
    assert services.role_in_table(target_id) == "VIEWER"


def test_an_account_that_does_not_exist_is_a_404_and_a_non_positive_id_a_400(services):
    _, admin = services.account("ADMIN")
    err = _error(lambda: services.set_role(admin, 9_000_000_000_000, common_pb2.SELLER))
    assert err.code() is grpc.StatusCode.NOT_FOUND and err.details() == "account_id: no account 9000000000000"
    err = _error(lambda: services.set_role(admin, 0, common_pb2.SELLER))
    assert err.code() is grpc.StatusCode.INVALID_ARGUMENT and err.details().startswith("account_id:")


@pytest.mark.parametrize("role", [common_pb2.VIEWER, common_pb2.ADMIN])
def test_an_admin_cannot_change_their_own_role(services, role):
    admin_id, admin = services.account("ADMIN")
    err = _error(lambda: services.set_role(admin, admin_id, role))
    assert err.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "cannot change their own role" in err.details()
    assert services.role_in_table(admin_id) == "ADMIN"


def test_an_admin_demotes_another_admin_whose_tokens_then_stop(services):
    _, first = services.account("ADMIN")
    second_id, second = services.account("ADMIN")
    target_id, _ = services.account("VIEWER")
    services.set_role(first, second_id, common_pb2.SELLER)
    err, _ = _refused_within_ttl(lambda: services.set_role(second, target_id, common_pb2.SELLER))
    assert err.code() is grpc.StatusCode.UNAUTHENTICATED
    assert services.role_in_table(target_id) == "VIEWER"


def test_the_last_active_admin_keeps_the_role(tmp_path):
    # The use case on its own database: the rule counts every admin of the table.
    with fresh_database("sqlite", "paysystem_lastadmin_", tmp_path) as url:
        engine = db.make_engine(Settings(data_dir=tmp_path, db_url=url))
        try:
            only = service.create_account(
                service.sql_unit_of_work(engine), "only-admin", PASSWORD, "ADMIN", allowed_roles=("ADMIN",)
            )
            with pytest.raises(LastAdmin, match="last active admin"):
                service.set_role_by_username(service.sql_unit_of_work(engine), "only-admin", "SELLER")
            other = service.create_account(
                service.sql_unit_of_work(engine), "other-admin", PASSWORD, "ADMIN", allowed_roles=("ADMIN",)
            )
            service.disable_account(service.sql_unit_of_work(engine), "other-admin")  # a disabled admin does not count
            with pytest.raises(LastAdmin):
                service.set_role(service.sql_unit_of_work(engine), only.account_id, "VIEWER", actor=None)
            principal = auth.Principal(other.account_id, other.username, "ADMIN")
            with pytest.raises(LastAdmin):
                service.set_role(service.sql_unit_of_work(engine), only.account_id, "VIEWER", actor=principal)
            service.create_account(
                service.sql_unit_of_work(engine), "third-admin", PASSWORD, "ADMIN", allowed_roles=("ADMIN",)
            )
            account, previous = service.set_role_by_username(service.sql_unit_of_work(engine), "only-admin", "SELLER")
            assert (account.role, previous) == ("SELLER", "ADMIN")
            with pytest.raises(NotFound):
                service.set_role_by_username(service.sql_unit_of_work(engine), "nobody", "SELLER")
            with pytest.raises(BadInput):
                service.set_role_by_username(service.sql_unit_of_work(engine), "only-admin", "ROOT")
        finally:
            engine.dispose()
