"""Launches job instances, runs their partitions in parallel, and recovers crashed executions.

The one job is "daily" with the identifying parameter date=YYYY-MM-DD: one instance per local
day. A run covers days in ascending order (cumulative tiers carry forward, so a day needs
the day before it) and stops at the first day that fails. Per day:

1. launch, in one transaction: insert the execution row (this takes the instance's launch
   guard, see tables.job_execution.running_instance_id: a second concurrent launch fails its
   insert and is refused), decide what to run from the instance's previous execution, fix
   the partition plan on first split, read the play watermark BEFORE computing;
2. each partition in its own transaction on its own connection, in a thread pool; the
   partition's writes and its COMPLETED mark commit together;
3. after every partition completed: `finish_day` and COMPLETED, in one transaction.

What runs, from the instance's previous execution:
- none: FIRST, every partition;
- FAILED or STOPPED (restartable): RESTART, only the partitions that did not complete
  since the last full execution, with that execution's watermark (its completed partitions
  saw only plays up to it, so a later play still makes the day stale);
- COMPLETED: nothing (JOB_SKIPPED) unless `rerun` (RERUN) or the day is stale because plays
  arrived after it was computed (STALE); both run every partition;
- ABANDONED: RERUN, every partition.

A heartbeat thread refreshes the execution's heartbeat while it runs; `recover` declares an
execution crashed when its owner process is gone (same host) or its heartbeat is stale
(another host), marks it FAILED and releases the guard, so the next launch restarts it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.jobs import repository as repo
from batch.jobs.model import BatchStatus, EventType, JobEvent, JobExecution, Partition, PartitionWork, RunKind
from batch.jobs.partitioner import plan_partitions
from services.common.dataversion import publication_delay_sec
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.metrics import BATCH_PARTITIONS, BATCH_ROWS
from services.common.periods import local_day_of
from services.common.processes import pid_alive

log = logging.getLogger(__name__)

JOB_DAILY = "daily"
JOBS = (JOB_DAILY,)
MAX_DAYS_PER_RUN = 366
# Catch-up passes: a pass can leave a day stale (a restart keeps an older watermark, or
# plays arrived meanwhile); the next pass recomputes it. Bounded for a constant trickle.
CATCH_UP_PASSES = 3


class JobAlreadyRunning(AlreadyExists):
    """Another execution of the same instance holds its launch guard."""


def _now_us() -> int:
    return time.time_ns() // 1000


def process_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def load_steps() -> ModuleType:
    """The compute core (batch.steps), imported when first needed."""
    import batch.steps

    return batch.steps


@dataclasses.dataclass
class _DayOutcome:
    status: str  # COMPLETED | SKIPPED | FAILED | STOPPED
    job_execution_id: int = 0
    rows_read: int = 0
    rows_written: int = 0
    partitions_total: int = 0
    partitions_done: int = 0
    message: str = ""


class _Skip(Exception):
    def __init__(self, outcome: _DayOutcome) -> None:
        self.outcome = outcome


class _Refused(Exception):
    def __init__(self, error: JobAlreadyRunning) -> None:
        super().__init__(str(error))
        self.error = error


class JobRunner:
    """Runs jobs against one engine. One runner may run several jobs one after another;
    `request_stop` stops the current one after its running partitions finished."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        zone: ZoneInfo,
        workers: int,
        steps: ModuleType | None = None,
        heartbeat_interval_sec: float = 5.0,
        progress_interval_sec: float = 2.0,
        owner: str | None = None,
        after_days_computed: Callable[[list[dt.date]], None] | None = None,
        dispatcher=None,
        partition_attempts: int = 3,
        retry_backoff_sec: float = 0.5,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.engine = engine
        self.zone = zone
        # SQLite has one writer: partitions still each run in their own transaction, one
        # at a time, rather than queueing on the file lock.
        self.workers = 1 if engine.dialect.name == "sqlite" else workers
        self._steps = steps
        self.heartbeat_interval_sec = heartbeat_interval_sec
        self.progress_interval_sec = progress_interval_sec
        self.owner = owner or process_owner()
        self.after_days_computed = after_days_computed
        # None: partitions run in this process's thread pool. Else an object with
        # run_partition(partition_execution_id) -> Iterator[JobEvent] raising DispatchError
        # (batch/jobs/dispatch.py: RunPartition on worker instances through Envoy).
        self.dispatcher = dispatcher
        self.partition_attempts = max(1, partition_attempts)
        self.retry_backoff_sec = retry_backoff_sec
        self._stop = threading.Event()

    @property
    def steps(self) -> ModuleType:
        if self._steps is None:
            self._steps = load_steps()
        return self._steps

    def request_stop(self) -> None:
        self._stop.set()

    # --- the public entry -------------------------------------------------------------

    def run(
        self,
        job: str = JOB_DAILY,
        date: dt.date | None = None,
        to_date: dt.date | None = None,
        *,
        rerun: bool = False,
        partitions: int | None = None,
        today: dt.date | None = None,
    ) -> Iterator[JobEvent]:
        """Validates, then returns the stream of events; the last one has final=True.

        With no `date`, every new or stale day up to yesterday (local) is computed: today is
        still receiving plays, so computing it now would only make it stale at once.
        Raises InvalidArgument / FailedPrecondition before any event; raises
        JobAlreadyRunning instead of a first event when the first day's instance is running.
        """
        job = job or JOB_DAILY
        if job not in JOBS:
            raise InvalidArgument(f"unknown job {job!r} (known: {', '.join(JOBS)})", field="job")
        if partitions is not None and partitions < 1:
            raise InvalidArgument("must be at least 1", field="partitions")
        today = today or local_day_of(_now_us(), self.zone)
        if date is None:
            if to_date is not None:
                raise InvalidArgument("to_date needs date", field="to_date")
            plan = _CatchUp(through=today - dt.timedelta(days=1))
        else:
            to_date = to_date or date
            if to_date < date:
                raise InvalidArgument(f"{to_date} is before date {date}", field="to_date")
            if (to_date - date).days + 1 > MAX_DAYS_PER_RUN:
                raise InvalidArgument(f"at most {MAX_DAYS_PER_RUN} days per run", field="to_date")
            if to_date > today:
                raise InvalidArgument(f"{to_date} is after today ({today}, {self.zone.key})", field="to_date")
            with self.engine.connect() as conn:
                earlier = self.steps.days_to_compute(conn, through=date - dt.timedelta(days=1))
            if earlier:
                shown = ", ".join(str(d) for d in earlier[:5]) + (" ..." if len(earlier) > 5 else "")
                raise FailedPrecondition(
                    f"days before {date} are not computed or are stale ({shown}); a day is priced"
                    " from the running totals of the day before it: run without a date first"
                )
            plan = _Range(first=date, last=to_date)
        self._stop.clear()
        return self._stream(lambda emit: self._drive(job, plan, rerun, partitions, emit))

    # --- the event stream -----------------------------------------------------------------

    def _stream(self, drive: Callable[[Callable[[JobEvent], None]], None]) -> Iterator[JobEvent]:
        events: queue.Queue = queue.Queue()
        emitted = threading.Event()

        def emit(event: JobEvent) -> None:
            emitted.set()
            events.put(event)

        def driver() -> None:
            try:
                drive(emit)
            except _Refused as exc:
                if emitted.is_set():
                    events.put(JobEvent(EventType.JOB_FAILED, JOB_DAILY, status="REFUSED",
                                        message=str(exc), final=True))
                else:
                    events.put(exc.error)
            except BaseException as exc:  # noqa: BLE001 - reported as the final event
                log.exception("job driver failed")
                events.put(JobEvent(EventType.JOB_FAILED, JOB_DAILY, status=BatchStatus.FAILED.name,
                                    message=f"{type(exc).__name__}: {exc}", final=True))

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

    # --- days -----------------------------------------------------------------------------

    def _drive(self, job, plan, rerun: bool, partitions: int | None, emit) -> None:
        outcomes: list[tuple[dt.date, _DayOutcome]] = []
        computed: list[dt.date] = []
        failed = False

        def run_days(days, is_stale) -> bool:
            """Runs days in order; False once one fails or a stop is asked (the rest wait)."""
            for day in days:
                if self._stop.is_set():
                    outcomes.append((day, _DayOutcome("STOPPED", message="stopped before this day")))
                    return False
                outcome = self._day_or_refusal(job, day, rerun=rerun, stale=is_stale(day), partitions=partitions,
                                               emit=emit, first=not outcomes)
                outcomes.append((day, outcome))
                if outcome.status == "COMPLETED":
                    computed.append(day)
                elif outcome.status != "SKIPPED":
                    return False
            return True

        if isinstance(plan, _Range):
            with self.engine.connect() as conn:
                stale = set(self.steps.days_to_compute(conn, through=plan.last))
            failed = not run_days(_days(plan.first, plan.last), stale.__contains__)
        else:
            for _ in range(CATCH_UP_PASSES):
                with self.engine.connect() as conn:
                    todo = self.steps.days_to_compute(conn, through=plan.through)
                if not todo or failed:
                    break
                failed = not run_days(todo, lambda _day: True)
        if computed and self.after_days_computed is not None:
            try:
                self.after_days_computed(sorted(set(computed)))
            except Exception:  # noqa: BLE001 - the figures are committed; a cache hiccup is not a job failure
                log.exception("after_days_computed hook failed")
        emit(self._final_event(job, plan, outcomes, failed))

    def _day_or_refusal(self, job, day, *, first: bool, **kwargs) -> _DayOutcome:
        """A refusal of the first day is the caller's error (raised); of a later day, that
        day's outcome (the days before it are done and stay done)."""
        try:
            return self._run_day(job, day, first=first, **kwargs)
        except _Refused as exc:
            if first:
                raise
            return _DayOutcome("REFUSED", message=str(exc))

    def _final_event(self, job, plan, outcomes, failed: bool) -> JobEvent:
        if isinstance(plan, _Range):
            span = str(plan.first) if plan.first == plan.last else f"{plan.first}..{plan.last}"
        else:
            span = f"..{plan.through}"
        counts: dict[str, int] = {}
        for _, o in outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        summary = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) or "nothing to do"
        if not outcomes and not isinstance(plan, _Range):
            summary = f"nothing to compute: every day up to {plan.through} is up to date"
        last_id = next((o.job_execution_id for _, o in reversed(outcomes) if o.job_execution_id), 0)
        if failed:
            day, bad = outcomes[-1]
            return JobEvent(
                EventType.JOB_FAILED, job, job_execution_id=bad.job_execution_id or last_id, day=span,
                rows_read=sum(o.rows_read for _, o in outcomes),
                rows_written=sum(o.rows_written for _, o in outcomes),
                status=bad.status, message=f"{day}: {bad.message} ({summary})",
                partitions_total=bad.partitions_total, partitions_done=bad.partitions_done, final=True,
            )
        return JobEvent(
            EventType.JOB_FINISHED, job, job_execution_id=last_id, day=span,
            rows_read=sum(o.rows_read for _, o in outcomes),
            rows_written=sum(o.rows_written for _, o in outcomes),
            status=BatchStatus.COMPLETED.name, message=f"{len(outcomes)} day(s): {summary}",
            partitions_total=sum(o.partitions_total for _, o in outcomes),
            partitions_done=sum(o.partitions_done for _, o in outcomes), final=True,
        )

    # --- one day: one job instance --------------------------------------------------------

    def _run_day(self, job, day: dt.date, *, rerun, stale, partitions, emit, first: bool) -> _DayOutcome:
        params = {"date": day.isoformat()}
        day_s = day.isoformat()
        instance_id = self._instance_id(job, params)
        launched = self._launch(instance_id, job, params, rerun=rerun, stale=stale, partitions=partitions)
        if isinstance(launched, _DayOutcome):  # skipped
            emit(JobEvent(EventType.JOB_SKIPPED, job, job_execution_id=launched.job_execution_id, day=day_s,
                          status=BatchStatus.COMPLETED.name, message=launched.message,
                          partitions_total=launched.partitions_total, partitions_done=launched.partitions_total))
            return launched
        execution_id, version, kind, watermark, plan, todo, note, continued = launched
        total, already = len(plan), len(plan) - len(todo)
        emit(JobEvent(EventType.JOB_STARTED, job, job_execution_id=execution_id, day=day_s,
                      status=BatchStatus.STARTED.name, message=note,
                      partitions_total=total, partitions_done=already))
        beat = _Heartbeat(self.engine, execution_id, self.heartbeat_interval_sec)
        beat.start()
        started = time.monotonic()
        try:
            results = self._run_partitions(job, day, execution_id, todo, total, already, beat, emit)
        except Exception as exc:
            self._fail_quietly(execution_id, version, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            beat.stop()
        rows_read = sum(r.rows_read for r in results)
        rows_written = sum(r.rows_written for r in results)
        failures = [r for r in results if r.error is not None]
        done = already + sum(1 for r in results if r.completed)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        outcome = _DayOutcome("COMPLETED", execution_id, rows_read, rows_written, total, done)
        try:
            if failures or done < total:
                if failures:
                    first_failure = failures[0]
                    status = BatchStatus.FAILED
                    message = f"partition {first_failure.key} failed: {first_failure.error}"
                    if len(failures) > 1:
                        message += f" (and {len(failures) - 1} more partition(s) failed)"
                elif beat.lost.is_set():
                    status, message = BatchStatus.FAILED, "execution was declared crashed by recover while running"
                else:
                    status, message = BatchStatus.STOPPED, "stopped on request; restart runs the remaining partitions"
                with self.engine.begin() as conn:
                    repo.stop_partitions(conn, execution_id, _now_us())
                    repo.end_execution(conn, execution_id, version, status, message, _now_us())
                outcome.status, outcome.message = status.name, message
            else:
                with self.engine.begin() as conn:
                    # What the day's partitions read, each in the transaction of its writes:
                    # the exact late-data check (batch/steps/days.py).
                    plays_read = repo.plays_read(conn, [execution_id, *continued], [p.key for p in plan])
                    self.steps.finish_day(conn, day, play_id_watermark=watermark, plays_read=plays_read,
                                          job_execution_id=execution_id)
                    repo.end_execution(conn, execution_id, version, BatchStatus.COMPLETED, None, _now_us())
                outcome.message = f"completed ({kind.value.lower()} run)"
        except repo.LostUpdate as exc:
            outcome.status, outcome.message = BatchStatus.FAILED.name, str(exc)
        except Exception as exc:
            self._fail_quietly(execution_id, version, f"{type(exc).__name__}: {exc}")
            raise
        event_type = EventType.JOB_FINISHED if outcome.status == "COMPLETED" else EventType.JOB_FAILED
        emit(JobEvent(event_type, job, job_execution_id=execution_id, day=day_s, rows_read=rows_read,
                      rows_written=rows_written, elapsed_ms=elapsed_ms, status=outcome.status,
                      message=outcome.message, partitions_total=total, partitions_done=done))
        return outcome

    def _fail_quietly(self, execution_id: int, version: int, message: str) -> None:
        """Best effort after an unexpected error (the database may be what failed): end the
        execution FAILED so it is restartable; if even that fails, its heartbeat stops and
        `recover` finds it stale."""
        try:
            with self.engine.begin() as conn:
                repo.stop_partitions(conn, execution_id, _now_us())
                repo.end_execution(conn, execution_id, version, BatchStatus.FAILED, message, _now_us())
        except Exception:  # noqa: BLE001 - already failing; the original error is raised
            log.exception("could not mark execution %s failed", execution_id)

    def _instance_id(self, job: str, params: dict) -> int:
        with self.engine.begin() as conn:
            instance = repo.find_instance(conn, job, params)
            if instance is not None:
                return instance.job_instance_id
        try:
            with self.engine.begin() as conn:
                return repo.insert_instance(conn, job, params, _now_us()).job_instance_id
        except sa.exc.IntegrityError:  # a concurrent launcher created it first
            with self.engine.begin() as conn:
                return repo.find_instance(conn, job, params).job_instance_id

    def _launch(self, instance_id: int, job: str, params: dict, *, rerun, stale, partitions):
        """The launch transaction (see the module docstring); returns a skip outcome or
        (execution id, version, kind, watermark, plan, partitions to run, note, ids of the
        earlier executions whose completed partitions this one continues)."""
        try:
            with self.engine.begin() as conn:
                execution_id = repo.insert_execution(conn, instance_id, owner=self.owner, now_us=_now_us())
                previous = repo.previous_executions(conn, instance_id, before_id=execution_id)
                plan = repo.partition_plan(conn, instance_id)
                last = previous[0] if previous else None
                done: set[str] = set()
                continued: list[int] = []
                watermark = None
                if last is None:
                    kind, note = RunKind.FIRST, "first run"
                elif rerun:
                    kind, note = RunKind.RERUN, f"re-run asked (previous execution {last.job_execution_id}: {last.status.name})"
                elif last.status is BatchStatus.COMPLETED:
                    if not stale:  # roll the guard row back: nothing ran
                        raise _Skip(_DayOutcome(
                            "SKIPPED", last.job_execution_id, partitions_total=len(plan), partitions_done=len(plan),
                            message=f"already completed by execution {last.job_execution_id}; pass rerun to run it again",
                        ))
                    kind, note = RunKind.STALE, "stale: plays arrived after the day was computed"
                elif last.status.is_restartable:
                    chain = []
                    for e in previous:
                        chain.append(e)
                        if e.run_kind is not RunKind.RESTART:
                            break
                    continued = [e.job_execution_id for e in chain]
                    done = repo.completed_partition_keys(conn, continued)
                    watermark = chain[-1].play_id_watermark
                    kind = RunKind.RESTART
                    note = (f"restart of execution {last.job_execution_id} ({last.status.name}):"
                            f" {len(done)} of {len(plan)} partitions already completed")
                else:
                    kind, note = RunKind.RERUN, f"previous execution {last.job_execution_id} was {last.status.name}: full run"
                if not plan:
                    lo, hi = self.steps.video_id_bounds(conn)
                    plan = plan_partitions(lo, hi, partitions or self.workers)
                    repo.save_partition_plan(conn, instance_id, plan)
                elif partitions and partitions != len(plan):
                    note += f"; partition plan fixed at {len(plan)} when first split (--partitions ignored)"
                if watermark is None:
                    # Read BEFORE computing: plays arriving from now on leave the day stale.
                    watermark = self.steps.current_play_watermark(conn)
                todo = [p for p in plan if p.key not in done]
                version = repo.start_execution(conn, execution_id, version=0, run_kind=kind,
                                               play_id_watermark=watermark, partitions=todo, now_us=_now_us())
        except _Skip as skip:
            return skip.outcome
        except sa.exc.IntegrityError:
            with self.engine.begin() as conn:
                running = repo.running_execution(conn, instance_id)
            raise _Refused(_already_running(job, params, running)) from None
        return execution_id, version, kind, watermark, plan, todo, note, continued

    # --- partitions -----------------------------------------------------------------------

    def _run_partitions(self, job, day, execution_id, todo: list[Partition], total, already, beat, emit):
        """Runs the partitions `todo`, `self.workers` at a time: in this process's thread pool
        (run_partition_attempt), or, with a dispatcher, each on a worker instance behind
        Envoy (RunPartition) with a new attempt when its worker is lost."""
        with self.engine.begin() as conn:
            # Newest attempt last: a key maps to its newest attempt (attempt 1 here).
            ids = {p.partition_key: p.partition_execution_id for p in repo.partition_executions(conn, execution_id)}
        tracker = _Tracker(job, execution_id, day.isoformat(), total, already, emit)

        def stopping() -> bool:
            return self._stop.is_set() or beat.lost.is_set()

        def work(p: Partition) -> _PartitionResult:
            if stopping():
                return _PartitionResult(p.key)
            if self.dispatcher is None:
                worker = f"{self.owner}/{threading.current_thread().name}"
                return run_partition_attempt(self.engine, self.steps, self.zone, ids[p.key], worker=worker,
                                             emit=tracker.relay)
            return self._dispatch_partition(p, ids[p.key], tracker.relay, stopping)

        if not todo:
            return []
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=min(self.workers, len(todo)), thread_name_prefix=f"partition-{day.isoformat()}"
        ) as pool:
            futures = [pool.submit(work, p) for p in todo]
            pending = set(futures)
            while pending:
                _, pending = concurrent.futures.wait(pending, timeout=self.progress_interval_sec)
                tracker.tick()
        results = []
        for f, p in zip(futures, todo):
            try:
                results.append(f.result())
            except Exception as exc:  # noqa: BLE001 - e.g. the database went away between steps
                results.append(_PartitionResult(p.key, error=f"{type(exc).__name__}: {exc}"))
        return results

    def _dispatch_partition(self, p: Partition, partition_execution_id: int, relay, stopping) -> _PartitionResult:
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
            terminal: JobEvent | None = None
            lost: DispatchError | None = None
            try:
                for event in self.dispatcher.run_partition(attempt_id):
                    if event.type is EventType.PARTITION_PROGRESS:
                        continue  # the worker's keep-alive; the coordinator ticks on its own
                    relay(dataclasses.replace(event, partition_key=p.key))
                    if event.type in (EventType.PARTITION_FINISHED, EventType.PARTITION_FAILED):
                        terminal = event  # the last event; the stream ends after it
            except DispatchError as exc:
                lost = exc
            if terminal is not None and terminal.type is EventType.PARTITION_FINISHED:
                return _PartitionResult(p.key, completed=True, rows_read=terminal.rows_read,
                                        rows_written=terminal.rows_written)
            if terminal is not None:  # the worker ran it and recorded the failure (e.g. a bad row)
                return _PartitionResult(p.key, error=terminal.message)
            reason = str(lost) if lost is not None else "the stream ended before the partition's outcome"
            retry = (lost is None or lost.retryable) and attempt < self.partition_attempts and not stopping()
            error = f"attempt {attempt} lost: {reason}"
            with self.engine.begin() as conn:
                if retry:
                    settled = repo.retry_partition(conn, attempt_id, error=error, now_us=_now_us())
                else:
                    repo.fail_partition(conn, attempt_id, error=error, now_us=_now_us())
                    settled = repo.get_partition_execution(conn, attempt_id)
            if settled.status is BatchStatus.COMPLETED and settled.partition_execution_id == attempt_id:
                log.info("partition %s: the stream broke after its worker committed it", p.key)
                relay(JobEvent(EventType.PARTITION_FINISHED, JOB_DAILY, partition_key=p.key,
                               rows_read=settled.rows_read, rows_written=settled.rows_written,
                               elapsed_ms=settled.elapsed_ms, status=BatchStatus.COMPLETED.name,
                               message=f"completed on {settled.worker} (its stream broke afterwards)"))
                return _PartitionResult(p.key, completed=True, rows_read=settled.rows_read,
                                        rows_written=settled.rows_written)
            if not retry:
                log.warning("partition %s failed: %s", p.key, error)
                if stopping() and (lost is None or lost.retryable):
                    relay(JobEvent(EventType.PARTITION_FAILED, JOB_DAILY, partition_key=p.key,
                                   status=BatchStatus.FAILED.name, message=f"{error} (not retried: stopping)"))
                    return _PartitionResult(p.key)
                relay(JobEvent(EventType.PARTITION_FAILED, JOB_DAILY, partition_key=p.key,
                               status=BatchStatus.FAILED.name, message=error))
                return _PartitionResult(p.key, error=error)
            log.warning("partition %s: %s; dispatching attempt %d", p.key, error, settled.attempt)
            relay(JobEvent(EventType.PARTITION_PROGRESS, JOB_DAILY, partition_key=p.key, status=RETRYING,
                           message=f"{error}; attempt {settled.attempt} dispatched"))
            attempt_id, attempt = settled.partition_execution_id, settled.attempt
            time.sleep(self.retry_backoff_sec * attempt)


