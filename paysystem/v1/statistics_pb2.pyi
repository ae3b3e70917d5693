from google.api import annotations_pb2 as _annotations_pb2
from paysystem.v1 import common_pb2 as _common_pb2
from paysystem.v1 import realtime_pb2 as _realtime_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    VIEWS: _ClassVar[Metric]
    WATCH_TIME: _ClassVar[Metric]
METRIC_UNSPECIFIED: Metric
VIEWS: Metric
WATCH_TIME: Metric

class PingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PingResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetTopVideosRequest(_message.Message):
    __slots__ = ("seller_id", "period", "date", "metric")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    period: _common_pb2.Period
    date: str
    metric: Metric
    def __init__(self, seller_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., date: _Optional[str] = ..., metric: _Optional[_Union[Metric, str]] = ...) -> None: ...

class TopVideo(_message.Message):
    __slots__ = ("rank", "video_id", "title", "views", "watch_time_sec")
    RANK_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    WATCH_TIME_SEC_FIELD_NUMBER: _ClassVar[int]
    rank: int
    video_id: int
    title: str
    views: int
    watch_time_sec: int
    def __init__(self, rank: _Optional[int] = ..., video_id: _Optional[int] = ..., title: _Optional[str] = ..., views: _Optional[int] = ..., watch_time_sec: _Optional[int] = ...) -> None: ...

class TopVideos(_message.Message):
    __slots__ = ("seller_id", "period", "metric", "period_start", "period_end", "videos", "data_through")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    VIDEOS_FIELD_NUMBER: _ClassVar[int]
    DATA_THROUGH_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    period: _common_pb2.Period
    metric: Metric
    period_start: str
    period_end: str
    videos: _containers.RepeatedCompositeFieldContainer[TopVideo]
    data_through: str
    def __init__(self, seller_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., metric: _Optional[_Union[Metric, str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., videos: _Optional[_Iterable[_Union[TopVideo, _Mapping]]] = ..., data_through: _Optional[str] = ...) -> None: ...

class GetVideoStatsRequest(_message.Message):
    __slots__ = ("video_id", "period", "to", "compare")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    COMPARE_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    period: _common_pb2.Period
    to: str
    compare: str
    def __init__(self, video_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., to: _Optional[str] = ..., compare: _Optional[str] = ..., **kwargs) -> None: ...

class StatsPoint(_message.Message):
    __slots__ = ("period_start", "period_end", "views", "watch_time_sec", "ad_views", "video_revenue", "ad_revenue", "plays", "excluded_self_view", "excluded_overlap", "excluded_repeat", "excluded_cap", "excluded_stream_limit", "rpm")
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    WATCH_TIME_SEC_FIELD_NUMBER: _ClassVar[int]
    AD_VIEWS_FIELD_NUMBER: _ClassVar[int]
    VIDEO_REVENUE_FIELD_NUMBER: _ClassVar[int]
    AD_REVENUE_FIELD_NUMBER: _ClassVar[int]
    PLAYS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_SELF_VIEW_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_OVERLAP_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_REPEAT_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_CAP_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_STREAM_LIMIT_FIELD_NUMBER: _ClassVar[int]
    RPM_FIELD_NUMBER: _ClassVar[int]
    period_start: str
    period_end: str
    views: int
    watch_time_sec: int
    ad_views: int
    video_revenue: str
    ad_revenue: str
    plays: int
    excluded_self_view: int
    excluded_overlap: int
    excluded_repeat: int
    excluded_cap: int
    excluded_stream_limit: int
    rpm: str
    def __init__(self, period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., views: _Optional[int] = ..., watch_time_sec: _Optional[int] = ..., ad_views: _Optional[int] = ..., video_revenue: _Optional[str] = ..., ad_revenue: _Optional[str] = ..., plays: _Optional[int] = ..., excluded_self_view: _Optional[int] = ..., excluded_overlap: _Optional[int] = ..., excluded_repeat: _Optional[int] = ..., excluded_cap: _Optional[int] = ..., excluded_stream_limit: _Optional[int] = ..., rpm: _Optional[str] = ...) -> None: ...

class FigureChange(_message.Message):
    __slots__ = ("figure", "absolute", "percent")
    FIGURE_FIELD_NUMBER: _ClassVar[int]
    ABSOLUTE_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    figure: str
    absolute: str
    percent: str
    def __init__(self, figure: _Optional[str] = ..., absolute: _Optional[str] = ..., percent: _Optional[str] = ...) -> None: ...

class SeriesComparison(_message.Message):
    __slots__ = ("compare", "points", "totals", "changes")
    COMPARE_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    compare: str
    points: _containers.RepeatedCompositeFieldContainer[StatsPoint]
    totals: StatsPoint
    changes: _containers.RepeatedCompositeFieldContainer[FigureChange]
    def __init__(self, compare: _Optional[str] = ..., points: _Optional[_Iterable[_Union[StatsPoint, _Mapping]]] = ..., totals: _Optional[_Union[StatsPoint, _Mapping]] = ..., changes: _Optional[_Iterable[_Union[FigureChange, _Mapping]]] = ...) -> None: ...

class GetSellerStatsRequest(_message.Message):
    __slots__ = ("seller_id", "period", "to", "compare")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    COMPARE_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    period: _common_pb2.Period
    to: str
    compare: str
    def __init__(self, seller_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., to: _Optional[str] = ..., compare: _Optional[str] = ..., **kwargs) -> None: ...

class VideoStatsSeries(_message.Message):
    __slots__ = ("video_id", "period", "points", "data_through", "totals", "comparison")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    DATA_THROUGH_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    period: _common_pb2.Period
    points: _containers.RepeatedCompositeFieldContainer[StatsPoint]
    data_through: str
    totals: StatsPoint
    comparison: SeriesComparison
    def __init__(self, video_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., points: _Optional[_Iterable[_Union[StatsPoint, _Mapping]]] = ..., data_through: _Optional[str] = ..., totals: _Optional[_Union[StatsPoint, _Mapping]] = ..., comparison: _Optional[_Union[SeriesComparison, _Mapping]] = ...) -> None: ...

class SellerStatsSeries(_message.Message):
    __slots__ = ("seller_id", "period", "points", "data_through", "totals", "comparison")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    DATA_THROUGH_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    period: _common_pb2.Period
    points: _containers.RepeatedCompositeFieldContainer[StatsPoint]
    data_through: str
    totals: StatsPoint
    comparison: SeriesComparison
    def __init__(self, seller_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., points: _Optional[_Iterable[_Union[StatsPoint, _Mapping]]] = ..., data_through: _Optional[str] = ..., totals: _Optional[_Union[StatsPoint, _Mapping]] = ..., comparison: _Optional[_Union[SeriesComparison, _Mapping]] = ...) -> None: ...

class GetVideoRetentionRequest(_message.Message):
    __slots__ = ("video_id", "to")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    to: str
    def __init__(self, video_id: _Optional[int] = ..., to: _Optional[str] = ..., **kwargs) -> None: ...

class VideoRetention(_message.Message):
    __slots__ = ("video_id", "to", "views", "points", "data_through")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    DATA_THROUGH_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    to: str
    views: int
    points: _containers.RepeatedScalarFieldContainer[int]
    data_through: str
    def __init__(self, video_id: _Optional[int] = ..., to: _Optional[str] = ..., views: _Optional[int] = ..., points: _Optional[_Iterable[int]] = ..., data_through: _Optional[str] = ..., **kwargs) -> None: ...
