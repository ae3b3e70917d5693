"""Entry point: `python -m services.settlement.main --port N --instance settlement-1`."""

from paysystem.v1 import settlement_pb2, settlement_pb2_grpc
from services.common.server import ServiceContext, run_service


def build(ctx: ServiceContext):
    # Skeleton: the generated base servicer answers UNIMPLEMENTED until the use cases land.
    servicer = settlement_pb2_grpc.SettlementServiceServicer()
    name = settlement_pb2.DESCRIPTOR.services_by_name["SettlementService"].full_name
    return [(settlement_pb2_grpc.add_SettlementServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("settlement", build)


if __name__ == "__main__":
    main()
