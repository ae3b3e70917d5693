"""Partition handlers: how a day's partitions run, behind one interface (Spring Batch's
PartitionHandler). The coordinator hands a handler a day's partitions and reads back one
result per partition; the runner picks the handler:

- LocalPartitionHandler: each partition attempt in this process's thread pool
  (batch/jobs/worker.py);
- RemotePartitionHandler: each partition attempt on a worker instance, RunPartition through
  Envoy, with fenced retries (batch/jobs/dispatch.py).

Both run `workers` partitions at a time (a remote one's threads wait on their streams) and
relay the partitions' events with the day's counts, ticking progress for running ones.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Protocol

from batch.jobs import repository as repo
from batch.jobs.config import CoordinationConfig
from batch.jobs.dispatch import Dispatcher, run_dispatched
from batch.jobs.model import BatchStatus, EventStatus, EventType, JobEvent, Partition, PartitionResult
from batch.jobs.worker import run_partition_attempt

Emit = Callable[[JobEvent], None]
Stopping = Callable[[], bool]


@dataclasses.dataclass(frozen=True)
class DayPartitions:
    """The partitions one day's execution still has to run (`todo`, in plan order), and
    the day's counts the events carry (`total` partitions, `already` completed)."""

    job: str
    day: str  # YYYY-MM-DD
    execution_id: int
    todo: tuple[Partition, ...]
    total: int
    already: int


class PartitionHandler(Protocol):
    def handle(self, work: DayPartitions, *, stopping: Stopping, emit: Emit) -> list[PartitionResult]:
        """One result per partition of `work.todo`, in its order. A partition not begun
        because `stopping()` turned true has neither `completed` nor `error`."""
        ...


# One partition attempt: (partition, its partition execution id, relay, stopping) -> result.
RunOne = Callable[[Partition, int, Emit, Stopping], PartitionResult]


class LocalPartitionHandler:
    """Each partition attempt in this process's thread pool."""

    def __init__(self, config: CoordinationConfig) -> None:
        self.config = config

    def handle(self, work: DayPartitions, *, stopping: Stopping, emit: Emit) -> list[PartitionResult]:
        return run_in_pool(self.config, work, self._run_one, stopping=stopping, emit=emit)

    def _run_one(self, p: Partition, partition_execution_id: int, relay: Emit, stopping: Stopping) -> PartitionResult:
        config = self.config
        worker = f"{config.owner}/{threading.current_thread().name}"
        return run_partition_attempt(
            config.engine, config.steps, config.zone, partition_execution_id, worker=worker, emit=relay
        )


class RemotePartitionHandler:
    """Each partition attempt on a worker instance through `dispatcher` (RunPartition through
    Envoy), a lost worker's partition sent out again as a new attempt."""

    def __init__(self, config: CoordinationConfig, dispatcher: Dispatcher) -> None:
        self.config = config
        self.dispatcher = dispatcher

    def handle(self, work: DayPartitions, *, stopping: Stopping, emit: Emit) -> list[PartitionResult]:
        def run_one(p: Partition, partition_execution_id: int, relay: Emit, stopping: Stopping) -> PartitionResult:
            return run_dispatched(
                self.config.engine,
                self.dispatcher,
                work.job,
                p,
                partition_execution_id,
                relay=relay,
                stopping=stopping,
                attempts=self.config.partition_attempts,
                backoff_sec=self.config.retry_backoff_sec,
            )

        return run_in_pool(self.config, work, run_one, stopping=stopping, emit=emit)


def run_in_pool(
    config: CoordinationConfig, work: DayPartitions, run_one: RunOne, *, stopping: Stopping, emit: Emit
) -> list[PartitionResult]:
    """`run_one` for each partition of `work.todo`, `config.workers` at a time; progress
    ticks every `config.progress_interval_sec`. A partition not begun because `stopping()`
    turned true, and one whose attempt raised, get a result too."""
    todo = work.todo
    if not todo:
        return []
    with config.engine.begin() as conn:
        # Newest attempt last: a key maps to its newest attempt (attempt 1 here).
        ids = {p.partition_key: p.partition_execution_id for p in repo.partition_executions(conn, work.execution_id)}
    tracker = Tracker(work.job, work.execution_id, work.day, work.total, work.already, emit)

    def one(p: Partition) -> PartitionResult:
        if stopping():
            return PartitionResult(p.key)
        return run_one(p, ids[p.key], tracker.relay, stopping)

    with concurrent.futures.ThreadPoolExecutor(
        max_workers=min(config.workers, len(todo)), thread_name_prefix=f"partition-{work.day}"
    ) as pool:
        futures = [pool.submit(one, p) for p in todo]
        pending = set(futures)
        while pending:
            _, pending = concurrent.futures.wait(pending, timeout=config.progress_interval_sec)
            tracker.tick()
    results = []
    for f, p in zip(futures, todo, strict=True):
        try:
            results.append(f.result())
        except Exception as exc:  # noqa: BLE001 - e.g. the database went away between steps
            results.append(PartitionResult(p.key, error=f"{type(exc).__name__}: {exc}"))
    return results


class Tracker:
    """The coordinator's view of a day's partitions: fills in the day's counts on every
    partition event (local or relayed from a worker) and ticks progress for running ones."""

    def __init__(self, job: str, execution_id: int, day: str, total: int, already: int, emit: Emit) -> None:
        self.job, self.execution_id, self.day, self.total = job, execution_id, day, total
        self.done = already
        self.running: dict[str, float] = {}
        self.lock = threading.Lock()
        self.emit = emit

    def relay(self, event: JobEvent) -> None:
        with self.lock:
            if event.type is EventType.PARTITION_STARTED:
                self.running[event.partition_key] = time.monotonic()
            elif event.type is EventType.PARTITION_FINISHED:
                self.running.pop(event.partition_key, None)
                self.done += 1
            elif event.type is EventType.PARTITION_FAILED or event.status == EventStatus.RETRYING:
                self.running.pop(event.partition_key, None)
            done = self.done
        self.emit(
            dataclasses.replace(
                event,
                job_name=self.job,
                job_execution_id=self.execution_id,
                day=self.day,
                partitions_total=self.total,
                partitions_done=done,
                final=False,
            )
        )

    def tick(self) -> None:
        with self.lock:
            ticks = [(key, int((time.monotonic() - t0) * 1000)) for key, t0 in self.running.items()]
            done = self.done
        for key, elapsed in ticks:
            self.emit(
                JobEvent(
                    EventType.PARTITION_PROGRESS,
                    self.job,
                    job_execution_id=self.execution_id,
                    day=self.day,
                    partition_key=key,
                    elapsed_ms=elapsed,
                    status=BatchStatus.STARTED.name,
                    partitions_total=self.total,
                    partitions_done=done,
                )
            )
