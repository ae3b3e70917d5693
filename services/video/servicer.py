"""gRPC adapter: VideoService messages <-> the video use cases."""

from __future__ import annotations

from domain.plays import Outcome, PlayEvent, PlayResult
from paysystem.v1 import video_pb2, video_pb2_grpc
from services.common.auth import current_principal
from services.common.breakers import redis_breaker
from services.common.proto_time import timestamp
from services.common.server import ServiceContext
from services.readpath.cache import make_redis
from services.video import service
from services.video.ingest import Ingest, require_events_within_limit, sql_play_log
from services.video.ports import UnitOfWork
from services.video.realtime import IngestCounter, RedisRealtime, sellers_of
from services.video.streams import StreamLimits

STORED, DUPLICATE = Outcome.STORED, Outcome.DUPLICATE

# Rejections listed in one ImportPlays answer (the counts are always exact).
MAX_LISTED_REJECTIONS = 10_000


def play_events(messages) -> list[PlayEvent]:
    """PlayEvent tuples of PlayEvent messages (one loop, names bound once: 5,000 a call)."""
    out: list[PlayEvent] = []
    append = out.append
    new = tuple.__new__
    for m in messages:
        if m.HasField("started_at"):
            started = m.started_at
            # Finer than a microsecond is dropped (instants are stored in microseconds).
            at = started.seconds * 1_000_000 + started.nanos // 1000
        else:
            at = None
        append(new(PlayEvent, (m.event_id, m.video_id, m.viewer_id, at, m.start_position_sec, m.end_position_sec)))
    return out


def _add_results(
    results: list[PlayResult], container, *, rejected_only: bool = False, limit: int = -1
) -> tuple[int, int, int]:
    """Appends PlayResult messages to a repeated field (all of them, or only the rejected
    ones up to `limit` more); returns the (stored, duplicates, rejected) counts."""
    add = container.add
    stored = duplicates = rejected = 0
    for event_id, outcome, reason in results:
        if outcome is STORED:
            stored += 1
            if not rejected_only:
                add(event_id=event_id, outcome=1)
        elif outcome is DUPLICATE:
            duplicates += 1
            if not rejected_only:
                add(event_id=event_id, outcome=2)
        else:
            rejected += 1
            if not rejected_only or rejected <= limit:
                add(event_id=event_id, outcome=int(outcome), reason=reason)
    return stored, duplicates, rejected


def _has_events(chunk: video_pb2.ImportPlaysChunk) -> bool:
    return len(chunk.events) > 0


def _video_message(video: service.Video) -> video_pb2.Video:
    return video_pb2.Video(
        video_id=video.video_id,
        seller_id=video.seller_id,
        title=video.title,
        duration_sec=video.duration_sec,
        created_at=timestamp(video.created_at_us),
    )


def _realtime_counter(ctx: ServiceContext) -> IngestCounter | None:
    """The realtime estimate's count at ingest, in Redis when configured; without Redis the
    estimate is read from the play history and nothing is counted here."""
    # Longer socket timeouts than the read cache's 100 ms: a big ingest call's counts take a
    # few tens of ms (one script call per seller), and waiting costs no reader anything. A
    # Redis that refuses connections still fails at once; three failures open the breaker.
    client = make_redis(ctx.settings.redis_url, socket_timeout=0.5)
    if client is None:
        return None
    breaker = redis_breaker("redis-realtime")
    breaker.probe_when_open(client.ping)
    return IngestCounter(RedisRealtime(client, breaker), sellers_of(ctx.engine))


class VideoServicer(video_pb2_grpc.VideoServiceServicer):
    def __init__(self, ctx: ServiceContext, *, exact_strategy: str | None = None) -> None:
        self._ctx = ctx
        self._engine = ctx.engine
        self._clock = ctx.clock
        settings = ctx.settings
        self._ingest = Ingest(
            sql_play_log(ctx.engine, exact_strategy=exact_strategy),
            settings.zone,
            viewer_late_window_sec=settings.viewer_late_window_sec,
            clock=ctx.clock,
            on_stored=_realtime_counter(ctx),
        )
        self._import_limits = StreamLimits(
            "ImportPlays",
            max_streams=settings.import_streams_max,
            idle_sec=settings.import_idle_sec,
            max_sec=settings.import_max_sec,
        )

    def _uow(self) -> UnitOfWork:
        """A new SQL unit of work: one per call (calls run on many threads at once)."""
        return service.sql_unit_of_work(self._engine)

    def CreateVideo(self, request, context):
        video = service.create_video(
            self._uow(), current_principal(), request.title, request.duration_sec, clock=self._clock
        )
        return _video_message(video)

    def GetVideo(self, request, context):
        return _video_message(service.get_video(self._uow(), current_principal(), request.video_id))

    def ListSellerVideos(self, request, context):
        page = service.list_seller_videos(
            self._uow(), current_principal(), request.seller_id, request.page_size, request.page_token
        )
        return video_pb2.ListSellerVideosResponse(
            videos=[_video_message(v) for v in page.videos], next_page_token=page.next_page_token
        )

    def RecordPlays(self, request, context):
        # The gRPC path counted the raw message before parsing it (services/common/decoding.py,
        # wired in entrypoints/servers/video.py); this check stays for a servicer called without that interceptor.
        require_events_within_limit(len(request.events))
        results = self._ingest.record_plays(current_principal(), play_events(request.events))
        response = video_pb2.RecordPlaysResponse()
        response.stored, response.duplicates, response.rejected = _add_results(results, response.results)
        return response

    def ImportPlays(self, request_iterator, context):
        with self._import_limits.admit(context) as watch:
            return self._import(watch.messages(request_iterator, progress=_has_events))

    def _import(self, chunks) -> video_pb2.ImportPlaysResponse:
        response = video_pb2.ImportPlaysResponse()
        batches = (play_events(chunk.events) for chunk in chunks)
        for results in self._ingest.import_plays(current_principal(), batches):
            stored, duplicates, rejected = _add_results(
                results,
                response.rejections,
                rejected_only=True,
                limit=MAX_LISTED_REJECTIONS - len(response.rejections),
            )
            response.received += len(results)
            response.stored += stored
            response.duplicates += duplicates
            response.rejected += rejected
        return response

    def GetResumePosition(self, request, context):
        resume = service.get_resume_position(self._uow(), current_principal(), request.video_id)
        message = video_pb2.ResumePosition(
            video_id=resume.video_id, viewer_id=resume.viewer_id, position_sec=resume.position_sec
        )
        if resume.updated_at_us is not None:
            message.updated_at.CopyFrom(timestamp(resume.updated_at_us))
        return message
