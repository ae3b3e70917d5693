"""gRPC adapter: BatchService messages <-> the job runner and the job repository."""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time

from google.protobuf.timestamp_pb2 import Timestamp

from batch.jobs import repository
from batch.jobs.model import JobEvent, JobExecution, canonical_parameters
from batch.jobs.runner import process_owner, run_partition_stream, runner_for
from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.common import auth
from services.common.auth import Principal, current_principal, require_role
from services.common.errors import InvalidArgument
from services.common.periods import OutsideCalendar, require_in_calendar
from services.common.server import ServiceContext

log = logging.getLogger(__name__)

# Lifetime of the token a coordinator mints for each RunPartition call. It is checked when
# the call starts (by Envoy and by the worker), so it only has to outlive the call's start.
DISPATCH_TOKEN_TTL_SEC = 120

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_day(value: str, field: str) -> dt.date:
    """A YYYY-MM-DD calendar day, strictly (not the other ISO forms fromisoformat takes)."""
    if not _DATE.fullmatch(value):
        raise InvalidArgument(f"{value!r} is not a date YYYY-MM-DD", field=field)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidArgument(f"{value!r} is not a valid date: {exc}", field=field) from None
    try:
        return require_in_calendar(day)
    except OutsideCalendar as exc:
        raise InvalidArgument(str(exc), field=field) from None


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
        self._channel = None
        self._lock = threading.Lock()

    # --- dispatch (coordinator side) ------------------------------------------------------

    def _dispatcher(self, principal: Principal, context):
        """With PAYSYSTEM_BATCH_DISPATCH_URL set: a dispatcher that sends each partition to
        RunPartition through Envoy, on behalf of the caller (see _credentials)."""
        settings = self._ctx.settings
        if not settings.batch_dispatch_url:
            return None
        from batch.jobs.dispatch import GrpcDispatcher, dispatch_channel

        with self._lock:
            if self._channel is None:
                self._channel = dispatch_channel(settings.batch_dispatch_url)
        return GrpcDispatcher(self._channel, self._credentials(principal, context))

    def _credentials(self, principal: Principal, context):
        """The caller's identity, carried to the workers. Where this instance can read the
        signing key (the local mesh; any deployment that gives the batch the key), each call
        gets a fresh short-lived token for the same account and role, so a run longer than
        the caller's token lifetime still dispatches; otherwise the caller's own token is
        forwarded as it is (then a run must end before it expires)."""
        settings = self._ctx.settings
        try:
            private_key = auth.load_private_key(settings.keys_dir)
        except OSError:
            private_key = None
            log.info("no signing key in %s: forwarding the caller's token to workers", settings.keys_dir)
        caller_token = next(
            (v for k, v in context.invocation_metadata() if k == "authorization"), ""
        )
        dispatcher_identity = Principal(principal.account_id, f"{principal.username} (batch dispatch)", principal.role)
        lock = threading.Lock()
        minted: list = [None, 0.0]  # token, monotonic time minted

        def metadata() -> list[tuple[str, str]]:
            if private_key is None:
                return [("authorization", caller_token)]
            # Minting parses the PEM key and signs (tens of ms on a busy machine): one token
            # serves every dispatch for half its lifetime.
            with lock:
                if minted[0] is None or time.monotonic() - minted[1] > DISPATCH_TOKEN_TTL_SEC / 2:
                    minted[0] = auth.issue_token(private_key, dispatcher_identity, issuer=settings.jwt_issuer,
                                                 ttl_sec=DISPATCH_TOKEN_TTL_SEC)
                    minted[1] = time.monotonic()
                return [("authorization", f"Bearer {minted[0]}")]

        return metadata

    # --- the RPCs -------------------------------------------------------------------------

    def RunJob(self, request, context):
        principal = current_principal()
        require_role(principal, "ADMIN")
        date = parse_day(request.date, "date") if request.date else None
        to_date = parse_day(request.to_date, "to_date") if request.to_date else None
        if request.partitions < 0:
            raise InvalidArgument("must be 0 (default) or more", field="partitions")
        runner = runner_for(self._ctx.settings, self._ctx.engine, dispatcher=self._dispatcher(principal, context))
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
        """Internal (a coordinator's dispatch; ADMIN, as the coordinator calls on behalf of
        the admin who ran the job): runs one partition attempt on this instance."""
        require_role(current_principal(), "ADMIN")
        if request.partition_execution_id <= 0:
            raise InvalidArgument("must be a partition execution id", field="partition_execution_id")
        events = run_partition_stream(
            self._ctx.engine, self._ctx.settings.zone, request.partition_execution_id,
            worker=f"{self._ctx.instance}@{process_owner()}",
        )
        for event in events:
            yield event_message(event)
