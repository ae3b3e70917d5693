"""The worker side: one partition attempt, run in this process's thread pool or for a
coordinator's RunPartition call.

An attempt is claimed (STARTING -> STARTED) and then computed: the partition's writes and its
COMPLETED mark commit in one transaction, and only if the attempt is still STARTED, so a
coordinator that failed the attempt meanwhile (a lost stream, `recover`) fences it off.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.jobs import repository as repo
from batch.jobs.clock import now_us
from batch.jobs.model import BatchStatus, EventType, JobEvent, PartitionResult, PartitionWork
from domain.errors import NotReady
from services.common import db
from services.common.metrics import BATCH_PARTITIONS, BATCH_ROWS
from services.common.settings import Settings

log = logging.getLogger(__name__)


def load_steps(settings: Settings | None = None) -> ModuleType:
    """The compute core, imported when first needed: batch.steps (the SQL engine), or
    batch.spark.steps configured with `settings` when they say PAYSYSTEM_BATCH_ENGINE=spark
    (same API, same figures: docs/scaling.md "Two batch engines")."""
    if settings is not None and settings.batch_engine == "spark":
        from batch.spark.session import require_spark

        require_spark(settings)  # what is missing in one line, before pyspark is imported
        import batch.spark.steps

        batch.spark.steps.configure(settings)
        return batch.spark.steps
    import batch.steps

    return batch.steps


def claim_partition(engine: sa.Engine, partition_execution_id: int, *, worker: str) -> PartitionWork:
    """STARTING -> STARTED with the worker's name; raises NotFound, or NotReady
    when the attempt is not STARTING (already run, failed by recover, or stopped)."""
    with engine.begin() as conn:
        work = repo.partition_work(conn, partition_execution_id)
        try:
            repo.start_partition(conn, partition_execution_id, worker=worker, now_us=now_us())
        except repo.LostUpdate:
            raise NotReady(
                f"partition execution {partition_execution_id} ({work.partition_key}, attempt {work.attempt})"
                f" is {work.status.name}, not STARTING: it cannot be run again"
            ) from None
    return work


def compute_partition(
    engine: sa.Engine,
    steps: ModuleType,
    zone: ZoneInfo,
    work: PartitionWork,
    *,
    worker: str,
    emit: Callable[[JobEvent], None],
) -> PartitionResult:
    """Runs a claimed attempt: the partition's writes and its COMPLETED mark in one
    transaction (committed only if the attempt is still STARTED); an error rolls the writes
    back and marks it FAILED. Emits PARTITION_STARTED, then PARTITION_FINISHED or _FAILED."""
    day = dt.date.fromisoformat(work.parameters["date"])
    where = f"videos [{work.video_id_lo}, {work.video_id_hi}) on {worker}"
    if work.attempt > 1:
        where += f", attempt {work.attempt}"
    t0 = time.monotonic()
    emit(_partition_event(work, day, EventType.PARTITION_STARTED, BatchStatus.STARTED, message=where))
    try:
        # Partitions of one day upsert neighbouring keys of the same tables at once: InnoDB may
        # pick one as a deadlock victim, rolled back whole, so it is simply run again.
        rows_read, rows_written = db.retried_after_deadlock(
            lambda: _compute_and_complete(engine, steps, zone, work, day)
        )
    except Exception as exc:  # noqa: BLE001 - recorded on the partition and reported
        error = str(exc) if isinstance(exc, steps.BadPlayRow) else f"{type(exc).__name__}: {exc}"
        _record_failure(engine, work, day, error)
        elapsed_ms = int((time.monotonic() - t0) * 1000)
        emit(
            _partition_event(
                work, day, EventType.PARTITION_FAILED, BatchStatus.FAILED, elapsed_ms=elapsed_ms, message=error
            )
        )
        return PartitionResult(work.partition_key, error=error)
    BATCH_PARTITIONS.labels(work.job_name, BatchStatus.COMPLETED.name).inc()
    BATCH_ROWS.labels(work.job_name).inc(rows_written)
    emit(
        _partition_event(
            work,
            day,
            EventType.PARTITION_FINISHED,
            BatchStatus.COMPLETED,
            rows_read=rows_read,
            rows_written=rows_written,
            elapsed_ms=int((time.monotonic() - t0) * 1000),
            message=where,
        )
    )
    return PartitionResult(work.partition_key, completed=True, rows_read=rows_read, rows_written=rows_written)


def _compute_and_complete(
    engine: sa.Engine, steps: ModuleType, zone: ZoneInfo, work: PartitionWork, day: dt.date
) -> tuple[int, int]:
    """The partition's writes and its COMPLETED mark, in one transaction: (rows read, rows written)."""
    with engine.begin() as conn:
        counts = steps.compute_day_partition(
            conn, day, work.video_id_lo, work.video_id_hi, zone=zone, job_execution_id=work.job_execution_id
        )
        repo.complete_partition(
            conn,
            work.partition_execution_id,
            rows_read=counts.rows_read,
            rows_written=counts.rows_written,
            now_us=now_us(),
        )
    return int(counts.rows_read), int(counts.rows_written)


