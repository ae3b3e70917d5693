"""The coordinator of a run: days in ascending order, one job instance each, and the stream
of events its caller reads.

A run covers days in ascending order (cumulative tiers carry forward, so a day needs the day
before it) and stops at the first day that fails. Per day: the launch transaction
(batch/jobs/launch.py), the stream-limit step keyed by viewer (batch/steps/streams.py, one
transaction), the partitions (batch/jobs/handlers.py, each in its own transaction),
then, once every partition completed, `finish_day` and COMPLETED in one transaction. After
the last day, the new figures are published (batch/jobs/publication.py) before the final
event: a caller that reads the final event reads the new figures from every read service.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from batch.jobs import launch as launching
from batch.jobs import repository as repo
from batch.jobs.clock import now_us
from batch.jobs.handlers import run_partitions
from batch.jobs.heartbeat import Heartbeat
from batch.jobs.model import REFUSED, BatchStatus, EventType, JobEvent
from batch.jobs.publication import Publication
from services.common.metrics import BATCH_JOBS_FAILED, BATCH_LAST_SUCCESS

if TYPE_CHECKING:
    from batch.jobs.runner import JobRunner

log = logging.getLogger(__name__)

# Catch-up passes: a pass can leave a day stale (a restart keeps an older watermark, or
# plays arrived meanwhile); the next pass recomputes it. Bounded for a constant trickle.
CATCH_UP_PASSES = 3

Emit = Callable[[JobEvent], None]


@dataclasses.dataclass(frozen=True)
class DayRange:
    first: dt.date
    last: dt.date

    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=i) for i in range((self.last - self.first).days + 1)]


@dataclasses.dataclass(frozen=True)
class CatchUp:
    through: dt.date


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
        return REFUSED if self.refused else self.status.name

    @property
    def label(self) -> str:
        return "refused" if self.refused else "skipped" if self.skipped else self.status.name.lower()


def event_stream(drive: Callable[[Emit], launching.JobAlreadyRunning | None], job: str) -> Iterator[JobEvent]:
    """Runs `drive` in a thread and returns its events. `drive` returns JobAlreadyRunning,
    before emitting anything, when the run's first day is refused: the stream raises it
    instead of a first event, so the caller sees the refusal as an error."""
    events: queue.Queue = queue.Queue()

    def driver() -> None:
        try:
            refusal = drive(events.put)
            if refusal is not None:
                events.put(refusal)
        except BaseException as exc:  # noqa: BLE001 - reported as the final event
            log.exception("job driver failed")
            BATCH_JOBS_FAILED.labels(job).inc()
            events.put(
                JobEvent(
                    EventType.JOB_FAILED,
                    job,
                    status=BatchStatus.FAILED.name,
                    message=f"{type(exc).__name__}: {exc}",
                    final=True,
                )
            )

    # A daemon thread: the job goes on to its end if the caller stops listening (a
    # cut RPC stream); a killed process is a crash that `recover` handles.
    threading.Thread(target=driver, name="job-driver", daemon=True).start()

    def generate() -> Iterator[JobEvent]:
        while True:
            item = events.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.final:
                return

    return generate()


class Coordinator:
    """One run of `job` over a DayRange or a CatchUp, for one JobRunner's settings."""

    def __init__(
        self, runner: JobRunner, job: str, plan: DayRange | CatchUp, *, rerun: bool, partitions: int | None
    ) -> None:
        self.runner, self.job, self.plan = runner, job, plan
        self.rerun, self.partitions = rerun, partitions
        self.outcomes: list[tuple[dt.date, DayOutcome]] = []

    def drive(self, emit: Emit) -> launching.JobAlreadyRunning | None:
        runner = self.runner
        publication = Publication.announce(
            runner.engine,
            runner.reader_max_age_ms,
            replicas=runner.replicas,
            replica_wait_sec=runner.replica_wait_sec,
        )
        failed = False
        if isinstance(self.plan, DayRange):
            with runner.engine.connect() as conn:
                stale = set(runner.steps.days_to_compute(conn, through=self.plan.last))
            failed = not self._run_days(self.plan.days(), stale.__contains__, emit)
        else:
            for _ in range(CATCH_UP_PASSES):
                with runner.engine.connect() as conn:
                    todo = runner.steps.days_to_compute(conn, through=self.plan.through)
                if not todo or failed:
                    break
                failed = not self._run_days(todo, lambda _day: True, emit)
        if len(self.outcomes) == 1 and self.outcomes[0][1].refused:
            return self.outcomes[0][1].refusal  # the caller's error: nothing was emitted
        computed = sorted({day for day, o in self.outcomes if o.ran})
        note = publication.publish(computed, runner.after_days_computed) if computed else ""
        final = self._final_event(failed, note)
        # Before the final event: whoever saw the job end sees its metrics too.
        if failed:
            BATCH_JOBS_FAILED.labels(self.job).inc()
        else:
            BATCH_LAST_SUCCESS.labels(self.job).set(time.time())
        emit(final)
        return None

    def _run_days(self, days: list[dt.date], is_stale: Callable[[dt.date], bool], emit: Emit) -> bool:
        """Runs days in order; False once one fails or a stop is asked (the rest wait)."""
        for day in days:
            if self.runner.stop_requested.is_set():
                self.outcomes.append((day, DayOutcome(BatchStatus.STOPPED, message="stopped before this day")))
                return False
            outcome = self._run_day(day, stale=is_stale(day), emit=emit)
            self.outcomes.append((day, outcome))
            if outcome.status is not BatchStatus.COMPLETED:
                return False
        return True

    def _run_day(self, day: dt.date, *, stale: bool, emit: Emit) -> DayOutcome:
        runner, job, day_s = self.runner, self.job, day.isoformat()
        launched = launching.launch(
            runner.engine,
            runner.steps,
            job,
            day,
            owner=runner.owner,
            rerun=self.rerun,
            stale=stale,
            partitions=self.partitions,
            default_partitions=runner.workers,
        )
        if isinstance(launched, launching.Refused):
            return DayOutcome(BatchStatus.FAILED, message=str(launched.error), refusal=launched.error)
        if isinstance(launched, launching.Skipped):
            emit(
                JobEvent(
                    EventType.JOB_SKIPPED,
                    job,
                    job_execution_id=launched.job_execution_id,
                    day=day_s,
                    status=BatchStatus.COMPLETED.name,
                    message=launched.message,
                    partitions_total=launched.partitions_total,
                    partitions_done=launched.partitions_total,
                )
            )
            return DayOutcome(
                BatchStatus.COMPLETED,
                launched.job_execution_id,
                partitions_total=launched.partitions_total,
                partitions_done=launched.partitions_total,
                message=launched.message,
                skipped=True,
            )
        execution_id, version = launched.job_execution_id, launched.version
        total, already = len(launched.plan), len(launched.plan) - len(launched.todo)
        # A day of a closed month: keep its figures as closed before any partition writes.
        with runner.engine.begin() as conn:
            runner.steps.freeze_closed_day(conn, day)
        emit(
            JobEvent(
                EventType.JOB_STARTED,
                job,
                job_execution_id=execution_id,
                day=day_s,
                status=BatchStatus.STARTED.name,
                message=launched.note,
                partitions_total=total,
                partitions_done=already,
            )
        )
        beat = Heartbeat(runner.engine, execution_id, runner.heartbeat_interval_sec)
        beat.start()
        started = time.monotonic()
        stream_read: int | None = None
        try:
            if launched.todo:
                # DESIGN 2 "Counted view" 5 needs all of a viewer's videos at once: the
                # viewer-keyed step writes the day's plays over the stream limit, here in the
                # coordinator's process, before any partition (local or dispatched to a
                # worker instance) reads them (batch/steps/streams.py).
                with runner.engine.begin() as conn:
                    streams = runner.steps.compute_stream_limit(conn, day, zone=runner.zone)
                # A restart keeps partitions completed against the previous rows: if the
                # rows changed, nothing proves those partitions' figures right, and the day
                # is recorded stale (no count) to be recomputed whole.
                stream_read = None if already and streams.changed else streams.plays_read
            results = run_partitions(
                runner,
                job,
                day,
                execution_id,
                launched.todo,
                total=total,
                already=already,
                stopping=lambda: runner.stop_requested.is_set() or beat.lost.is_set(),
                emit=emit,
            )
        except Exception as exc:
            self._fail_quietly(execution_id, version, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            beat.stop()
        failures = [r for r in results if r.error is not None]
        done = already + sum(1 for r in results if r.completed)
        outcome = DayOutcome(
            BatchStatus.COMPLETED,
            execution_id,
            sum(r.rows_read for r in results),
            sum(r.rows_written for r in results),
            total,
            done,
        )
        try:
            if failures or done < total:
                if failures:
                    status = BatchStatus.FAILED
                    message = f"partition {failures[0].key} failed: {failures[0].error}"
                    if len(failures) > 1:
                        message += f" (and {len(failures) - 1} more partition(s) failed)"
                elif beat.lost.is_set():
                    status, message = BatchStatus.FAILED, "execution was declared crashed by recover while running"
                else:
                    status, message = BatchStatus.STOPPED, "stopped on request; restart runs the remaining partitions"
                with runner.engine.begin() as conn:
                    repo.stop_partitions(conn, execution_id, now_us())
                    repo.end_execution(conn, execution_id, version, status, message, now_us())
                outcome.status, outcome.message = status, message
            else:
                with runner.engine.begin() as conn:
                    # What the day's partitions read, each in the transaction of its writes:
                    # the exact late-data check (batch/steps/days.py).
                    plays_read = repo.plays_read(
                        conn, [execution_id, *launched.continued], [p.key for p in launched.plan]
                    )
                    if launched.todo and stream_read is None:
                        plays_read = None
                    elif plays_read is not None and stream_read is not None:
                        # A play the partitions read but the stream-limit step did not see
                        # leaves the day stale (batch/steps/streams.py).
                        plays_read = min(plays_read, stream_read)
                    runner.steps.finish_day(
                        conn,
                        day,
                        play_id_watermark=launched.play_id_watermark,
                        plays_read=plays_read,
                        job_execution_id=execution_id,
                    )
                    repo.end_execution(conn, execution_id, version, BatchStatus.COMPLETED, None, now_us())
                outcome.message = f"completed ({launched.kind.value.lower()} run)"
        except repo.LostUpdate as exc:
            outcome.status, outcome.message = BatchStatus.FAILED, str(exc)
        except Exception as exc:
            self._fail_quietly(execution_id, version, f"{type(exc).__name__}: {exc}")
            raise
        event_type = EventType.JOB_FINISHED if outcome.status is BatchStatus.COMPLETED else EventType.JOB_FAILED
        emit(
            JobEvent(
                event_type,
                job,
                job_execution_id=execution_id,
                day=day_s,
                rows_read=outcome.rows_read,
                rows_written=outcome.rows_written,
                elapsed_ms=int((time.monotonic() - started) * 1000),
                status=outcome.status.name,
                message=outcome.message,
                partitions_total=total,
                partitions_done=done,
            )
        )
        return outcome

    def _fail_quietly(self, execution_id: int, version: int, message: str) -> None:
        """Best effort after an unexpected error (the database may be what failed): end the
        execution FAILED so it is restartable; if even that fails, its heartbeat stops and
        `recover` finds it stale."""
        try:
            with self.runner.engine.begin() as conn:
                repo.stop_partitions(conn, execution_id, now_us())
                repo.end_execution(conn, execution_id, version, BatchStatus.FAILED, message, now_us())
        except Exception:  # noqa: BLE001 - already failing; the original error is raised
            log.exception("could not mark execution %s failed", execution_id)

    def _final_event(self, failed: bool, note: str) -> JobEvent:
        plan, outcomes, job = self.plan, self.outcomes, self.job
        if isinstance(plan, DayRange):
            span = str(plan.first) if plan.first == plan.last else f"{plan.first}..{plan.last}"
        else:
            span = f"..{plan.through}"
        counts: dict[str, int] = {}
        for _, o in outcomes:
            counts[o.label] = counts.get(o.label, 0) + 1
        summary = ", ".join(f"{n} {label}" for label, n in sorted(counts.items())) or "nothing to do"
        if not outcomes and isinstance(plan, CatchUp):
            summary = f"nothing to compute: every day up to {plan.through} is up to date"
        rows_read = sum(o.rows_read for _, o in outcomes)
        rows_written = sum(o.rows_written for _, o in outcomes)
        last_id = next((o.job_execution_id for _, o in reversed(outcomes) if o.job_execution_id), 0)
        if failed:
            day, bad = outcomes[-1]
            return JobEvent(
                EventType.JOB_FAILED,
                job,
                job_execution_id=bad.job_execution_id or last_id,
                day=span,
                rows_read=rows_read,
                rows_written=rows_written,
                status=bad.event_status,
                message=f"{day}: {bad.message} ({summary}){note}",
                partitions_total=bad.partitions_total,
                partitions_done=bad.partitions_done,
                final=True,
            )
        return JobEvent(
            EventType.JOB_FINISHED,
            job,
            job_execution_id=last_id,
            day=span,
            rows_read=rows_read,
            rows_written=rows_written,
            status=BatchStatus.COMPLETED.name,
            message=f"{len(outcomes)} day(s): {summary}{note}",
            partitions_total=sum(o.partitions_total for _, o in outcomes),
            partitions_done=sum(o.partitions_done for _, o in outcomes),
            final=True,
        )
