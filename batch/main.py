"""Entry point: `python -m batch.main --port N --instance batch-1`."""

from batch.servicer import BatchServicer
from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.common.server import ServiceContext, run_service


def build(ctx: ServiceContext):
    servicer = BatchServicer(ctx)
    name = batch_pb2.DESCRIPTOR.services_by_name["BatchService"].full_name
    return [(batch_pb2_grpc.add_BatchServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("batch", build)


if __name__ == "__main__":
    main()
