"""The coordinator of a run: days in ascending order, one job instance each, and the stream
of events its caller reads.

A run covers days in ascending order (cumulative tiers carry forward, so a day needs the day
before it) and stops at the first day that fails. Per day: the launch transaction
(batch/jobs/launch.py), then, for a launched day, its execution (batch/jobs/day.py): the
stream-limit step keyed by viewer (batch/steps/streams.py, one transaction), the partitions
(a PartitionHandler, batch/jobs/handlers.py, each in its own transaction), then, once every
partition completed, `finish_day` and COMPLETED in one transaction. The run's status is the
worst of its days' (`BatchStatus.worst`). After the last day, the new figures are published
(batch/jobs/publication.py) before the final event: a caller that reads the final event
reads the new figures from every read service.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

from batch.jobs import launch as launching
from batch.jobs.config import CoordinationConfig
from batch.jobs.day import DayExecution, DayOutcome
from batch.jobs.handlers import PartitionHandler
from batch.jobs.model import BatchStatus, EventType, JobEvent
from batch.jobs.publication import Publication
from services.common.metrics import BATCH_JOBS_FAILED, BATCH_LAST_SUCCESS

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


def event_stream(drive: Callable[[Emit], launching.JobAlreadyRunning | None], job: str) -> Iterator[JobEvent]:
    """Runs `drive` in a thread and returns its events. `drive` returns JobAlreadyRunning,
    before emitting anything, when the run's first day is refused: the stream raises it
    instead of a first event, so the caller sees the refusal as an error."""
    events: queue.Queue[JobEvent | launching.JobAlreadyRunning] = queue.Queue()

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
    """One run of `job` over a DayRange or a CatchUp, with one runner's configuration, its
    partition handler and its stop request."""

    def __init__(
        self,
        config: CoordinationConfig,
        handler: PartitionHandler,
        job: str,
        plan: DayRange | CatchUp,
        *,
        rerun: bool,
        partitions: int | None,
        stop_requested: threading.Event,
    ) -> None:
        self.config, self.handler, self.job, self.plan = config, handler, job, plan
        self.rerun, self.partitions = rerun, partitions
        self.stop_requested = stop_requested
        self.outcomes: list[tuple[dt.date, DayOutcome]] = []

    @property
    def status(self) -> BatchStatus:
        """The run's status so far: the worst of its days' (COMPLETED before any day)."""
        return BatchStatus.worst(o.status for _, o in self.outcomes)

    def drive(self, emit: Emit) -> launching.JobAlreadyRunning | None:
        config = self.config
        publication = Publication.announce(
            config.engine,
            config.reader_max_age_ms,
            replicas=config.replicas,
            replica_wait_sec=config.replica_wait_sec,
        )
        self._run_plan(emit)
        if len(self.outcomes) == 1 and self.outcomes[0][1].refused:
            return self.outcomes[0][1].refusal  # the caller's error: nothing was emitted
        failed = self.status is not BatchStatus.COMPLETED
        computed = sorted({day for day, o in self.outcomes if o.ran})
        note = publication.publish(computed, config.after_days_computed) if computed else ""
        final = self._final_event(failed, note)
        # Before the final event: whoever saw the job end sees its metrics too.
        if failed:
            BATCH_JOBS_FAILED.labels(self.job).inc()
        else:
            BATCH_LAST_SUCCESS.labels(self.job).set(time.time())
        emit(final)
        return None

    def _run_plan(self, emit: Emit) -> None:
        """A DayRange's days (those stale or never computed run again), or CatchUp passes
        over every day to compute, until none is left, a day fails, or the passes run out."""
        steps, engine = self.config.steps, self.config.engine
        if isinstance(self.plan, DayRange):
            with engine.connect() as conn:
                stale = set(steps.days_to_compute(conn, through=self.plan.last))
            self._run_days(self.plan.days(), stale.__contains__, emit)
            return
        for _ in range(CATCH_UP_PASSES):
            with engine.connect() as conn:
                todo = steps.days_to_compute(conn, through=self.plan.through)
            if not todo or self.status is not BatchStatus.COMPLETED:
                break
            self._run_days(todo, lambda _day: True, emit)

    def _run_days(self, days: list[dt.date], is_stale: Callable[[dt.date], bool], emit: Emit) -> None:
        """Runs days in order, until one does not complete or a stop is asked (the rest wait)."""
        for day in days:
            if self.stop_requested.is_set():
                self.outcomes.append((day, DayOutcome(BatchStatus.STOPPED, message="stopped before this day")))
                return
            outcome = self._run_day(day, stale=is_stale(day), emit=emit)
            self.outcomes.append((day, outcome))
            if outcome.status is not BatchStatus.COMPLETED:
                return

    def _run_day(self, day: dt.date, *, stale: bool, emit: Emit) -> DayOutcome:
        """The launch transaction, then the day's execution (batch/jobs/day.py), unless the
        launch was refused (another execution holds the guard) or skipped (completed)."""
        config = self.config
        launched = launching.launch(
            config.engine,
            config.steps,
            self.job,
            day,
            owner=config.owner,
            rerun=self.rerun,
            stale=stale,
            partitions=self.partitions,
            default_partitions=config.workers,
        )
        if isinstance(launched, launching.Refused):
            return DayOutcome(BatchStatus.FAILED, message=str(launched.error), refusal=launched.error)
        if isinstance(launched, launching.Skipped):
            return self._skip(day, launched, emit)
        day_execution = DayExecution(
            config, self.handler, self.job, day, launched, stop_requested=self.stop_requested, emit=emit
        )
        return day_execution.run()

    def _skip(self, day: dt.date, skipped: launching.Skipped, emit: Emit) -> DayOutcome:
        emit(
            JobEvent(
                EventType.JOB_SKIPPED,
                self.job,
                job_execution_id=skipped.job_execution_id,
                day=day.isoformat(),
                status=BatchStatus.COMPLETED.name,
                message=skipped.message,
                partitions_total=skipped.partitions_total,
                partitions_done=skipped.partitions_total,
            )
        )
        return DayOutcome(
            BatchStatus.COMPLETED,
            skipped.job_execution_id,
            partitions_total=skipped.partitions_total,
            partitions_done=skipped.partitions_total,
            message=skipped.message,
            skipped=True,
        )

    def _final_event(self, failed: bool, note: str) -> JobEvent:
        plan, outcomes, job = self.plan, self.outcomes, self.job
        # The days the run covered (a catch-up: those it computed), as dates: `day` is the last.
        if isinstance(plan, DayRange):
            first_day, last_day = str(plan.first), str(plan.last)
        else:
            days = sorted(str(day) for day, _ in outcomes)
            first_day, last_day = (days[0], days[-1]) if days else ("", "")
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
                day=last_day,
                first_day=first_day,
                last_day=last_day,
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
            day=last_day,
            first_day=first_day,
            last_day=last_day,
            rows_read=rows_read,
            rows_written=rows_written,
            status=BatchStatus.COMPLETED.name,
            message=f"{len(outcomes)} day(s): {summary}{note}",
            partitions_total=sum(o.partitions_total for _, o in outcomes),
            partitions_done=sum(o.partitions_done for _, o in outcomes),
            final=True,
        )
