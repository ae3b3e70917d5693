"""Entry point: `python -m entrypoints.servers.video --port N --instance video-1`."""

from domain.plays import MAX_EVENTS_PER_CALL
from paysystem.v1 import video_pb2, video_pb2_grpc
from services.account import published as published_accounts
from services.common.decoding import FieldCap
from services.common.server import ServiceContext, run_service
from services.video.ingest import too_many_events
from services.video.servicer import VideoServicer

# Envoy's body limit for a batch of playbacks (body_limit in envoy/envoy.yaml.j2), so that
# whatever Envoy forwards reaches the count of events above (a 400 naming the cap) rather than
# grpcio's own size refusal (RESOURCE_EXHAUSTED, a 429 through Envoy). A full 5,000-event call
# of the largest valid events is about 2.9 MB of protobuf; with the events counted first, the
# parse of 16 MiB is bounded (tens of ms: docs/ingest.md, "Two ways in"). Was 32 MiB.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def build(ctx: ServiceContext, *, exact_strategy: str | None = None):
    """exact_strategy: see services.video.repository.exact_strategy (None: the server's own)."""
    servicer = VideoServicer(ctx, exact_strategy=exact_strategy)
    name = video_pb2.DESCRIPTOR.services_by_name["VideoService"].full_name
    # RecordPlaysRequest and ImportPlaysChunk hold only `events`: counted in the raw message,
    # up to the cap, before grpcio parses it (services/common/decoding.py).
    over = f"more than {MAX_EVENTS_PER_CALL}"
    ctx.field_caps[f"/{name}/RecordPlays"] = FieldCap(MAX_EVENTS_PER_CALL, lambda: too_many_events(over))
    ctx.field_caps[f"/{name}/ImportPlays"] = FieldCap(MAX_EVENTS_PER_CALL, lambda: too_many_events(over, chunk=True))
    ctx.max_receive_message_bytes = MAX_MESSAGE_BYTES
    return [(video_pb2_grpc.add_VideoServiceServicer_to_server, servicer, name)]


def main() -> None:
    run_service("video", build, account_lookups=published_accounts.role_lookups)


if __name__ == "__main__":
    main()
