"""The partitions of one day's execution, `workers` at a time: in this process's thread pool,
or, with a dispatcher, each on a worker instance behind Envoy (batch/jobs/dispatch.py)."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from batch.jobs import repository as repo
from batch.jobs.dispatch import run_dispatched
from batch.jobs.model import RETRYING, BatchStatus, EventType, JobEvent, Partition
from batch.jobs.worker import PartitionResult, run_partition_attempt

if TYPE_CHECKING:
    from batch.jobs.runner import JobRunner


def run_partitions(
    runner: JobRunner,
    job: str,
    day: dt.date,
    execution_id: int,
    todo: tuple[Partition, ...],
    *,
    total: int,
    already: int,
    stopping: Callable[[], bool],
    emit: Callable[[JobEvent], None],
) -> list[PartitionResult]:
    """One result per partition of `todo`, in its order. A partition not begun because
    `stopping()` turned true has neither `completed` nor `error`."""
    if not todo:
        return []
    with runner.engine.begin() as conn:
        # Newest attempt last: a key maps to its newest attempt (attempt 1 here).
        ids = {p.partition_key: p.partition_execution_id for p in repo.partition_executions(conn, execution_id)}
    tracker = Tracker(job, execution_id, day.isoformat(), total, already, emit)

    def work(p: Partition) -> PartitionResult:
        if stopping():
            return PartitionResult(p.key)
        if runner.dispatcher is None:
            worker = f"{runner.owner}/{threading.current_thread().name}"
            return run_partition_attempt(
                runner.engine, runner.steps, runner.zone, ids[p.key], worker=worker, emit=tracker.relay
            )
        return run_dispatched(
            runner.engine,
            runner.dispatcher,
            job,
            p,
            ids[p.key],
            relay=tracker.relay,
            stopping=stopping,
            attempts=runner.partition_attempts,
            backoff_sec=runner.retry_backoff_sec,
        )

    with concurrent.futures.ThreadPoolExecutor(
        max_workers=min(runner.workers, len(todo)), thread_name_prefix=f"partition-{day.isoformat()}"
    ) as pool:
        futures = [pool.submit(work, p) for p in todo]
        pending = set(futures)
        while pending:
            _, pending = concurrent.futures.wait(pending, timeout=runner.progress_interval_sec)
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

    def __init__(self, job: str, execution_id: int, day: str, total: int, already: int, emit) -> None:
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
            elif event.type is EventType.PARTITION_FAILED or event.status == RETRYING:
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
