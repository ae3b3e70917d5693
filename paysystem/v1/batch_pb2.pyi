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

class JobEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_EVENT_TYPE_UNSPECIFIED: _ClassVar[JobEventType]
    JOB_STARTED: _ClassVar[JobEventType]
    PARTITION_STARTED: _ClassVar[JobEventType]
    PARTITION_PROGRESS: _ClassVar[JobEventType]
    PARTITION_FINISHED: _ClassVar[JobEventType]
    PARTITION_FAILED: _ClassVar[JobEventType]
    JOB_FINISHED: _ClassVar[JobEventType]
    JOB_FAILED: _ClassVar[JobEventType]
    JOB_SKIPPED: _ClassVar[JobEventType]
JOB_EVENT_TYPE_UNSPECIFIED: JobEventType
JOB_STARTED: JobEventType
PARTITION_STARTED: JobEventType
PARTITION_PROGRESS: JobEventType
PARTITION_FINISHED: JobEventType
PARTITION_FAILED: JobEventType
JOB_FINISHED: JobEventType
JOB_FAILED: JobEventType
JOB_SKIPPED: JobEventType

class RunJobRequest(_message.Message):
    __slots__ = ("job", "date", "to_date", "rerun", "partitions")
    JOB_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    TO_DATE_FIELD_NUMBER: _ClassVar[int]
    RERUN_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    job: str
    date: str
    to_date: str
    rerun: bool
    partitions: int
    def __init__(self, job: _Optional[str] = ..., date: _Optional[str] = ..., to_date: _Optional[str] = ..., rerun: _Optional[bool] = ..., partitions: _Optional[int] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("type", "job_execution_id", "job_name", "day", "partition_key", "rows_read", "rows_written", "elapsed_ms", "status", "message", "partitions_total", "partitions_done", "final", "first_day", "last_day")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    JOB_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    ROWS_READ_FIELD_NUMBER: _ClassVar[int]
    ROWS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_DONE_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    FIRST_DAY_FIELD_NUMBER: _ClassVar[int]
    LAST_DAY_FIELD_NUMBER: _ClassVar[int]
    type: JobEventType
    job_execution_id: int
    job_name: str
    day: str
    partition_key: str
    rows_read: int
    rows_written: int
    elapsed_ms: int
    status: str
    message: str
    partitions_total: int
    partitions_done: int
    final: bool
    first_day: str
    last_day: str
    def __init__(self, type: _Optional[_Union[JobEventType, str]] = ..., job_execution_id: _Optional[int] = ..., job_name: _Optional[str] = ..., day: _Optional[str] = ..., partition_key: _Optional[str] = ..., rows_read: _Optional[int] = ..., rows_written: _Optional[int] = ..., elapsed_ms: _Optional[int] = ..., status: _Optional[str] = ..., message: _Optional[str] = ..., partitions_total: _Optional[int] = ..., partitions_done: _Optional[int] = ..., final: _Optional[bool] = ..., first_day: _Optional[str] = ..., last_day: _Optional[str] = ...) -> None: ...

class GetJobExecutionRequest(_message.Message):
    __slots__ = ("job_execution_id",)
    JOB_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    job_execution_id: int
    def __init__(self, job_execution_id: _Optional[int] = ...) -> None: ...

class PartitionExecution(_message.Message):
    __slots__ = ("partition_key", "status", "rows_read", "rows_written", "elapsed_ms", "error")
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ROWS_READ_FIELD_NUMBER: _ClassVar[int]
    ROWS_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_MS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    partition_key: str
    status: str
    rows_read: int
    rows_written: int
    elapsed_ms: int
    error: str
    def __init__(self, partition_key: _Optional[str] = ..., status: _Optional[str] = ..., rows_read: _Optional[int] = ..., rows_written: _Optional[int] = ..., elapsed_ms: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class JobExecution(_message.Message):
    __slots__ = ("job_execution_id", "job_name", "parameters", "status", "started_at", "ended_at", "error", "partitions")
    JOB_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    job_execution_id: int
    job_name: str
    parameters: str
    status: str
    started_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    error: str
    partitions: _containers.RepeatedCompositeFieldContainer[PartitionExecution]
    def __init__(self, job_execution_id: _Optional[int] = ..., job_name: _Optional[str] = ..., parameters: _Optional[str] = ..., status: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ..., partitions: _Optional[_Iterable[_Union[PartitionExecution, _Mapping]]] = ...) -> None: ...

class ListJobExecutionsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListJobExecutionsResponse(_message.Message):
    __slots__ = ("executions",)
    EXECUTIONS_FIELD_NUMBER: _ClassVar[int]
    executions: _containers.RepeatedCompositeFieldContainer[JobExecution]
    def __init__(self, executions: _Optional[_Iterable[_Union[JobExecution, _Mapping]]] = ...) -> None: ...

class ListInstancesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpstreamHost(_message.Message):
    __slots__ = ("cluster", "address", "healthy", "health_flags", "requests_total", "requests_error", "connections_active")
    CLUSTER_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FLAGS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_ERROR_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    cluster: str
    address: str
    healthy: bool
    health_flags: str
    requests_total: int
    requests_error: int
    connections_active: int
    def __init__(self, cluster: _Optional[str] = ..., address: _Optional[str] = ..., healthy: _Optional[bool] = ..., health_flags: _Optional[str] = ..., requests_total: _Optional[int] = ..., requests_error: _Optional[int] = ..., connections_active: _Optional[int] = ...) -> None: ...

class ListInstancesResponse(_message.Message):
    __slots__ = ("instances",)
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    instances: _containers.RepeatedCompositeFieldContainer[UpstreamHost]
    def __init__(self, instances: _Optional[_Iterable[_Union[UpstreamHost, _Mapping]]] = ...) -> None: ...

class RunPartitionRequest(_message.Message):
    __slots__ = ("partition_execution_id",)
    PARTITION_EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    partition_execution_id: int
    def __init__(self, partition_execution_id: _Optional[int] = ...) -> None: ...
