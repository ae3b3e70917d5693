"""Dispatch mode: a coordinator hands each partition attempt to a batch worker instance by
calling BatchService.RunPartition through Envoy (the `batch` cluster, round robin over the
healthy instances; the coordinator itself is one of them).

`run_dispatched` decides what a broken stream means (the fenced retry); GrpcDispatcher turns
the gRPC stream into JobEvents and a gRPC failure into a DispatchError that says whether a
new attempt may succeed.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from typing import Protocol

import grpc
import sqlalchemy as sa

from batch.jobs import repository as repo
from batch.jobs.clock import now_us
from batch.jobs.model import (
    BatchStatus,
    EventStatus,
    EventType,
    JobEvent,
    Partition,
    PartitionExecution,
    PartitionResult,
)
from paysystem.v1 import batch_pb2, batch_pb2_grpc

log = logging.getLogger(__name__)

# Refusals: another attempt would be refused the same way. Every other code (UNAVAILABLE:
# no healthy worker or connection refused; CANCELLED / INTERNAL / UNKNOWN: the stream was
# reset, e.g. its worker was killed; FAILED_PRECONDITION: the attempt was not STARTING) is
# settled in the database and retried with a new attempt.
NOT_RETRYABLE = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


class DispatchError(Exception):
    """A dispatched attempt's stream broke (or could not start). `retryable`: the worker may
    be lost (a new attempt can succeed); not for refusals such as a bad token."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Dispatcher(Protocol):
    """Runs one partition attempt on a worker instance and returns its events; raises
    DispatchError when the stream breaks or cannot start (GrpcDispatcher, or a test's)."""

    def run_partition(self, partition_execution_id: int) -> Iterator[JobEvent]: ...


def run_dispatched(
    engine: sa.Engine,
    dispatcher: Dispatcher,
    job: str,
    p: Partition,
    partition_execution_id: int,
    *,
    relay: Callable[[JobEvent], None],
    stopping: Callable[[], bool],
    attempts: int,
    backoff_sec: float,
) -> PartitionResult:
    """One partition on worker instances: RunPartition through Envoy, and while its
    worker is lost (killed, reset, unreachable), a NEW attempt, up to partition_attempts.

    The outcome of an attempt is what its worker recorded, never a guess: a stream that
    ends with PARTITION_FINISHED/FAILED carries it; a stream that breaks first is settled
    in the database (repository.retry_partition): if the attempt COMPLETED after all (the
    worker committed, then died) it counts as completed; otherwise it is failed, which
    fences a worker that is in fact still running it (its COMPLETED mark needs STARTED),
    and the next attempt goes out. A killed worker's transaction rolls back with its
    connection, so its partial writes never land."""
    attempt_id = partition_execution_id
    attempt = 1
    while True:
        terminal, lost = _stream_attempt(dispatcher, attempt_id, p, relay)
        if terminal is not None:
            return _reported(p, terminal)
        reason = str(lost) if lost is not None else "the stream ended before the partition's outcome"
        retry = (lost is None or lost.retryable) and attempt < attempts and not stopping()
        error = f"attempt {attempt} lost: {reason}"
        settled = _settle(engine, attempt_id, error, retry=retry)
        if settled.status is BatchStatus.COMPLETED and settled.partition_execution_id == attempt_id:
            return _completed_after_all(job, p, settled, relay)
        if not retry:
            log.warning("partition %s failed: %s", p.key, error)
            stopped = stopping() and (lost is None or lost.retryable)
            return _given_up(job, p, error, relay, stopped=stopped)
        log.warning("partition %s: %s; dispatching attempt %d", p.key, error, settled.attempt)
        relay(
            JobEvent(
                EventType.PARTITION_PROGRESS,
                job,
                partition_key=p.key,
                status=EventStatus.RETRYING.value,
                message=f"{error}; attempt {settled.attempt} dispatched",
            )
        )
        attempt_id, attempt = settled.partition_execution_id, settled.attempt
        time.sleep(backoff_sec * attempt)


def _stream_attempt(
    dispatcher: Dispatcher, attempt_id: int, p: Partition, relay: Callable[[JobEvent], None]
) -> tuple[JobEvent | None, DispatchError | None]:
    """Relays one attempt's events: (its terminal event if the stream carried one, the
    DispatchError if the stream broke)."""
    terminal: JobEvent | None = None
    try:
        for event in dispatcher.run_partition(attempt_id):
            # A worker's PARTITION_PROGRESS too: the coordinator ticks on its own clock and
            # its ticks carry the worker's latest message (the engine's progress).
            relay(dataclasses.replace(event, partition_key=p.key))
            if event.type in (EventType.PARTITION_FINISHED, EventType.PARTITION_FAILED):
                terminal = event  # the last event; the stream ends after it
    except DispatchError as exc:
        return terminal, exc
    return terminal, None


def _reported(p: Partition, terminal: JobEvent) -> PartitionResult:
    """The outcome its worker reported: finished, or failed with its message (e.g. a bad row)."""
    if terminal.type is EventType.PARTITION_FINISHED:
        return PartitionResult(p.key, completed=True, rows_read=terminal.rows_read, rows_written=terminal.rows_written)
    return PartitionResult(p.key, error=terminal.message)


def _settle(engine: sa.Engine, attempt_id: int, error: str, *, retry: bool) -> PartitionExecution:
    """A lost attempt, settled in the database: with `retry`, failed and the next attempt
    inserted (unless it COMPLETED after all); otherwise failed. Returns the newest attempt."""
    with engine.begin() as conn:
        if retry:
            return repo.retry_partition(conn, attempt_id, error=error, now_us=now_us())
        repo.fail_partition(conn, attempt_id, error=error, now_us=now_us())
        return repo.get_partition_execution(conn, attempt_id)


def _completed_after_all(
    job: str, p: Partition, settled: PartitionExecution, relay: Callable[[JobEvent], None]
) -> PartitionResult:
    """The stream broke after its worker committed the attempt: it counts as completed."""
    log.info("partition %s: the stream broke after its worker committed it", p.key)
    relay(
        JobEvent(
            EventType.PARTITION_FINISHED,
            job,
            partition_key=p.key,
            rows_read=settled.rows_read,
            rows_written=settled.rows_written,
            elapsed_ms=settled.elapsed_ms,
            status=BatchStatus.COMPLETED.name,
            message=f"completed on {settled.worker} (its stream broke afterwards)",
        )
    )
    return PartitionResult(p.key, completed=True, rows_read=settled.rows_read, rows_written=settled.rows_written)


def _given_up(
    job: str, p: Partition, error: str, relay: Callable[[JobEvent], None], *, stopped: bool
) -> PartitionResult:
    """No new attempt: FAILED. When the day is stopping and the worker was only lost, the
    partition counts as not begun (the day ends STOPPED, a restart runs it)."""
    if stopped:
        relay(
            JobEvent(
                EventType.PARTITION_FAILED,
                job,
                partition_key=p.key,
                status=BatchStatus.FAILED.name,
                message=f"{error} (not retried: stopping)",
            )
        )
        return PartitionResult(p.key)
    relay(JobEvent(EventType.PARTITION_FAILED, job, partition_key=p.key, status=BatchStatus.FAILED.name, message=error))
    return PartitionResult(p.key, error=error)


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
        # The generated stub is untyped (paysystem/v1/*_pb2_grpc.py): its calls are typed below.
        self._stub = batch_pb2_grpc.BatchServiceStub(channel)  # type: ignore[no-untyped-call]
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