# --- one partition attempt: shared by the local thread pool and RunPartition ---------------

RETRYING = "RETRYING"  # status of the progress event that announces a new attempt


class DispatchError(Exception):
    """A dispatched attempt's stream broke (or could not start). `retryable`: the worker may
    be lost (a new attempt can succeed); not for refusals such as a bad token."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def claim_partition(engine: sa.Engine, partition_execution_id: int, *, worker: str) -> PartitionWork:
    """STARTING -> STARTED with the worker's name; raises NotFound, or FailedPrecondition
    when the attempt is not STARTING (already run, failed by recover, or stopped)."""
    with engine.begin() as conn:
        work = repo.partition_work(conn, partition_execution_id)
        try:
            repo.start_partition(conn, partition_execution_id, worker=worker, now_us=_now_us())
        except repo.LostUpdate:
            raise FailedPrecondition(
                f"partition execution {partition_execution_id} ({work.partition_key}, attempt {work.attempt})"
                f" is {work.status.name}, not STARTING: it cannot be run again"
            ) from None
    return work


def compute_partition(engine: sa.Engine, steps: ModuleType, zone: ZoneInfo, work: PartitionWork, *, worker: str,
                      emit: Callable[[JobEvent], None]) -> _PartitionResult:
    """Runs a claimed attempt: the partition's writes and its COMPLETED mark in one
    transaction (committed only if the attempt is still STARTED); an error rolls the writes
    back and marks it FAILED. Emits PARTITION_STARTED, then PARTITION_FINISHED or _FAILED."""
    day = dt.date.fromisoformat(work.parameters["date"])
    base = dict(job_execution_id=work.job_execution_id, day=day.isoformat(), partition_key=work.partition_key)
    where = f"videos [{work.video_id_lo}, {work.video_id_hi}) on {worker}"
    if work.attempt > 1:
        where += f", attempt {work.attempt}"
    t0 = time.monotonic()
    emit(JobEvent(EventType.PARTITION_STARTED, work.job_name, status=BatchStatus.STARTED.name, message=where, **base))
    try:
        with engine.begin() as conn:
            counts = steps.compute_day_partition(
                conn, day, work.video_id_lo, work.video_id_hi, zone=zone, job_execution_id=work.job_execution_id
            )
            repo.complete_partition(conn, work.partition_execution_id, rows_read=counts.rows_read,
                                    rows_written=counts.rows_written, now_us=_now_us())
    except Exception as exc:  # noqa: BLE001 - recorded on the partition and reported
        error = str(exc) if isinstance(exc, steps.BadPlayRow) else f"{type(exc).__name__}: {exc}"
        log.warning("partition %s of %s failed: %s", work.partition_key, day, error)
        try:
            with engine.begin() as conn:
                repo.fail_partition(conn, work.partition_execution_id, error=error, now_us=_now_us())
        except Exception:  # noqa: BLE001 - the database may be the problem; recover covers it
            log.exception("could not record the failure of partition %s", work.partition_key)
        BATCH_PARTITIONS.labels(work.job_name, BatchStatus.FAILED.name).inc()
        emit(JobEvent(EventType.PARTITION_FAILED, work.job_name, elapsed_ms=int((time.monotonic() - t0) * 1000),
                      status=BatchStatus.FAILED.name, message=error, **base))
        return _PartitionResult(work.partition_key, error=error)
    BATCH_PARTITIONS.labels(work.job_name, BatchStatus.COMPLETED.name).inc()
    BATCH_ROWS.labels(work.job_name).inc(counts.rows_written)
    emit(JobEvent(EventType.PARTITION_FINISHED, work.job_name, rows_read=counts.rows_read,
                  rows_written=counts.rows_written, elapsed_ms=int((time.monotonic() - t0) * 1000),
                  status=BatchStatus.COMPLETED.name, message=where, **base))
    return _PartitionResult(work.partition_key, completed=True, rows_read=counts.rows_read,
                            rows_written=counts.rows_written)


def run_partition_attempt(engine: sa.Engine, steps: ModuleType, zone: ZoneInfo, partition_execution_id: int, *,
                          worker: str, emit: Callable[[JobEvent], None]) -> _PartitionResult:
    """Claims and runs one partition attempt (the local thread pool's unit of work)."""
    work = claim_partition(engine, partition_execution_id, worker=worker)
    return compute_partition(engine, steps, zone, work, worker=worker, emit=emit)


def run_partition_stream(engine: sa.Engine, zone: ZoneInfo, partition_execution_id: int, *, worker: str,
                         steps: ModuleType | None = None, progress_interval_sec: float = 2.0) -> Iterator[JobEvent]:
    """RunPartition's work: claims the attempt now (NotFound / FailedPrecondition are raised
    before any event), then returns its events: PARTITION_STARTED, PARTITION_PROGRESS every
    `progress_interval_sec` (which also keeps the stream through Envoy from going idle),
    and PARTITION_FINISHED or PARTITION_FAILED with final=True. The attempt runs in its own
    thread and goes on to its end if the caller goes away: its COMPLETED mark commits only if
    the coordinator has not failed the attempt meanwhile."""
    steps = steps or load_steps()
    work = claim_partition(engine, partition_execution_id, worker=worker)
    events: queue.Queue = queue.Queue()
    end = object()

    def target() -> None:
        try:
            compute_partition(engine, steps, zone, work, worker=worker, emit=events.put)
        except BaseException as exc:  # noqa: BLE001 - ends the stream with an error status
            log.exception("partition attempt %s failed unexpectedly", partition_execution_id)
            events.put(exc)
        finally:
            events.put(end)

    threading.Thread(target=target, name=f"attempt-{partition_execution_id}", daemon=True).start()
    t0 = time.monotonic()

    def generate() -> Iterator[JobEvent]:
        while True:
            try:
                item = events.get(timeout=progress_interval_sec)
            except queue.Empty:
                yield JobEvent(EventType.PARTITION_PROGRESS, work.job_name, job_execution_id=work.job_execution_id,
                               day=work.parameters.get("date", ""), partition_key=work.partition_key,
                               elapsed_ms=int((time.monotonic() - t0) * 1000), status=BatchStatus.STARTED.name)
                continue
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            if item.type in (EventType.PARTITION_FINISHED, EventType.PARTITION_FAILED):
                item = dataclasses.replace(item, final=True)
            yield item

    return generate()


class _Tracker:
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
        self.emit(dataclasses.replace(event, job_name=self.job, job_execution_id=self.execution_id, day=self.day,
                                      partitions_total=self.total, partitions_done=done, final=False))

    def tick(self) -> None:
        with self.lock:
            ticks = [(key, int((time.monotonic() - t0) * 1000)) for key, t0 in self.running.items()]
            done = self.done
        for key, elapsed in ticks:
            self.emit(JobEvent(EventType.PARTITION_PROGRESS, self.job, job_execution_id=self.execution_id,
                               day=self.day, partition_key=key, elapsed_ms=elapsed, status=BatchStatus.STARTED.name,
                               partitions_total=self.total, partitions_done=done))


@dataclasses.dataclass(frozen=True)
class _PartitionResult:
    key: str
    completed: bool = False
    rows_read: int = 0
    rows_written: int = 0
    error: str | None = None


@dataclasses.dataclass(frozen=True)
class _Range:
    first: dt.date
    last: dt.date


@dataclasses.dataclass(frozen=True)
class _CatchUp:
    through: dt.date


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _already_running(job: str, params: dict, running: JobExecution | None) -> JobAlreadyRunning:
    what = f"job instance {job} {' '.join(f'{k}={v}' for k, v in sorted(params.items()))}"
    if running is None:
        return JobAlreadyRunning(f"{what} was being launched by another caller at the same time")
    age = (_now_us() - (running.heartbeat_at_us or running.created_at_us)) / 1e6
    return JobAlreadyRunning(
        f"{what} is already running: execution {running.job_execution_id} ({running.status.name}),"
        f" owner {running.owner}, last heartbeat {age:.1f} s ago; if that process is gone, run"
        " `paysystem batch recover` first"
    )


class _Heartbeat:
    """Refreshes a running execution's heartbeat; sets `lost` if the execution stopped
    being running under us (recover declared it crashed): no new partition starts then."""

    def __init__(self, engine: sa.Engine, job_execution_id: int, interval_sec: float) -> None:
        self.engine = engine
        self.job_execution_id = job_execution_id
        self.interval_sec = interval_sec
        self.lost = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{job_execution_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval_sec):
            try:
                with self.engine.begin() as conn:
                    if not repo.heartbeat(conn, self.job_execution_id, _now_us()):
                        log.error("execution %s is no longer running (recovered?)", self.job_execution_id)
                        self.lost.set()
                        return
            except Exception:  # noqa: BLE001 - a missed beat is not fatal; a stale one is recovered
                log.exception("heartbeat of execution %s failed", self.job_execution_id)


# --- recover ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Recovered:
    job_execution_id: int
    job_name: str
    parameters: dict
    owner: str
    reason: str
    partitions_failed: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class StillRunning:
    job_execution_id: int
    owner: str
    heartbeat_age_sec: float
    reason: str


def recover(
    engine: sa.Engine, *, stale_after_sec: float = 60.0, host: str | None = None
) -> tuple[list[Recovered], list[StillRunning]]:
    """Declares crashed executions FAILED (restartable) and releases their launch guard.

    An execution is crashed when its owner ran on this host and that process is gone (known
    at once, whatever the heartbeat), or when its heartbeat is older than `stale_after_sec`
    (an owner on another host, or a live process that stopped beating). Keep the threshold
    well above the heartbeat interval (5 s; on SQLite a beat can wait up to the 30 s busy
    timeout behind a long partition). Declaring a live execution crashed is safe: its next
    update fails and no partition commits after it, but it wastes that work.
    """
    host = host or socket.gethostname()
    now = _now_us()
    recovered, alive = [], []
    with engine.begin() as conn:
        candidates = repo.running_executions(conn)
    for e in candidates:
        age = (now - (e.heartbeat_at_us or e.created_at_us)) / 1e6
        owner_host, _, pid = e.owner.rpartition(":")
        local = owner_host == host and pid.isdigit()
        if local and not pid_alive(int(pid)):
            reason = f"owner process {e.owner} is gone (last heartbeat {age:.1f} s ago)"
        elif age > stale_after_sec:
            reason = f"heartbeat stale for {age:.1f} s (> {stale_after_sec:g} s), owner {e.owner}"
        else:
            why = "owner process is alive on this host" if local else "heartbeat is fresh"
            alive.append(StillRunning(e.job_execution_id, e.owner, age, why))
            continue
        try:
            with engine.begin() as conn:
                keys = repo.mark_crashed(conn, e, f"crashed: {reason}", _now_us())
        except repo.LostUpdate:
            continue  # it moved on (ended, or recovered by someone else) meanwhile
        log.warning("recovered execution %s: %s", e.job_execution_id, reason)
        recovered.append(Recovered(e.job_execution_id, e.job_name, e.parameters, e.owner, reason, tuple(keys)))
    return recovered, alive


# --- wiring ---------------------------------------------------------------------------------


def runner_for(settings, engine: sa.Engine, *, workers: int | None = None, **options) -> JobRunner:
    """A runner wired the way the service and the CLI run it: the platform zone, the
    configured worker count, and, once days were recomputed, the wait that makes the new
    figures visible to every read service before the job reports its end, then the
    read-model cache freed."""
    delay_sec = publication_delay_sec(settings.data_version_max_age_ms)

    def after_days_computed(days: list[dt.date]) -> None:
        # Read services may trust a data version read up to max_age ago: once this wait is
        # over, none of them serves figures older than these (services/common/dataversion.py).
        time.sleep(delay_sec)
        if not settings.redis_url:
            return
        # Cache entries are keyed by the data version, so this only frees memory early
        # (see services/common/cache.py); correctness does not depend on it.
        from services.common.cache import invalidate_after_batch

        deleted = invalidate_after_batch(settings.redis_url)
        log.info("recomputed %d day(s); freed %d cached read models", len(days), deleted)

    options.setdefault("partition_attempts", settings.batch_partition_attempts)
    return JobRunner(
        engine,
        zone=settings.zone,
        workers=workers or settings.batch_workers,
        after_days_computed=after_days_computed,
        **options,
    )
