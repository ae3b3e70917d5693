import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PlayOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAY_OUTCOME_UNSPECIFIED: _ClassVar[PlayOutcome]
    STORED: _ClassVar[PlayOutcome]
    DUPLICATE: _ClassVar[PlayOutcome]
    REJECTED: _ClassVar[PlayOutcome]
PLAY_OUTCOME_UNSPECIFIED: PlayOutcome
STORED: PlayOutcome
DUPLICATE: PlayOutcome
REJECTED: PlayOutcome

class Video(_message.Message):
    __slots__ = ("video_id", "seller_id", "title", "duration_sec", "created_at")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DURATION_SEC_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    seller_id: int
    title: str
    duration_sec: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, video_id: _Optional[int] = ..., seller_id: _Optional[int] = ..., title: _Optional[str] = ..., duration_sec: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateVideoRequest(_message.Message):
    __slots__ = ("title", "duration_sec")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DURATION_SEC_FIELD_NUMBER: _ClassVar[int]
    title: str
    duration_sec: int
    def __init__(self, title: _Optional[str] = ..., duration_sec: _Optional[int] = ...) -> None: ...

class GetVideoRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    def __init__(self, video_id: _Optional[int] = ...) -> None: ...

class ListSellerVideosRequest(_message.Message):
    __slots__ = ("seller_id", "page_size", "page_token")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    page_size: int
    page_token: str
    def __init__(self, seller_id: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSellerVideosResponse(_message.Message):
    __slots__ = ("videos", "next_page_token")
    VIDEOS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    videos: _containers.RepeatedCompositeFieldContainer[Video]
    next_page_token: str
    def __init__(self, videos: _Optional[_Iterable[_Union[Video, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PlayEvent(_message.Message):
    __slots__ = ("event_id", "video_id", "viewer_id", "started_at", "start_position_sec", "end_position_sec")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    START_POSITION_SEC_FIELD_NUMBER: _ClassVar[int]
    END_POSITION_SEC_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    video_id: int
    viewer_id: int
    started_at: _timestamp_pb2.Timestamp
    start_position_sec: int
    end_position_sec: int
    def __init__(self, event_id: _Optional[str] = ..., video_id: _Optional[int] = ..., viewer_id: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_position_sec: _Optional[int] = ..., end_position_sec: _Optional[int] = ...) -> None: ...

class RecordPlaysRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[PlayEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[PlayEvent, _Mapping]]] = ...) -> None: ...

class PlayResult(_message.Message):
    __slots__ = ("event_id", "outcome", "reason")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    outcome: PlayOutcome
    reason: str
    def __init__(self, event_id: _Optional[str] = ..., outcome: _Optional[_Union[PlayOutcome, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class RecordPlaysResponse(_message.Message):
    __slots__ = ("results", "stored", "duplicates", "rejected")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[PlayResult]
    stored: int
    duplicates: int
    rejected: int
    def __init__(self, results: _Optional[_Iterable[_Union[PlayResult, _Mapping]]] = ..., stored: _Optional[int] = ..., duplicates: _Optional[int] = ..., rejected: _Optional[int] = ...) -> None: ...

class ImportPlaysChunk(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[PlayEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[PlayEvent, _Mapping]]] = ...) -> None: ...

class ImportPlaysResponse(_message.Message):
    __slots__ = ("received", "stored", "duplicates", "rejected", "rejections")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    received: int
    stored: int
    duplicates: int
    rejected: int
    rejections: _containers.RepeatedCompositeFieldContainer[PlayResult]
    def __init__(self, received: _Optional[int] = ..., stored: _Optional[int] = ..., duplicates: _Optional[int] = ..., rejected: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[PlayResult, _Mapping]]] = ...) -> None: ...

class GetResumePositionRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    def __init__(self, video_id: _Optional[int] = ...) -> None: ...

class ResumePosition(_message.Message):
    __slots__ = ("video_id", "viewer_id", "position_sec", "updated_at")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_SEC_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    viewer_id: int
    position_sec: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, video_id: _Optional[int] = ..., viewer_id: _Optional[int] = ..., position_sec: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
