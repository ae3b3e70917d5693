"""Entry point: `python -m entrypoints.servers.statistics --port N --instance statistics-1`.

Readiness: SERVING while MySQL answers (the check run_service installs). Redis is optional
and deliberately not a readiness check: with Redis down, top-5 lists come from MySQL.
"""

from batch.published import read_data_state
from paysystem.v1 import statistics_pb2, statistics_pb2_grpc
from services.account import published as published_accounts
from services.common.server import ServiceContext, run_service
from services.readpath.readside import build_read_side
from services.statistics.servicer import StatisticsServicer


def build(ctx: ServiceContext):
    servicer = StatisticsServicer(build_read_side(ctx, read_data_state))
    name = statistics_pb2.DESCRIPTOR.services_by_name["StatisticsService"].full_name
    return [(statistics_pb2_grpc.add_StatisticsServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("statistics", build, account_lookups=published_accounts.role_lookups)


if __name__ == "__main__":
    main()
