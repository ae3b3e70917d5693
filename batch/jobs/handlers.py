"""Partition handlers: how a day's partitions run, behind one interface (Spring Batch's
PartitionHandler). The coordinator hands a handler a day's partitions and reads back one
result per partition; the runner picks the handler:

- LocalPartitionHandler: each partition attempt in this process's thread pool
  (batch/jobs/worker.py);
- RemotePartitionHandler: each partition attempt on a worker instance, RunPartition through
  Envoy, with fenced retries (batch/jobs/dispatch.py).

Both run `workers` partitions at a time (a remote one's threads wait on their streams) and
relay the partitions' events with the day's counts, ticking progress for running ones. A
tick carries the engine's progress of the partition (the Spark engine's tasks, stages and
rows read; worker.engine_progress): read from the engine for a local partition, the latest
a worker's stream sent for a dispatched one; and the engine's last counts come in one more
PARTITION_PROGRESS just before the partition's outcome.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Protocol

from batch.jobs import repository as repo
from batch.jobs.config import CoordinationConfig
from batch.jobs.dispatch import Dispatcher, run_dispatched
from batch.jobs.model import BatchStatus, EventStatus, EventType, JobEvent, Partition, PartitionResult
from batch.jobs.worker import engine_progress, run_partition_attempt

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
# The engine's progress of a running partition, read now ("" if none).
ReadProgress = Callable[[Partition], str]


class LocalPartitionHandler:
    """Each partition attempt in this process's thread pool."""

    def __init__(self, config: CoordinationConfig) -> None:
        self.config = config

    def handle(self, work: DayPartitions, *, stopping: Stopping, emit: Emit) -> list[PartitionResult]:
        day = dt.date.fromisoformat(work.day)

        def read_progress(p: Partition) -> str:
            return engine_progress(self.config.steps, day, p.video_id_lo, p.video_id_hi)

        return run_in_pool(self.config, work, self._run_one, stopping=stopping, emit=emit, read_progress=read_progress)

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
    config: CoordinationConfig,
    work: DayPartitions,
    run_one: RunOne,
    *,
    stopping: Stopping,
    emit: Emit,
    read_progress: ReadProgress | None = None,
) -> list[PartitionResult]:
    """`run_one` for each partition of `work.todo`, `config.workers` at a time; progress
    ticks every `config.progress_interval_sec`, with `read_progress` when the engine's
    progress is read here (else what the partitions' workers relayed). A partition not
    begun because `stopping()` turned true, and one whose attempt raised, get a result too."""
    todo = work.todo
    if not todo:
        return []
    with config.engine.begin() as conn:
        # Newest attempt last: a key maps to its newest attempt (attempt 1 here).
        ids = {p.partition_key: p.partition_execution_id for p in repo.partition_executions(conn, work.execution_id)}
    by_key = {p.key: p for p in todo}
    tracker = Tracker(
        work.job,
        work.execution_id,
        work.day,
        work.total,
        work.already,
        emit,
        read_progress=None if read_progress is None else lambda key: read_progress(by_key[key]),
    )

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
    partition event (local or relayed from a worker) and ticks progress for running ones,
    each tick with the engine's progress of its partition: `read_progress` (by partition
    key) when it is read here, else the latest a worker's PARTITION_PROGRESS relayed."""

    def __init__(
        self,
        job: str,
        execution_id: int,
        day: str,
        total: int,
        already: int,
        emit: Emit,
        *,
        read_progress: Callable[[str], str] | None = None,
    ) -> None:
        self.job, self.execution_id, self.day, self.total = job, execution_id, day, total
        self.done = already
        self.running: dict[str, float] = {}
        self.relayed: dict[str, str] = {}  # a running partition's latest progress from its worker
        self.read_progress = read_progress
        self.lock = threading.Lock()
        self.emit = emit

    def progress_of(self, key: str) -> str:
        if self.read_progress is not None:
            return self.read_progress(key)
        with self.lock:
            return self.relayed.get(key, "")

    def relay(self, event: JobEvent) -> None:
        if event.type is EventType.PARTITION_PROGRESS and event.status == BatchStatus.STARTED.name:
            # A worker's own tick: its message is what this coordinator's ticks carry.
            with self.lock:
                if event.partition_key in self.running and event.message:
                    self.relayed[event.partition_key] = event.message
            return
        if event.type in (EventType.PARTITION_FINISHED, EventType.PARTITION_FAILED):
            self._last_progress(event.partition_key)
        with self.lock:
            if event.type is EventType.PARTITION_STARTED:
                self.running[event.partition_key] = time.monotonic()
            elif event.type is EventType.PARTITION_FINISHED:
                self.running.pop(event.partition_key, None)
                self.done += 1
            elif event.type is EventType.PARTITION_FAILED or event.status == EventStatus.RETRYING:
                self.running.pop(event.partition_key, None)
            if event.partition_key not in self.running:
                self.relayed.pop(event.partition_key, None)
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

    def _last_progress(self, key: str) -> None:
        """The engine's last counts of a partition that ends, if it has any."""
        with self.lock:
            t0 = self.running.get(key)
        if t0 is not None:
            message = self.progress_of(key)
            if message:
                self._progress(key, int((time.monotonic() - t0) * 1000), message)

    def tick(self) -> None:
        with self.lock:
            ticks = [(key, int((time.monotonic() - t0) * 1000)) for key, t0 in self.running.items()]
        for key, elapsed in ticks:
            self._progress(key, elapsed, self.progress_of(key))

    def _progress(self, key: str, elapsed_ms: int, message: str) -> None:
        with self.lock:
            done = self.done
        self.emit(
            JobEvent(
                EventType.PARTITION_PROGRESS,
                self.job,
                job_execution_id=self.execution_id,
                day=self.day,
                partition_key=key,
                elapsed_ms=elapsed_ms,
                status=BatchStatus.STARTED.name,
                partitions_total=self.total,
                partitions_done=done,
                message=message,
            )
        )
