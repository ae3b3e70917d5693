"""Entry point: `python -m entrypoints.servers.account --port N --instance account-1`."""

from paysystem.v1 import account_pb2, account_pb2_grpc, audit_pb2, audit_pb2_grpc
from services.account import published as published_accounts
from services.account.servicer import AccountServicer
from services.account.throttle import make_throttle
from services.audit.servicer import AuditServicer
from services.common import auth
from services.common.server import ServiceContext, run_service
from services.readpath.cache import make_redis


def build(ctx: ServiceContext):
    settings = ctx.settings
    throttle = make_throttle(
        make_redis(settings.redis_url),
        max_failures=settings.login_max_failures,
        window_sec=settings.login_failure_window_sec,
    )
    servicer = AccountServicer(ctx, auth.load_private_key(settings.keys_dir), throttle)
    name = account_pb2.DESCRIPTOR.services_by_name["AccountService"].full_name
    # The audit log's reads are served here too (entrypoints/launcher/topology.py says why).
    audit_name = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name
    return [
        (account_pb2_grpc.add_AccountServiceServicer_to_server, servicer, name),
        (audit_pb2_grpc.add_AuditServiceServicer_to_server, AuditServicer(ctx), audit_name),
    ]


def main() -> None:
    run_service("account", build, account_lookups=published_accounts.role_lookups)


if __name__ == "__main__":
    main()