def _record_failure(engine: sa.Engine, work: PartitionWork, day: dt.date, error: str) -> None:
    """Marks the attempt FAILED with `error` (best effort) and counts it."""
    log.warning("partition %s of %s failed: %s", work.partition_key, day, error)
    try:
        with engine.begin() as conn:
            repo.fail_partition(conn, work.partition_execution_id, error=error, now_us=now_us())
    except Exception:  # noqa: BLE001 - the database may be the problem; recover covers it
        log.exception("could not record the failure of partition %s", work.partition_key)
    BATCH_PARTITIONS.labels(work.job_name, BatchStatus.FAILED.name).inc()


def _partition_event(
    work: PartitionWork,
    day: dt.date,
    type_: EventType,
    status: BatchStatus,
    *,
    rows_read: int = 0,
    rows_written: int = 0,
    elapsed_ms: int = 0,
    message: str = "",
) -> JobEvent:
    return JobEvent(
        type_,
        work.job_name,
        job_execution_id=work.job_execution_id,
        day=day.isoformat(),
        partition_key=work.partition_key,
        rows_read=rows_read,
        rows_written=rows_written,
        elapsed_ms=elapsed_ms,
        status=status.name,
        message=message,
    )


def run_partition_attempt(
    engine: sa.Engine,
    steps: ModuleType,
    zone: ZoneInfo,
    partition_execution_id: int,
    *,
    worker: str,
    emit: Callable[[JobEvent], None],
) -> PartitionResult:
    """Claims and runs one partition attempt (the local thread pool's unit of work)."""
    work = claim_partition(engine, partition_execution_id, worker=worker)
    return compute_partition(engine, steps, zone, work, worker=worker, emit=emit)


def engine_progress(steps: ModuleType, day: dt.date, video_id_lo: int, video_id_hi: int) -> str:
    """The engine's own progress of a partition's computation (the Spark engine's tasks,
    stages and rows read), "" if it has none: the message of its PARTITION_PROGRESS events,
    here for a dispatched attempt and in batch/jobs/handlers.py for the local pool's."""
    return _informative(getattr(steps, "progress", None), day, video_id_lo, video_id_hi)


def engine_stream_progress(steps: ModuleType, day: dt.date) -> str:
    """The engine's own progress of the day's stream-limit step, "" if it has none (the SQL
    engine): the message of the day's PARTITION_PROGRESS events without a partition key
    (batch/jobs/day.py)."""
    return _informative(getattr(steps, "stream_progress", None), day)


def _informative(progress: Callable[..., object] | None, day: dt.date, *where: int) -> str:
    if progress is None:
        return ""
    try:
        return str(progress(day, *where))
    except Exception:  # noqa: BLE001 - progress is informative, never fatal
        log.debug("no engine progress for %s %s", day, where, exc_info=True)
        return ""


def _progress_event(work: PartitionWork, steps: ModuleType, *, elapsed_ms: int) -> JobEvent:
    """A running attempt's PARTITION_PROGRESS, with the engine's progress as its message."""
    day = dt.date.fromisoformat(work.parameters["date"])
    return _partition_event(
        work,
        day,
        EventType.PARTITION_PROGRESS,
        BatchStatus.STARTED,
        elapsed_ms=elapsed_ms,
        message=engine_progress(steps, day, work.video_id_lo, work.video_id_hi),
    )


def run_partition_stream(
    engine: sa.Engine,
    zone: ZoneInfo,
    partition_execution_id: int,
    *,
    worker: str,
    steps: ModuleType | None = None,
    progress_interval_sec: float = 2.0,
) -> Iterator[JobEvent]:
    """RunPartition's work: claims the attempt now (NotFound / NotReady are raised
    before any event), then returns its events: PARTITION_STARTED, PARTITION_PROGRESS every
    `progress_interval_sec` (which also keeps the stream through Envoy from going idle) with
    the engine's progress (`engine_progress`), the engine's last counts just before the
    outcome, and PARTITION_FINISHED or PARTITION_FAILED with final=True. The attempt runs in its own
    thread and goes on to its end if the caller goes away: its COMPLETED mark commits only if
    the coordinator has not failed the attempt meanwhile."""
    steps = steps or load_steps()
    work = claim_partition(engine, partition_execution_id, worker=worker)
    events: queue.Queue[JobEvent | BaseException | None] = queue.Queue()  # None: the end

    def target() -> None:
        try:
            compute_partition(engine, steps, zone, work, worker=worker, emit=events.put)
        except BaseException as exc:  # noqa: BLE001 - ends the stream with an error status
            log.exception("partition attempt %s failed unexpectedly", partition_execution_id)
            events.put(exc)
        finally:
            events.put(None)

    threading.Thread(target=target, name=f"attempt-{partition_execution_id}", daemon=True).start()
    t0 = time.monotonic()

    def progress_event() -> JobEvent:
        return _progress_event(work, steps, elapsed_ms=int((time.monotonic() - t0) * 1000))

    def generate() -> Iterator[JobEvent]:
        while True:
            try:
                item = events.get(timeout=progress_interval_sec)
            except queue.Empty:
                yield progress_event()
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            if item.type in (EventType.PARTITION_FINISHED, EventType.PARTITION_FAILED):
                last = progress_event()
                if last.message:  # the engine's final counts, before the outcome
                    yield last
                item = dataclasses.replace(item, final=True)
            yield item

    return generate()
