import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from paysystem.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StatementStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATEMENT_STATUS_UNSPECIFIED: _ClassVar[StatementStatus]
    OPEN: _ClassVar[StatementStatus]
    CLOSED: _ClassVar[StatementStatus]

class LedgerEntryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEDGER_ENTRY_KIND_UNSPECIFIED: _ClassVar[LedgerEntryKind]
    EARNING: _ClassVar[LedgerEntryKind]
    ADJUSTMENT: _ClassVar[LedgerEntryKind]
    PAYOUT: _ClassVar[LedgerEntryKind]
    PAYOUT_REVERSAL: _ClassVar[LedgerEntryKind]

class PayoutStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYOUT_STATUS_UNSPECIFIED: _ClassVar[PayoutStatus]
    PENDING: _ClassVar[PayoutStatus]
    PAID: _ClassVar[PayoutStatus]
    FAILED: _ClassVar[PayoutStatus]
    APPROVED: _ClassVar[PayoutStatus]
    HELD: _ClassVar[PayoutStatus]

class TaxType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TAX_TYPE_UNSPECIFIED: _ClassVar[TaxType]
    INDIVIDUAL: _ClassVar[TaxType]
    BUSINESS: _ClassVar[TaxType]
STATEMENT_STATUS_UNSPECIFIED: StatementStatus
OPEN: StatementStatus
CLOSED: StatementStatus
LEDGER_ENTRY_KIND_UNSPECIFIED: LedgerEntryKind
EARNING: LedgerEntryKind
ADJUSTMENT: LedgerEntryKind
PAYOUT: LedgerEntryKind
PAYOUT_REVERSAL: LedgerEntryKind
PAYOUT_STATUS_UNSPECIFIED: PayoutStatus
PENDING: PayoutStatus
PAID: PayoutStatus
FAILED: PayoutStatus
APPROVED: PayoutStatus
HELD: PayoutStatus
TAX_TYPE_UNSPECIFIED: TaxType
INDIVIDUAL: TaxType
BUSINESS: TaxType

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
    __slots__ = ("seller_id", "period", "period_start", "period_end", "video_revenue", "ad_revenue", "total", "payable_krw", "lines", "data_through", "currency", "status", "closed_at", "adjustments")
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
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
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
    status: StatementStatus
    closed_at: _timestamp_pb2.Timestamp
    adjustments: _containers.RepeatedCompositeFieldContainer[AdjustmentLine]
    def __init__(self, seller_id: _Optional[int] = ..., period: _Optional[_Union[_common_pb2.Period, str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., video_revenue: _Optional[str] = ..., ad_revenue: _Optional[str] = ..., total: _Optional[str] = ..., payable_krw: _Optional[int] = ..., lines: _Optional[_Iterable[_Union[StatementLine, _Mapping]]] = ..., data_through: _Optional[str] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[StatementStatus, str]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., adjustments: _Optional[_Iterable[_Union[AdjustmentLine, _Mapping]]] = ...) -> None: ...

class AdjustmentLine(_message.Message):
    __slots__ = ("original_month", "video_id", "title", "amount")
    ORIGINAL_MONTH_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    original_month: str
    video_id: int
    title: str
    amount: str
    def __init__(self, original_month: _Optional[str] = ..., video_id: _Optional[int] = ..., title: _Optional[str] = ..., amount: _Optional[str] = ...) -> None: ...

class CloseMonthRequest(_message.Message):
    __slots__ = ("month",)
    MONTH_FIELD_NUMBER: _ClassVar[int]
    month: str
    def __init__(self, month: _Optional[str] = ...) -> None: ...

class Closing(_message.Message):
    __slots__ = ("month", "closed_at", "sellers", "lines", "earnings", "adjustment_lines", "adjustments", "total", "payouts_created", "payouts_krw", "currency", "closed_by", "approved_by", "approved_at", "transfer_files", "transfer_file_sha256", "transfer_rows", "transfer_total_krw", "approved_not_in_file")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    SELLERS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    EARNINGS_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENT_LINES_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PAYOUTS_CREATED_FIELD_NUMBER: _ClassVar[int]
    PAYOUTS_KRW_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_BY_FIELD_NUMBER: _ClassVar[int]
    APPROVED_AT_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FILES_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_FILE_SHA256_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ROWS_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_TOTAL_KRW_FIELD_NUMBER: _ClassVar[int]
    APPROVED_NOT_IN_FILE_FIELD_NUMBER: _ClassVar[int]
    month: str
    closed_at: _timestamp_pb2.Timestamp
    sellers: int
    lines: int
    earnings: str
    adjustment_lines: int
    adjustments: str
    total: str
    payouts_created: int
    payouts_krw: int
    currency: str
    closed_by: int
    approved_by: int
    approved_at: _timestamp_pb2.Timestamp
    transfer_files: _containers.RepeatedCompositeFieldContainer[TransferFile]
    transfer_file_sha256: str
    transfer_rows: int
    transfer_total_krw: int
    approved_not_in_file: int
    def __init__(self, month: _Optional[str] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sellers: _Optional[int] = ..., lines: _Optional[int] = ..., earnings: _Optional[str] = ..., adjustment_lines: _Optional[int] = ..., adjustments: _Optional[str] = ..., total: _Optional[str] = ..., payouts_created: _Optional[int] = ..., payouts_krw: _Optional[int] = ..., currency: _Optional[str] = ..., closed_by: _Optional[int] = ..., approved_by: _Optional[int] = ..., approved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transfer_files: _Optional[_Iterable[_Union[TransferFile, _Mapping]]] = ..., transfer_file_sha256: _Optional[str] = ..., transfer_rows: _Optional[int] = ..., transfer_total_krw: _Optional[int] = ..., approved_not_in_file: _Optional[int] = ...) -> None: ...

class TransferFile(_message.Message):
    __slots__ = ("part", "sha256", "rows", "total_krw", "created_at", "created_by", "filename")
    PART_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_KRW_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    part: int
    sha256: str
    rows: int
    total_krw: int
    created_at: _timestamp_pb2.Timestamp
    created_by: int
    filename: str
    def __init__(self, part: _Optional[int] = ..., sha256: _Optional[str] = ..., rows: _Optional[int] = ..., total_krw: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[int] = ..., filename: _Optional[str] = ...) -> None: ...

class GetTransferFileRequest(_message.Message):
    __slots__ = ("month", "part")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    month: str
    part: int
    def __init__(self, month: _Optional[str] = ..., part: _Optional[int] = ...) -> None: ...

class ListMonthPayoutsRequest(_message.Message):
    __slots__ = ("month", "status", "page_size", "page_token")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    month: str
    status: PayoutStatus
    page_size: int
    page_token: str
    def __init__(self, month: _Optional[str] = ..., status: _Optional[_Union[PayoutStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ApproveMonthRequest(_message.Message):
    __slots__ = ("month",)
    MONTH_FIELD_NUMBER: _ClassVar[int]
    month: str
    def __init__(self, month: _Optional[str] = ...) -> None: ...

class ListPayoutEntriesRequest(_message.Message):
    __slots__ = ("payout_id",)
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    payout_id: int
    def __init__(self, payout_id: _Optional[int] = ...) -> None: ...

class PayoutEntries(_message.Message):
    __slots__ = ("payout", "entries", "total", "carried_in", "carried_out", "currency")
    PAYOUT_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CARRIED_IN_FIELD_NUMBER: _ClassVar[int]
    CARRIED_OUT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    payout: Payout
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    total: str
    carried_in: str
    carried_out: str
    currency: str
    def __init__(self, payout: _Optional[_Union[Payout, _Mapping]] = ..., entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., total: _Optional[str] = ..., carried_in: _Optional[str] = ..., carried_out: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class ListClosingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListClosingsResponse(_message.Message):
    __slots__ = ("closings",)
    CLOSINGS_FIELD_NUMBER: _ClassVar[int]
    closings: _containers.RepeatedCompositeFieldContainer[Closing]
    def __init__(self, closings: _Optional[_Iterable[_Union[Closing, _Mapping]]] = ...) -> None: ...

class GetPendingAdjustmentsRequest(_message.Message):
    __slots__ = ("month",)
    MONTH_FIELD_NUMBER: _ClassVar[int]
    month: str
    def __init__(self, month: _Optional[str] = ...) -> None: ...

class PendingAdjustment(_message.Message):
    __slots__ = ("seller_id", "video_id", "in_ledger", "computed", "difference")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    IN_LEDGER_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCE_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    video_id: int
    in_ledger: str
    computed: str
    difference: str
    def __init__(self, seller_id: _Optional[int] = ..., video_id: _Optional[int] = ..., in_ledger: _Optional[str] = ..., computed: _Optional[str] = ..., difference: _Optional[str] = ...) -> None: ...

class PendingAdjustments(_message.Message):
    __slots__ = ("month", "adjustments", "total")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    month: str
    adjustments: _containers.RepeatedCompositeFieldContainer[PendingAdjustment]
    total: str
    def __init__(self, month: _Optional[str] = ..., adjustments: _Optional[_Iterable[_Union[PendingAdjustment, _Mapping]]] = ..., total: _Optional[str] = ...) -> None: ...

class GetBalanceRequest(_message.Message):
    __slots__ = ("seller_id",)
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    def __init__(self, seller_id: _Optional[int] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("seller_id", "balance", "payable_krw", "minimum_payout_krw", "currency")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    PAYABLE_KRW_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_PAYOUT_KRW_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    balance: str
    payable_krw: int
    minimum_payout_krw: int
    currency: str
    def __init__(self, seller_id: _Optional[int] = ..., balance: _Optional[str] = ..., payable_krw: _Optional[int] = ..., minimum_payout_krw: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("entry_id", "kind", "posted_month", "original_month", "video_id", "payout_id", "amount", "posted_at", "title")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POSTED_MONTH_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_MONTH_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    POSTED_AT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    entry_id: int
    kind: LedgerEntryKind
    posted_month: str
    original_month: str
    video_id: int
    payout_id: int
    amount: str
    posted_at: _timestamp_pb2.Timestamp
    title: str
    def __init__(self, entry_id: _Optional[int] = ..., kind: _Optional[_Union[LedgerEntryKind, str]] = ..., posted_month: _Optional[str] = ..., original_month: _Optional[str] = ..., video_id: _Optional[int] = ..., payout_id: _Optional[int] = ..., amount: _Optional[str] = ..., posted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., title: _Optional[str] = ...) -> None: ...

class ListLedgerEntriesRequest(_message.Message):
    __slots__ = ("seller_id", "to", "page_size", "page_token")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    to: str
    page_size: int
    page_token: str
    def __init__(self, seller_id: _Optional[int] = ..., to: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., **kwargs) -> None: ...

class LedgerPage(_message.Message):
    __slots__ = ("entries", "next_page_token", "currency")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    next_page_token: str
    currency: str
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class Payout(_message.Message):
    __slots__ = ("payout_id", "seller_id", "month", "amount_krw", "status", "reference", "created_at", "updated_at", "tax_type", "gross_krw", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw")
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_KRW_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    TAX_TYPE_FIELD_NUMBER: _ClassVar[int]
    GROSS_KRW_FIELD_NUMBER: _ClassVar[int]
    INCOME_TAX_KRW_FIELD_NUMBER: _ClassVar[int]
    LOCAL_INCOME_TAX_KRW_FIELD_NUMBER: _ClassVar[int]
    VAT_KRW_FIELD_NUMBER: _ClassVar[int]
    NET_KRW_FIELD_NUMBER: _ClassVar[int]
    payout_id: int
    seller_id: int
    month: str
    amount_krw: int
    status: PayoutStatus
    reference: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    tax_type: TaxType
    gross_krw: int
    income_tax_krw: int
    local_income_tax_krw: int
    vat_krw: int
    net_krw: int
    def __init__(self, payout_id: _Optional[int] = ..., seller_id: _Optional[int] = ..., month: _Optional[str] = ..., amount_krw: _Optional[int] = ..., status: _Optional[_Union[PayoutStatus, str]] = ..., reference: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tax_type: _Optional[_Union[TaxType, str]] = ..., gross_krw: _Optional[int] = ..., income_tax_krw: _Optional[int] = ..., local_income_tax_krw: _Optional[int] = ..., vat_krw: _Optional[int] = ..., net_krw: _Optional[int] = ...) -> None: ...

class GetPayoutRequest(_message.Message):
    __slots__ = ("payout_id",)
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    payout_id: int
    def __init__(self, payout_id: _Optional[int] = ...) -> None: ...

class ListPayoutsRequest(_message.Message):
    __slots__ = ("seller_id",)
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    def __init__(self, seller_id: _Optional[int] = ...) -> None: ...

class ListPayoutsResponse(_message.Message):
    __slots__ = ("payouts", "next_page_token")
    PAYOUTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    payouts: _containers.RepeatedCompositeFieldContainer[Payout]
    next_page_token: str
    def __init__(self, payouts: _Optional[_Iterable[_Union[Payout, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class MarkPayoutRequest(_message.Message):
    __slots__ = ("payout_id", "status", "reference")
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    payout_id: int
    status: PayoutStatus
    reference: str
    def __init__(self, payout_id: _Optional[int] = ..., status: _Optional[_Union[PayoutStatus, str]] = ..., reference: _Optional[str] = ...) -> None: ...

class Tier(_message.Message):
    __slots__ = ("lower_bound", "unit_price")
    LOWER_BOUND_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    lower_bound: int
    unit_price: str
    def __init__(self, lower_bound: _Optional[int] = ..., unit_price: _Optional[str] = ...) -> None: ...

class ListTierTablesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TierPrice(_message.Message):
    __slots__ = ("lower_bound", "unit_price")
    LOWER_BOUND_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    lower_bound: int
    unit_price: str
    def __init__(self, lower_bound: _Optional[int] = ..., unit_price: _Optional[str] = ...) -> None: ...

class ScheduleTierTableRequest(_message.Message):
    __slots__ = ("effective_from", "video", "ad")
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    AD_FIELD_NUMBER: _ClassVar[int]
    effective_from: str
    video: _containers.RepeatedCompositeFieldContainer[TierPrice]
    ad: _containers.RepeatedCompositeFieldContainer[TierPrice]
    def __init__(self, effective_from: _Optional[str] = ..., video: _Optional[_Iterable[_Union[TierPrice, _Mapping]]] = ..., ad: _Optional[_Iterable[_Union[TierPrice, _Mapping]]] = ...) -> None: ...

class TierTable(_message.Message):
    __slots__ = ("effective_from", "video", "ad")
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    AD_FIELD_NUMBER: _ClassVar[int]
    effective_from: str
    video: _containers.RepeatedCompositeFieldContainer[Tier]
    ad: _containers.RepeatedCompositeFieldContainer[Tier]
    def __init__(self, effective_from: _Optional[str] = ..., video: _Optional[_Iterable[_Union[Tier, _Mapping]]] = ..., ad: _Optional[_Iterable[_Union[Tier, _Mapping]]] = ...) -> None: ...

class ListTierTablesResponse(_message.Message):
    __slots__ = ("tables",)
    TABLES_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[TierTable]
    def __init__(self, tables: _Optional[_Iterable[_Union[TierTable, _Mapping]]] = ...) -> None: ...

class GetPayoutProfileRequest(_message.Message):
    __slots__ = ("seller_id",)
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    def __init__(self, seller_id: _Optional[int] = ...) -> None: ...

class PutPayoutProfileRequest(_message.Message):
    __slots__ = ("seller_id", "legal_name", "tax_type", "bank_code", "account_number", "business_number")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    LEGAL_NAME_FIELD_NUMBER: _ClassVar[int]
    TAX_TYPE_FIELD_NUMBER: _ClassVar[int]
    BANK_CODE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_NUMBER_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    legal_name: str
    tax_type: TaxType
    bank_code: str
    account_number: str
    business_number: str
    def __init__(self, seller_id: _Optional[int] = ..., legal_name: _Optional[str] = ..., tax_type: _Optional[_Union[TaxType, str]] = ..., bank_code: _Optional[str] = ..., account_number: _Optional[str] = ..., business_number: _Optional[str] = ...) -> None: ...

class PayoutProfile(_message.Message):
    __slots__ = ("seller_id", "legal_name", "tax_type", "bank_code", "account_number", "business_number", "updated_at", "released")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    LEGAL_NAME_FIELD_NUMBER: _ClassVar[int]
    TAX_TYPE_FIELD_NUMBER: _ClassVar[int]
    BANK_CODE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_NUMBER_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    legal_name: str
    tax_type: TaxType
    bank_code: str
    account_number: str
    business_number: str
    updated_at: _timestamp_pb2.Timestamp
    released: _containers.RepeatedCompositeFieldContainer[Payout]
    def __init__(self, seller_id: _Optional[int] = ..., legal_name: _Optional[str] = ..., tax_type: _Optional[_Union[TaxType, str]] = ..., bank_code: _Optional[str] = ..., account_number: _Optional[str] = ..., business_number: _Optional[str] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., released: _Optional[_Iterable[_Union[Payout, _Mapping]]] = ...) -> None: ...

class ListTaxTablesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TaxTable(_message.Message):
    __slots__ = ("effective_from", "income_tax_rate", "local_income_tax_rate", "vat_rate", "withholding_minimum_krw", "income_tax_unit_krw", "local_income_tax_unit_krw", "vat_unit_krw", "platform_business_number")
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    INCOME_TAX_RATE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_INCOME_TAX_RATE_FIELD_NUMBER: _ClassVar[int]
    VAT_RATE_FIELD_NUMBER: _ClassVar[int]
    WITHHOLDING_MINIMUM_KRW_FIELD_NUMBER: _ClassVar[int]
    INCOME_TAX_UNIT_KRW_FIELD_NUMBER: _ClassVar[int]
    LOCAL_INCOME_TAX_UNIT_KRW_FIELD_NUMBER: _ClassVar[int]
    VAT_UNIT_KRW_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_BUSINESS_NUMBER_FIELD_NUMBER: _ClassVar[int]
    effective_from: str
    income_tax_rate: str
    local_income_tax_rate: str
    vat_rate: str
    withholding_minimum_krw: int
    income_tax_unit_krw: int
    local_income_tax_unit_krw: int
    vat_unit_krw: int
    platform_business_number: str
    def __init__(self, effective_from: _Optional[str] = ..., income_tax_rate: _Optional[str] = ..., local_income_tax_rate: _Optional[str] = ..., vat_rate: _Optional[str] = ..., withholding_minimum_krw: _Optional[int] = ..., income_tax_unit_krw: _Optional[int] = ..., local_income_tax_unit_krw: _Optional[int] = ..., vat_unit_krw: _Optional[int] = ..., platform_business_number: _Optional[str] = ...) -> None: ...

class ListTaxTablesResponse(_message.Message):
    __slots__ = ("tables",)
    TABLES_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[TaxTable]
    def __init__(self, tables: _Optional[_Iterable[_Union[TaxTable, _Mapping]]] = ...) -> None: ...

class GetTaxSummaryRequest(_message.Message):
    __slots__ = ("seller_id", "year")
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    seller_id: int
    year: str
    def __init__(self, seller_id: _Optional[int] = ..., year: _Optional[str] = ...) -> None: ...

class ListTaxInvoicesRequest(_message.Message):
    __slots__ = ("month",)
    MONTH_FIELD_NUMBER: _ClassVar[int]
    month: str
    def __init__(self, month: _Optional[str] = ...) -> None: ...

class TaxInvoice(_message.Message):
    __slots__ = ("month", "seller_id", "payout_id", "supply_krw", "vat_krw", "seller_business_number", "platform_business_number", "seller_legal_name", "issue_date")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    SELLER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    SUPPLY_KRW_FIELD_NUMBER: _ClassVar[int]
    VAT_KRW_FIELD_NUMBER: _ClassVar[int]
    SELLER_BUSINESS_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_BUSINESS_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SELLER_LEGAL_NAME_FIELD_NUMBER: _ClassVar[int]
    ISSUE_DATE_FIELD_NUMBER: _ClassVar[int]
    month: str
    seller_id: int
    payout_id: int
    supply_krw: int
    vat_krw: int
    seller_business_number: str
    platform_business_number: str
    seller_legal_name: str
    issue_date: str
    def __init__(self, month: _Optional[str] = ..., seller_id: _Optional[int] = ..., payout_id: _Optional[int] = ..., supply_krw: _Optional[int] = ..., vat_krw: _Optional[int] = ..., seller_business_number: _Optional[str] = ..., platform_business_number: _Optional[str] = ..., seller_legal_name: _Optional[str] = ..., issue_date: _Optional[str] = ...) -> None: ...

class ListTaxInvoicesResponse(_message.Message):
    __slots__ = ("invoices",)
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[TaxInvoice]
    def __init__(self, invoices: _Optional[_Iterable[_Union[TaxInvoice, _Mapping]]] = ...) -> None: ...
