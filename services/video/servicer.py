"""gRPC adapter: VideoService messages <-> the video use cases."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from paysystem.v1 import video_pb2, video_pb2_grpc
from services.common.auth import current_principal
from services.common.server import ServiceContext
from services.video import service
from services.video.ingest import Ingest
from services.video.plays import Outcome, PlayEvent, PlayResult

# Rejections listed in one ImportPlays answer (the counts are always exact).
MAX_LISTED_REJECTIONS = 10_000


def _timestamp(us: int) -> Timestamp:
    ts = Timestamp()
    ts.FromMicroseconds(us)
    return ts


def _event(message: video_pb2.PlayEvent) -> PlayEvent:
    started = message.started_at
    return PlayEvent(
        event_id=message.event_id,
        video_id=message.video_id,
        viewer_id=message.viewer_id,
        # Finer than a microsecond is dropped (instants are stored in microseconds).
        started_at_us=started.seconds * 1_000_000 + started.nanos // 1000 if message.HasField("started_at") else None,
        start_position_sec=message.start_position_sec,
        end_position_sec=message.end_position_sec,
    )


def _result_message(result: PlayResult) -> video_pb2.PlayResult:
    return video_pb2.PlayResult(event_id=result.event_id, outcome=int(result.outcome), reason=result.reason)


def _video_message(video: service.Video) -> video_pb2.Video:
    return video_pb2.Video(
        video_id=video.video_id,
        seller_id=video.seller_id,
        title=video.title,
        duration_sec=video.duration_sec,
        created_at=_timestamp(video.created_at_us),
    )


class VideoServicer(video_pb2_grpc.VideoServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._engine = ctx.engine
        self._ingest = Ingest(ctx.engine, ctx.settings.zone)

    def CreateVideo(self, request, context):
        video = service.create_video(self._engine, current_principal(), request.title, request.duration_sec)
        return _video_message(video)

    def GetVideo(self, request, context):
        return _video_message(service.get_video(self._engine, current_principal(), request.video_id))

    def ListSellerVideos(self, request, context):
        page = service.list_seller_videos(
            self._engine, current_principal(), request.seller_id, request.page_size, request.page_token
        )
        return video_pb2.ListSellerVideosResponse(
            videos=[_video_message(v) for v in page.videos], next_page_token=page.next_page_token
        )

    def RecordPlays(self, request, context):
        results = self._ingest.record_plays(current_principal(), [_event(e) for e in request.events])
        response = video_pb2.RecordPlaysResponse(results=[_result_message(r) for r in results])
        for r in results:
            if r.outcome is Outcome.STORED:
                response.stored += 1
            elif r.outcome is Outcome.DUPLICATE:
                response.duplicates += 1
            else:
                response.rejected += 1
        return response

    def ImportPlays(self, request_iterator, context):
        response = video_pb2.ImportPlaysResponse()
        events = (_event(e) for e in request_iterator)
        for results in self._ingest.import_plays(current_principal(), events):
            response.received += len(results)
            for r in results:
                if r.outcome is Outcome.STORED:
                    response.stored += 1
                elif r.outcome is Outcome.DUPLICATE:
                    response.duplicates += 1
                else:
                    response.rejected += 1
                    if len(response.rejections) < MAX_LISTED_REJECTIONS:
                        response.rejections.append(_result_message(r))
        return response

    def GetResumePosition(self, request, context):
        resume = service.get_resume_position(self._engine, current_principal(), request.video_id)
        message = video_pb2.ResumePosition(
            video_id=resume.video_id, viewer_id=resume.viewer_id, position_sec=resume.position_sec
        )
        if resume.updated_at_us is not None:
            message.updated_at.CopyFrom(_timestamp(resume.updated_at_us))
        return message
