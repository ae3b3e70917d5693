"""Dispatch mode: a coordinator hands each partition attempt to a batch worker instance by
calling BatchService.RunPartition through Envoy (the `batch` cluster, round robin over the
healthy instances; the coordinator itself is one of them).

The runner (JobRunner._dispatch_partition) decides what a broken stream means; this module
only turns the gRPC stream into JobEvents and a gRPC failure into a DispatchError that says
whether a new attempt may succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc

from batch.jobs.model import EventType, JobEvent
from batch.jobs.runner import DispatchError
from paysystem.v1 import batch_pb2, batch_pb2_grpc

# Refusals: another attempt would be refused the same way. Every other code (UNAVAILABLE:
# no healthy worker or connection refused; CANCELLED / INTERNAL / UNKNOWN: the stream was
# reset, e.g. its worker was killed; FAILED_PRECONDITION: the attempt was not STARTING) is
# settled in the database and retried with a new attempt.
NOT_RETRYABLE = frozenset({
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.UNIMPLEMENTED,
})


def event_from_message(message: batch_pb2.JobEvent) -> JobEvent:
    return JobEvent(
        type=EventType(batch_pb2.JobEventType.Name(message.type)),
        job_name=message.job_name,
        job_execution_id=message.job_execution_id,
        day=message.day,
        partition_key=message.partition_key,
        rows_read=message.rows_read,
        rows_written=message.rows_written,
        elapsed_ms=message.elapsed_ms,
        status=message.status,
        message=message.message,
        partitions_total=message.partitions_total,
        partitions_done=message.partitions_done,
        final=message.final,
    )


class GrpcDispatcher:
    """RunPartition calls on a shared channel to Envoy, each with fresh credentials."""

    def __init__(self, channel: grpc.Channel, metadata: Callable[[], list[tuple[str, str]]]) -> None:
        self._stub = batch_pb2_grpc.BatchServiceStub(channel)
        self._metadata = metadata

    def run_partition(self, partition_execution_id: int) -> Iterator[JobEvent]:
        call = self._stub.RunPartition(
            batch_pb2.RunPartitionRequest(partition_execution_id=partition_execution_id), metadata=self._metadata()
        )
        try:
            for message in call:
                yield event_from_message(message)
        except grpc.RpcError as exc:
            code = exc.code()
            raise DispatchError(f"{code.name}: {exc.details()}", retryable=code not in NOT_RETRYABLE) from None
        finally:
            call.cancel()  # a no-op once the call ended; frees it if the caller stopped reading


def dispatch_channel(target: str) -> grpc.Channel:
    """A channel to Envoy for RunPartition calls. `target` is host:port (an http:// prefix is
    allowed). Keepalive pings notice a vanished Envoy on a long, quiet stream."""
    target = target.removeprefix("http://").rstrip("/")
    return grpc.insecure_channel(
        target,
        options=[
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 10_000),
            ("grpc.max_receive_message_length", 32 * 1024 * 1024),
        ],
    )
