"""Entry point: `python -m services.video.main --port N --instance video-1`."""

from paysystem.v1 import video_pb2, video_pb2_grpc
from services.common.server import ServiceContext, run_service
from services.video.servicer import VideoServicer


def build(ctx: ServiceContext, *, exact_strategy: str | None = None):
    """exact_strategy: see services.video.repository.exact_strategy (None: the server's own)."""
    servicer = VideoServicer(ctx, exact_strategy=exact_strategy)
    name = video_pb2.DESCRIPTOR.services_by_name["VideoService"].full_name
    return [(video_pb2_grpc.add_VideoServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("video", build)


if __name__ == "__main__":
    main()
