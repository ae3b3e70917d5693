"""gRPC adapter: BatchService messages <-> the job runner and the job repository."""

from __future__ import annotations

import datetime as dt
import re

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from batch.jobs import repository
from batch.jobs.model import JobEvent, JobExecution, canonical_parameters
from batch.jobs.runner import runner_for
from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.common.auth import current_principal, require_role
from services.common.errors import InvalidArgument
from services.common.server import ServiceContext

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: str, field: str) -> dt.date:
    """A YYYY-MM-DD calendar day, strictly (not the other ISO forms fromisoformat takes)."""
    if not _DATE.match(value):
        raise InvalidArgument(f"{value!r} is not a date YYYY-MM-DD", field=field)
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidArgument(f"{value!r} is not a valid date: {exc}", field=field) from None


def event_message(event: JobEvent) -> batch_pb2.JobEvent:
    return batch_pb2.JobEvent(
        type=batch_pb2.JobEventType.Value(event.type.value),
        job_execution_id=event.job_execution_id,
        job_name=event.job_name,
        day=event.day,
        partition_key=event.partition_key,
        rows_read=event.rows_read,
        rows_written=event.rows_written,
        elapsed_ms=event.elapsed_ms,
        status=event.status,
        message=event.message,
        partitions_total=event.partitions_total,
        partitions_done=event.partitions_done,
        final=event.final,
    )


def _timestamp(us: int | None) -> Timestamp | None:
    if us is None:
        return None
    ts = Timestamp()
    ts.FromMicroseconds(us)
    return ts


def execution_message(execution: JobExecution) -> batch_pb2.JobExecution:
    return batch_pb2.JobExecution(
        job_execution_id=execution.job_execution_id,
        job_name=execution.job_name,
        parameters=canonical_parameters(execution.parameters),
        status=execution.status.name,
        started_at=_timestamp(execution.started_at_us or execution.created_at_us),
        ended_at=_timestamp(execution.ended_at_us),
        error=execution.exit_message or "",
        partitions=[
            batch_pb2.PartitionExecution(
                partition_key=p.partition_key,
                status=p.status.name,
                rows_read=p.rows_read,
                rows_written=p.rows_written,
                elapsed_ms=p.elapsed_ms,
                error=p.error or "",
            )
            for p in execution.partitions
        ],
    )


class BatchServicer(batch_pb2_grpc.BatchServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def RunJob(self, request, context):
        require_role(current_principal(), "ADMIN")
        date = parse_day(request.date, "date") if request.date else None
        to_date = parse_day(request.to_date, "to_date") if request.to_date else None
        if request.partitions < 0:
            raise InvalidArgument("must be 0 (default) or more", field="partitions")
        runner = runner_for(self._ctx.settings, self._ctx.engine)
        # A caller that goes away does not stop the job: it runs to its end in this process.
        events = runner.run(
            request.job, date, to_date, rerun=request.rerun, partitions=request.partitions or None
        )
        for event in events:
            yield event_message(event)

    def GetJobExecution(self, request, context):
        require_role(current_principal(), "ADMIN")
        with self._ctx.engine.connect() as conn:
            return execution_message(repository.get_execution(conn, request.job_execution_id))

    def RunPartition(self, request, context):
        require_role(current_principal(), "ADMIN")
        # Scale-out across batch instances is not built yet: the coordinator runs every
        # partition in its own thread pool (see batch/jobs/runner.py).
        context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            "RunPartition: partitions run in the coordinator's thread pool; worker hand-off is not built yet",
        )
