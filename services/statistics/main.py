"""Entry point: `python -m services.statistics.main --port N --instance statistics-1`."""

from paysystem.v1 import statistics_pb2, statistics_pb2_grpc
from services.common.server import ServiceContext, run_service


def build(ctx: ServiceContext):
    # Skeleton: the generated base servicer answers UNIMPLEMENTED until the use cases land.
    servicer = statistics_pb2_grpc.StatisticsServiceServicer()
    name = statistics_pb2.DESCRIPTOR.services_by_name["StatisticsService"].full_name
    return [(statistics_pb2_grpc.add_StatisticsServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("statistics", build)


if __name__ == "__main__":
    main()
