"""Entry point: `python -m batch.main --port N --instance batch-1`."""

from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.common.server import ServiceContext, run_service


def build(ctx: ServiceContext):
    # Skeleton: the generated base servicer answers UNIMPLEMENTED until the job runner lands.
    servicer = batch_pb2_grpc.BatchServiceServicer()
    name = batch_pb2.DESCRIPTOR.services_by_name["BatchService"].full_name
    return [(batch_pb2_grpc.add_BatchServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("batch", build)


if __name__ == "__main__":
    main()
