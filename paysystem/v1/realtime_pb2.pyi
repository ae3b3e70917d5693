import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetSellerRealtimeRequest(_message.Message):
    __slots__ = ("seller_id",)
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    def __init__(self, seller_id: _Optional[int] = ...) -> None: ...

class GetVideoRealtimeRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    def __init__(self, video_id: _Optional[int] = ...) -> None: ...

class WatchRealtimeRequest(_message.Message):
    __slots__ = ("seller_id",)
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    def __init__(self, seller_id: _Optional[int] = ...) -> None: ...

class RealtimePoint(_message.Message):
    __slots__ = ("start", "playbacks")
    START_FIELD_NUMBER: _ClassVar[int]
    PLAYBACKS_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    playbacks: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., playbacks: _Optional[int] = ...) -> None: ...

class Realtime(_message.Message):
    __slots__ = ("seller_id", "minutes", "hours", "estimated", "as_of")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    minutes: _containers.RepeatedCompositeFieldContainer[RealtimePoint]
    hours: _containers.RepeatedCompositeFieldContainer[RealtimePoint]
    estimated: bool
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, seller_id: _Optional[int] = ..., minutes: _Optional[_Iterable[_Union[RealtimePoint, _Mapping]]] = ..., hours: _Optional[_Iterable[_Union[RealtimePoint, _Mapping]]] = ..., estimated: _Optional[bool] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
