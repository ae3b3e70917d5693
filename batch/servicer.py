"""gRPC adapter: BatchService messages <-> the job runner and the job repository."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from batch.credentials import dispatch_metadata
from batch.jobs import repository
from batch.jobs.clock import process_owner
from batch.jobs.model import JobEvent, JobExecution, canonical_parameters
from batch.jobs.worker import load_steps, run_partition_stream
from domain.errors import BadInput, EnvoyAdminUnavailable
from domain.periods import parse_day
from paysystem.v1 import batch_pb2, batch_pb2_grpc
from services.common import envoy_clusters
from services.common.auth import Principal, current_principal, require_role
from services.common.server import ServiceContext

if TYPE_CHECKING:
    from batch.jobs.dispatch import GrpcDispatcher
    from batch.jobs.runner import JobRunner


def event_message(event: JobEvent) -> batch_pb2.JobEvent:
    return batch_pb2.JobEvent(
        type=event.type.value,
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
        first_day=event.first_day,
        last_day=event.last_day,
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


# ListJobExecutions: how many executions a call returns.
EXECUTIONS_LIMIT_DEFAULT = 20
EXECUTIONS_LIMIT_MAX = 100
# ListInstances: Envoy's admin endpoint answers in milliseconds on its own machine or network;
# past this, the caller hears UNAVAILABLE instead of waiting.
ENVOY_ADMIN_TIMEOUT_SEC = 1.0


def executions_limit(requested: int) -> int:
    if not 0 <= requested <= EXECUTIONS_LIMIT_MAX:
        raise BadInput(f"must be 1..{EXECUTIONS_LIMIT_MAX} (0 means {EXECUTIONS_LIMIT_DEFAULT})", field="limit")
    return requested or EXECUTIONS_LIMIT_DEFAULT


def upstream_host_message(host: envoy_clusters.HostStatus) -> batch_pb2.UpstreamHost:
    return batch_pb2.UpstreamHost(
        cluster=host.cluster,
        address=host.address,
        healthy=host.healthy,
        health_flags=host.health_flags,
        requests_total=host.rq_total,
        requests_error=host.rq_error,
        connections_active=host.cx_active,
    )


class BatchServicer(batch_pb2_grpc.BatchServiceServicer):
    def __init__(self, ctx: ServiceContext, *, runner_for: Callable[..., JobRunner]) -> None:
        self._ctx = ctx
        self._runner_for = runner_for  # batch.wiring.runner_for: settings, engine -> JobRunner
        self._channel: grpc.Channel | None = None
        self._lock = threading.Lock()

    # --- dispatch (coordinator side) ------------------------------------------------------

    def _dispatcher(self, principal: Principal, context: grpc.ServicerContext) -> GrpcDispatcher | None:
        """With PAYSYSTEM_BATCH_DISPATCH_URL set: a dispatcher that sends each partition to
        RunPartition through Envoy, on behalf of the caller (batch/credentials.py)."""
        settings = self._ctx.settings
        if not settings.batch_dispatch_url:
            return None
        from batch.jobs.dispatch import GrpcDispatcher, dispatch_channel

        with self._lock:
            if self._channel is None:
                self._channel = dispatch_channel(settings.batch_dispatch_url)
            channel = self._channel
        caller_token = next(
            (v for k, v in context.invocation_metadata() if k == "authorization" and isinstance(v, str)), ""
        )
        metadata = dispatch_metadata(principal, caller_token, keys_dir=settings.keys_dir, issuer=settings.jwt_issuer)
        return GrpcDispatcher(channel, metadata)

    # --- the RPCs -------------------------------------------------------------------------

    def RunJob(self, request: batch_pb2.RunJobRequest, context: grpc.ServicerContext) -> Iterator[batch_pb2.JobEvent]:
        principal = current_principal()
        require_role(principal, "ADMIN")
        date = parse_day(request.date, "date") if request.date else None
        to_date = parse_day(request.to_date, "to_date") if request.to_date else None
        if request.partitions < 0:
            raise BadInput("must be 0 (default) or more", field="partitions")
        runner = self._runner_for(self._ctx.settings, self._ctx.engine, dispatcher=self._dispatcher(principal, context))
        # A caller that goes away does not stop the job: it runs to its end in this process.
        today = self._ctx.clock.today(self._ctx.settings.zone)  # the business day (services/common/clock.py)
        events = runner.run(
            request.job,
            date,
            to_date,
            rerun=request.rerun,
            partitions=request.partitions or None,
            today=today,
            actor_id=principal.account_id,
        )
        for event in events:
            yield event_message(event)

    def GetJobExecution(
        self, request: batch_pb2.GetJobExecutionRequest, context: grpc.ServicerContext
    ) -> batch_pb2.JobExecution:
        require_role(current_principal(), "ADMIN")
        with self._ctx.engine.connect() as conn:
            return execution_message(repository.get_execution(conn, request.job_execution_id))

    def ListJobExecutions(
        self, request: batch_pb2.ListJobExecutionsRequest, context: grpc.ServicerContext
    ) -> batch_pb2.ListJobExecutionsResponse:
        require_role(current_principal(), "ADMIN")
        limit = executions_limit(request.limit)
        with self._ctx.engine.connect() as conn:
            executions = repository.recent_executions(conn, limit)
        return batch_pb2.ListJobExecutionsResponse(executions=[execution_message(e) for e in executions])

    def ListInstances(
        self, request: batch_pb2.ListInstancesRequest, context: grpc.ServicerContext
    ) -> batch_pb2.ListInstancesResponse:
        require_role(current_principal(), "ADMIN")
        url = self._ctx.settings.envoy_admin_base_url
        try:
            clusters = envoy_clusters.read_clusters(url, timeout=ENVOY_ADMIN_TIMEOUT_SEC)
        except OSError as exc:
            reason = getattr(exc, "reason", None) or exc
            # Response headers first, so that the status comes in trailers: Envoy's outlier
            # detection reads the grpc-status of a headers-only answer, and would count this
            # UNAVAILABLE as a gateway failure of this instance and eject it, though every
            # batch instance reads the same admin address. JSON callers still get 503
            # (tests/faults/test_envoy_admin_unreachable.py checks both).
            context.send_initial_metadata(())
            raise EnvoyAdminUnavailable(
                f"Envoy's admin endpoint {url} (PAYSYSTEM_ENVOY_ADMIN_URL) did not answer: {reason}"
                f" (waited at most {ENVOY_ADMIN_TIMEOUT_SEC:g}s)"
            ) from exc
        return batch_pb2.ListInstancesResponse(
            instances=[upstream_host_message(h) for hosts in clusters.values() for h in hosts]
        )

    def RunPartition(
        self, request: batch_pb2.RunPartitionRequest, context: grpc.ServicerContext
    ) -> Iterator[batch_pb2.JobEvent]:
        """Internal (a coordinator's dispatch; ADMIN, as the coordinator calls on behalf of
        the admin who ran the job): runs one partition attempt on this instance."""
        require_role(current_principal(), "ADMIN")
        if request.partition_execution_id <= 0:
            raise BadInput("must be a partition execution id", field="partition_execution_id")
        events = run_partition_stream(
            self._ctx.engine,
            self._ctx.settings.zone,
            request.partition_execution_id,
            worker=f"{self._ctx.instance}@{process_owner()}",
            steps=load_steps(self._ctx.settings),
        )
        for event in events:
            yield event_message(event)
