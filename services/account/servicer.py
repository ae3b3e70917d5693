"""gRPC adapter: AccountService messages <-> the account use cases."""

from __future__ import annotations

from paysystem.v1 import account_pb2, account_pb2_grpc, common_pb2
from services.account import service
from services.account.ports import UnitOfWork
from services.account.throttle import LoginThrottle
from services.common.auth import current_principal
from services.common.proto_time import timestamp
from services.common.server import ServiceContext


def _role_name(value: int) -> str:
    """The role's name; a number the enum lacks gets a name no role check accepts (a 400)."""
    try:
        return common_pb2.Role.Name(value)
    except ValueError:
        return f"UNKNOWN_{value}"


def _account_message(account: service.Account) -> account_pb2.Account:
    return account_pb2.Account(
        account_id=account.account_id,
        username=account.username,
        role=account.role,
        created_at=timestamp(account.created_at_us),
    )


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    def __init__(self, ctx: ServiceContext, private_key: bytes, throttle: LoginThrottle | None = None) -> None:
        self._ctx = ctx
        self._private_key = private_key
        self._throttle = throttle

    def _uow(self) -> UnitOfWork:
        """A new SQL unit of work: one per call (calls run on many threads at once)."""
        return service.sql_unit_of_work(self._ctx.engine)

    def SignUp(self, request, context):
        account = service.create_account(
            self._uow(),
            request.username,
            request.password,
            _role_name(request.role),
            clock=self._ctx.clock,
        )
        return _account_message(account)

    def Login(self, request, context):
        settings = self._ctx.settings
        issued = service.log_in(
            self._uow(),
            request.username,
            request.password,
            private_key=self._private_key,
            issuer=settings.jwt_issuer,
            ttl_sec=settings.token_ttl_sec,
            throttle=self._throttle,
        )
        return account_pb2.AccessToken(
            access_token=issued.access_token,
            expires_in=issued.expires_in,
            token_type="Bearer",
            account_id=issued.account.account_id,
            role=issued.account.role,
        )

    def SetRole(self, request, context):
        account, _ = service.set_role(
            self._uow(),
            request.account_id,
            _role_name(request.role),
            actor=current_principal(),
            clock=self._ctx.clock,
        )
        return _account_message(account)

    def GetAccount(self, request, context):
        return _account_message(service.read_account(self._uow(), request.account_id, reader=current_principal()))
