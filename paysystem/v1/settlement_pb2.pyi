from google.api import annotations_pb2 as _annotations_pb2
from paysystem.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatementRequest(_message.Message):
    __slots__ = ("seller_id", "period", "date")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    period: _common_pb2.Period
    date: str
    def __init__(self, seller_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., date: _Optional[str] = ...) -> None: ...

class StatementLine(_message.Message):
    __slots__ = ("video_id", "title", "views", "ad_views", "video_revenue", "ad_revenue", "amount")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VIEWS_FIELD_NUMBER: _ClassVar[int]
    AD_VIEWS_FIELD_NUMBER: _ClassVar[int]
    VIDEO_REVENUE_FIELD_NUMBER: _ClassVar[int]
    AD_REVENUE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    video_id: int
    title: str
    views: int
    ad_views: int
    video_revenue: str
    ad_revenue: str
    amount: str
    def __init__(self, video_id: _Optional[int] = ..., title: _Optional[str] = ..., views: _Optional[int] = ..., ad_views: _Optional[int] = ..., video_revenue: _Optional[str] = ..., ad_revenue: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class Statement(_message.Message):
    __slots__ = ("seller_id", "period", "period_start", "period_end", "video_revenue", "ad_revenue", "total", "payable_krw", "lines", "data_through", "currency")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    VIDEO_REVENUE_FIELD_NUMBER: _ClassVar[int]
    AD_REVENUE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAYABLE_KRW_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    DATA_THROUGH_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    period: _common_pb2.Period
    period_start: str
    period_end: str
    video_revenue: str
    ad_revenue: str
    total: str
    payable_krw: int
    lines: _containers.RepeatedCompositeFieldContainer[StatementLine]
    data_through: str
    currency: str
    def __init__(self, seller_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., video_revenue: _Optional[str] = ..., ad_revenue: _Optional[str] = ..., total: _Optional[str] = ..., payable_krw: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[StatementLine, _Mapping]]] = ..., data_through: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...
