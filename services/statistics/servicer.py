"""gRPC adapter: StatisticsService messages <-> the statistics use cases."""

from __future__ import annotations

import threading
import time

from domain import realtime as rt
from domain.money import to_api_string
from paysystem.v1 import common_pb2, realtime_pb2, statistics_pb2, statistics_pb2_grpc
from services.common.auth import current_principal
from services.common.proto_time import timestamp
from services.readpath.readside import ReadSide, enum_name
from services.statistics import realtime, retention, service


def _day(value) -> str:
    return value.isoformat() if value else ""


class StatisticsServicer(statistics_pb2_grpc.StatisticsServiceServicer):
    def __init__(self, read: ReadSide) -> None:
        self._read = read
        self._counts = realtime.StoredCounts(read)
        self._streams = realtime.StreamSlots()

    def GetSellerRealtime(self, request, context):
        figures = realtime.seller_realtime(self._read, self._counts, current_principal(), request.seller_id)
        return _realtime(figures, request.seller_id)

    def GetVideoRealtime(self, request, context):
        figures, seller_id = realtime.video_realtime(self._read, self._counts, current_principal(), request.video_id)
        return _realtime(figures, seller_id)

    def WatchRealtime(self, request, context):
        principal = current_principal()
        with self._streams.admit(principal):
            wait = _stream_waiter(context)
            for figures in realtime.watch_seller(self._read, self._counts, principal, request.seller_id, wait=wait):
                yield _realtime(figures, request.seller_id)

    def Ping(self, request, context):
        current_principal()  # the interceptors have checked the token and its account
        return statistics_pb2.PingResponse()

    def GetTopVideos(self, request, context):
        # The serialized message, as cached: returned as it is (handlers.accept_serialized).
        planned = service.plan_top_videos(
            self._read,
            current_principal(),
            request.seller_id,
            enum_name(common_pb2.Period, request.period),
            request.date,
            enum_name(statistics_pb2.Metric, request.metric),
        )
        return self._read.cached(
            planned, "top5", lambda: _render_top(service.get_top_videos(self._read, planned)), name="top5"
        )

    def GetVideoStats(self, request, context):
        series = service.get_video_stats(
            self._read,
            current_principal(),
            request.video_id,
            enum_name(common_pb2.Period, request.period),
            getattr(request, "from"),
            request.to,
            request.compare,
        )
        return statistics_pb2.VideoStatsSeries(
            video_id=series.video_id,
            period=series.period.value,
            points=[_point(p) for p in series.points],
            data_through=_day(series.data_through),
            totals=_point(series.totals),
            comparison=_comparison(series.comparison),
        )

    def GetVideoRetention(self, request, context):
        figures = retention.get_video_retention(
            self._read, current_principal(), request.video_id, getattr(request, "from"), request.to
        )
        return statistics_pb2.VideoRetention(
            video_id=figures.video_id,
            to=figures.last.isoformat(),
            views=figures.views,
            points=figures.points,
            data_through=_day(figures.data_through),
            **{"from": figures.first.isoformat()},
        )

    def GetSellerStats(self, request, context):
        # The serialized message, as cached: returned as it is (handlers.accept_serialized).
        planned = service.plan_seller_stats(
            self._read,
            current_principal(),
            request.seller_id,
            enum_name(common_pb2.Period, request.period),
            getattr(request, "from"),
            request.to,
            request.compare,
        )
        return self._read.cached(
            planned,
            "sstats",
            lambda: _render_seller_series(service.get_seller_stats(self._read, planned)),
            name="seller_stats",
        )


def _point(p: service.StatsPoint) -> statistics_pb2.StatsPoint:
    return statistics_pb2.StatsPoint(
        period_start=_day(p.period_start),
        period_end=_day(p.period_end),
        views=p.views,
        watch_time_sec=p.watch_time_sec,
        ad_views=p.ad_views,
        video_revenue=to_api_string(p.video_revenue),
        ad_revenue=to_api_string(p.ad_revenue),
        plays=p.plays,
        excluded_self_view=p.excluded_self_view,
        excluded_overlap=p.excluded_overlap,
        excluded_repeat=p.excluded_repeat,
        excluded_cap=p.excluded_cap,
        excluded_stream_limit=p.excluded_stream_limit,
        rpm=_decimal(p.rpm),
    )


def _decimal(value) -> str:
    """A count as its integer text, an amount or RPM as an exact decimal string, None as ""."""
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else to_api_string(value)


def _comparison(compared: service.SeriesComparison | None) -> statistics_pb2.SeriesComparison | None:
    if compared is None:
        return None
    return statistics_pb2.SeriesComparison(
        compare=compared.comparison.value,
        points=[_point(p) for p in compared.points],
        totals=_point(compared.totals),
        changes=[
            statistics_pb2.FigureChange(figure=name, absolute=_decimal(c.absolute), percent=c.percent)
            for name, c in compared.changes.items()
        ],
    )


def _render_seller_series(series: service.SellerStatsSeries) -> bytes:
    return statistics_pb2.SellerStatsSeries(
        seller_id=series.seller_id,
        period=series.period.value,
        points=[_point(p) for p in series.points],
        data_through=_day(series.data_through),
        totals=_point(series.totals),
        comparison=_comparison(series.comparison),
    ).SerializeToString()


def _render_top(top: service.TopVideos) -> bytes:
    return statistics_pb2.TopVideos(
        seller_id=top.seller_id,
        period=top.period.value,
        metric=top.metric,
        period_start=_day(top.period_start),
        period_end=_day(top.period_end),
        videos=[
            statistics_pb2.TopVideo(
                rank=v.rank, video_id=v.video_id, title=v.title, views=v.views, watch_time_sec=v.watch_time_sec
            )
            for v in top.videos
        ],
        data_through=_day(top.data_through),
    ).SerializeToString()


def _realtime(figures: rt.Realtime, seller_id: int) -> realtime_pb2.Realtime:
    return realtime_pb2.Realtime(
        seller_id=seller_id,
        minutes=[
            realtime_pb2.RealtimePoint(start=timestamp(p.start_us), playbacks=p.playbacks) for p in figures.minutes
        ],
        hours=[realtime_pb2.RealtimePoint(start=timestamp(p.start_us), playbacks=p.playbacks) for p in figures.hours],
        estimated=True,
        as_of=timestamp(figures.now_us),
    )


def _stream_waiter(context) -> realtime.Waiter:
    """A stream's wait (realtime.Waiter): sleeps unless the client has gone (woken at once by
    the call's end) and says to stop before the client's deadline, or after MAX_STREAM_SEC
    without one, so that the stream ends with OK and its last figures rather than an error."""
    gone = threading.Event()
    context.add_callback(gone.set)
    ends = time.monotonic() + realtime.MAX_STREAM_SEC
    remaining = context.time_remaining()
    if remaining is not None:
        ends = min(ends, time.monotonic() + remaining - realtime.DEADLINE_MARGIN_SEC)

    def wait(seconds: float) -> bool:
        if time.monotonic() + seconds >= ends:
            gone.wait(max(0.0, ends - time.monotonic()))
            return False
        return not gone.wait(seconds) and context.is_active()

    return wait
