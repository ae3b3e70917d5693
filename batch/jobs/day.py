"""One day's execution, once launched: the coordinator's steps for a day whose instance has
partitions to run (or none left, after a restart) and holds the launch guard.

In order: the freeze of a closed day, JOB_STARTED, then with the heartbeat running the
stream-limit step keyed by viewer (batch/steps/streams.py, one transaction, BEFORE any
partition; its progress ticks as the day's PARTITION_PROGRESS events without a partition
key, `StreamLimitTicks`) and the partitions (a PartitionHandler, each in its own transaction); then the
day's status, the worst of its partitions' (`BatchStatus.worst`): COMPLETED ends the day
with `finish_day` and COMPLETED in one transaction; otherwise the day ends FAILED or
STOPPED, restartable. The day's last event is JOB_FINISHED or JOB_FAILED.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from types import ModuleType

from batch.jobs import launch as launching
from batch.jobs import repository as repo
from batch.jobs.clock import now_us
from batch.jobs.config import CoordinationConfig
from batch.jobs.handlers import DayPartitions, PartitionHandler
from batch.jobs.heartbeat import Heartbeat
from batch.jobs.model import BatchStatus, EventStatus, EventType, JobEvent, PartitionResult
from batch.jobs.worker import engine_stream_progress

log = logging.getLogger(__name__)

Emit = Callable[[JobEvent], None]


@dataclasses.dataclass
class DayOutcome:
    """How one day of a run ended. `status` is COMPLETED, FAILED or STOPPED; a skipped day
    (completed earlier, nothing ran) is COMPLETED, a refused one FAILED."""

    status: BatchStatus
    job_execution_id: int = 0
    rows_read: int = 0
    rows_written: int = 0
    partitions_total: int = 0
    partitions_done: int = 0
    message: str = ""
    skipped: bool = False
    refusal: launching.JobAlreadyRunning | None = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    @property
    def ran(self) -> bool:
        return self.status is BatchStatus.COMPLETED and not self.skipped

    @property
    def event_status(self) -> str:
        return EventStatus.REFUSED.value if self.refused else self.status.name

    @property
    def label(self) -> str:
        return "refused" if self.refused else "skipped" if self.skipped else self.status.name.lower()


class DayExecution:
    """The steps of one launched day (`run`), for one coordinator's settings."""

    def __init__(
        self,
        config: CoordinationConfig,
        handler: PartitionHandler,
        job: str,
        day: dt.date,
        launched: launching.Launched,
        *,
        stop_requested: threading.Event,
        emit: Emit,
    ) -> None:
        self.config, self.handler, self.job, self.day, self.launched = config, handler, job, day, launched
        self.stop_requested, self.emit = stop_requested, emit
        self.execution_id, self.version = launched.job_execution_id, launched.version
        self.total = len(launched.plan)
        self.already = len(launched.plan) - len(launched.todo)
        self.beat = Heartbeat(config.engine, self.execution_id, config.heartbeat_interval_sec)
        self.started = 0.0

    def run(self) -> DayOutcome:
        self._freeze_closed_day()
        self._emit(EventType.JOB_STARTED, BatchStatus.STARTED.name, self.launched.note, partitions_done=self.already)
        results, stream_read = self._compute()
        done = self.already + sum(1 for r in results if r.completed)
        outcome = DayOutcome(
            BatchStatus.COMPLETED,
            self.execution_id,
            sum(r.rows_read for r in results),
            sum(r.rows_written for r in results),
            self.total,
            done,
        )
        self._conclude(outcome, results, stream_read)
        event_type = EventType.JOB_FINISHED if outcome.status is BatchStatus.COMPLETED else EventType.JOB_FAILED
        self._emit(
            event_type,
            outcome.status.name,
            outcome.message,
            partitions_done=done,
            rows_read=outcome.rows_read,
            rows_written=outcome.rows_written,
            elapsed_ms=int((time.monotonic() - self.started) * 1000),
        )
        return outcome

    def _freeze_closed_day(self) -> None:
        """A day of a closed month: keep its figures as closed before any partition writes."""
        with self.config.engine.begin() as conn:
            self.config.steps.freeze_closed_day(conn, self.day)

    def _compute(self) -> tuple[list[PartitionResult], int | None]:
        """With the heartbeat running: the stream-limit step, then the partitions. Returns
        the partitions' results and the plays the stream-limit step read (None: unknown)."""
        self.beat.start()
        self.started = time.monotonic()
        try:
            stream_read = self._stream_limit() if self.launched.todo else None
            results = self.handler.handle(
                DayPartitions(
                    self.job, self.day.isoformat(), self.execution_id, self.launched.todo, self.total, self.already
                ),
                stopping=lambda: self.stop_requested.is_set() or self.beat.lost.is_set(),
                emit=self.emit,
            )
        except Exception as exc:
            self.fail_quietly(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.beat.stop()
        return results, stream_read

    def _stream_limit(self) -> int | None:
        """DESIGN 2 "Counted view" 5 needs all of a viewer's videos at once: the viewer-keyed
        step writes the day's plays over the stream limit, here in the coordinator's process,
        before any partition (local or dispatched to a worker instance) reads them
        (batch/steps/streams.py). Returns the plays it read, or None when a restart's
        completed partitions read other rows than it wrote now. Its progress ticks
        meanwhile, from a side thread: the step itself stays in this thread and transaction."""
        config = self.config
        with StreamLimitTicks(config.steps, self.day, config.progress_interval_sec, self._stream_tick):
            with config.engine.begin() as conn:
                streams = config.steps.compute_stream_limit(conn, self.day, zone=config.zone)
        # A restart keeps partitions completed against the previous rows: if the rows
        # changed, nothing proves those partitions' figures right, and the day is recorded
        # stale (no count) to be recomputed whole.
        return None if self.already and streams.changed else int(streams.plays_read)

    def _stream_tick(self, elapsed_ms: int, message: str) -> None:
        """The stream-limit step's progress: the day's PARTITION_PROGRESS without a partition key."""
        self._emit(
            EventType.PARTITION_PROGRESS,
            BatchStatus.STARTED.name,
            message,
            partitions_done=self.already,
            elapsed_ms=elapsed_ms,
        )

    def _status(self, results: list[PartitionResult]) -> BatchStatus:
        """The worst of the partitions' statuses. A partition not begun is STOPPED (on
        request), or FAILED when `recover` declared the execution crashed under us."""
        not_begun = BatchStatus.FAILED if self.beat.lost.is_set() else BatchStatus.STOPPED
        return BatchStatus.worst(r.status(not_begun=not_begun) for r in results)

    def _conclude(self, outcome: DayOutcome, results: list[PartitionResult], stream_read: int | None) -> None:
        """Ends the execution with the day's status; sets the outcome's status and message."""
        status = self._status(results)
        try:
            if status is BatchStatus.COMPLETED:
                self._finish(stream_read)
                outcome.message = f"completed ({self.launched.kind.value.lower()} run)"
            else:
                outcome.status, outcome.message = status, self._unfinished_message(results)
                with self.config.engine.begin() as conn:
                    repo.stop_partitions(conn, self.execution_id, now_us())
                    repo.end_execution(conn, self.execution_id, self.version, status, outcome.message, now_us())
        except repo.LostUpdate as exc:
            outcome.status, outcome.message = BatchStatus.FAILED, str(exc)
        except Exception as exc:
            self.fail_quietly(f"{type(exc).__name__}: {exc}")
            raise

    def _unfinished_message(self, results: list[PartitionResult]) -> str:
        failures = [r for r in results if r.error is not None]
        if failures:
            message = f"partition {failures[0].key} failed: {failures[0].error}"
            if len(failures) > 1:
                message += f" (and {len(failures) - 1} more partition(s) failed)"
            return message
        if self.beat.lost.is_set():
            return "execution was declared crashed by recover while running"
        return "stopped on request; restart runs the remaining partitions"

    def _finish(self, stream_read: int | None) -> None:
        """`finish_day` and COMPLETED, in one transaction."""
        launched = self.launched
        with self.config.engine.begin() as conn:
            # What the day's partitions read, each in the transaction of its writes:
            # the exact late-data check (batch/steps/days.py).
            plays_read = repo.plays_read(conn, [self.execution_id, *launched.continued], [p.key for p in launched.plan])
            if launched.todo and stream_read is None:
                plays_read = None
            elif plays_read is not None and stream_read is not None:
                # A play the partitions read but the stream-limit step did not see
                # leaves the day stale (batch/steps/streams.py).
                plays_read = min(plays_read, stream_read)
            self.config.steps.finish_day(
                conn,
                self.day,
                play_id_watermark=launched.play_id_watermark,
                plays_read=plays_read,
                job_execution_id=self.execution_id,
            )
            repo.end_execution(conn, self.execution_id, self.version, BatchStatus.COMPLETED, None, now_us())

    def fail_quietly(self, message: str) -> None:
        """Best effort after an unexpected error (the database may be what failed): end the
        execution FAILED so it is restartable; if even that fails, its heartbeat stops and
        `recover` finds it stale."""
        try:
            with self.config.engine.begin() as conn:
                repo.stop_partitions(conn, self.execution_id, now_us())
                repo.end_execution(conn, self.execution_id, self.version, BatchStatus.FAILED, message, now_us())
        except Exception:  # noqa: BLE001 - already failing; the original error is raised
            log.exception("could not mark execution %s failed", self.execution_id)

    def _emit(
        self,
        type_: EventType,
        status: str,
        message: str,
        *,
        partitions_done: int,
        rows_read: int = 0,
        rows_written: int = 0,
        elapsed_ms: int = 0,
    ) -> None:
        self.emit(
            JobEvent(
                type_,
                self.job,
                job_execution_id=self.execution_id,
                day=self.day.isoformat(),
                rows_read=rows_read,
                rows_written=rows_written,
                elapsed_ms=elapsed_ms,
                status=status,
                message=message,
                partitions_total=self.total,
                partitions_done=partitions_done,
            )
        )


class StreamLimitTicks:
    """While the day's stream-limit step runs (in the coordinator's thread, one transaction):
    from a side thread, every `interval_sec`, `tick(elapsed_ms, message)` with the engine's
    progress of the step (the Spark engine's tasks, stages and rows read; "" from the SQL
    engine, whose ticks say the elapsed time only); as the step ends, the engine's last
    counts once more if it has any, as a partition's come just before its outcome."""

    def __init__(self, steps: ModuleType, day: dt.date, interval_sec: float, tick: Callable[[int, str], None]) -> None:
        self.steps, self.day, self.interval_sec, self.tick = steps, day, interval_sec, tick
        self._t0 = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"stream-limit-{day}", daemon=True)

    def __enter__(self) -> StreamLimitTicks:
        self._t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()  # no tick after the last counts
        last = engine_stream_progress(self.steps, self.day)
        if last:
            self.tick(self._elapsed_ms(), last)

    def _elapsed_ms(self) -> int:
        return int((time.monotonic() - self._t0) * 1000)

    def _loop(self) -> None:
        while not self._done.wait(self.interval_sec):
            self.tick(self._elapsed_ms(), engine_stream_progress(self.steps, self.day))
