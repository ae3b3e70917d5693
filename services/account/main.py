"""Entry point: `python -m services.account.main --port N --instance account-1`."""

from paysystem.v1 import account_pb2, account_pb2_grpc
from services.account.servicer import AccountServicer
from services.common import auth
from services.common.server import ServiceContext, run_service


def build(ctx: ServiceContext):
    servicer = AccountServicer(ctx, auth.load_private_key(ctx.settings.keys_dir))
    name = account_pb2.DESCRIPTOR.services_by_name["AccountService"].full_name
    return [(account_pb2_grpc.add_AccountServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("account", build)


if __name__ == "__main__":
    main()
