"""The batch's entry point: JobRunner validates a run's parameters and returns its events.

The one job is "daily" with the identifying parameter date=YYYY-MM-DD: one instance per local
day. Where the rest lives, by role:

- config.py: CoordinationConfig, the runner's settings as a run reads them (frozen, built
  once here);
- launch.py: the launch transaction of one day's instance (the launch guard, what to run);
- coordinator.py: the day loop and the event stream of a run; day.py: one launched day's
  steps (stream limit, partitions, finish) and its status, the worst of its partitions';
- handlers.py: the PartitionHandler interface and its two implementations: a day's
  partitions in this process's thread pool, or through dispatch.py (remote workers, with
  fenced retries);
- worker.py: one partition attempt (the local pool's unit of work and RunPartition's);
- heartbeat.py and recovery.py: a running execution's heartbeat, and `recover` for crashed
  ones (owner process gone or heartbeat stale), which makes them restartable;
- publication.py: making a run's figures visible to every read service before its end.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.jobs.clock import process_owner
from batch.jobs.config import AfterDaysComputed, CoordinationConfig
from batch.jobs.coordinator import CatchUp, Coordinator, DayRange, event_stream
from batch.jobs.dispatch import Dispatcher
from batch.jobs.handlers import LocalPartitionHandler, PartitionHandler, RemotePartitionHandler
from batch.jobs.model import JobEvent
from batch.jobs.worker import load_steps
from domain.audit_chain import OPERATOR, AuditEvent, summary_json
from domain.errors import BadInput, NotReady
from services.audit import published as audit
from services.common.clock import SYSTEM_CLOCK, Clock
from services.video import published as video

log = logging.getLogger(__name__)
JOB_DAILY = "daily"
JOBS = (JOB_DAILY,)
MAX_DAYS_PER_RUN = 366


class JobRunner:
    """Runs jobs against one engine. One runner may run several jobs one after another;
    `request_stop` stops the current one after its running partitions finished.

    `reader_max_age_ms` is how long read services may trust a data version they read; the
    run publishes it and waits it out before its final event (batch/jobs/publication.py).
    `after_days_computed` runs after that wait, with the days the run computed. With
    `replicas`, the final event also waits until each has applied the run's commits.
    """

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
        reader_max_age_ms: int = 0,
        after_days_computed: AfterDaysComputed | None = None,
        dispatcher: Dispatcher | None = None,
        partition_attempts: int = 3,
        retry_backoff_sec: float = 0.5,
        replicas: Sequence[tuple[str, sa.Engine]] = (),
        replica_wait_sec: float = 10.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.config = CoordinationConfig(
            engine=engine,
            steps=steps if steps is not None else load_steps(),
            zone=zone,
            # SQLite has one writer: partitions still each run in their own transaction, one
            # at a time, rather than queueing on the file lock.
            workers=1 if engine.dialect.name == "sqlite" else workers,
            owner=owner or process_owner(),
            heartbeat_interval_sec=heartbeat_interval_sec,
            progress_interval_sec=progress_interval_sec,
            reader_max_age_ms=reader_max_age_ms,
            after_days_computed=after_days_computed,
            # Read replicas (name, engine): a run's final event waits until each has applied
            # its commits, at most replica_wait_sec each run (batch/jobs/publication.py).
            replicas=tuple(replicas),
            replica_wait_sec=replica_wait_sec,
            partition_attempts=max(1, partition_attempts),
            retry_backoff_sec=retry_backoff_sec,
            clock=clock,
        )
        # No dispatcher: partitions run in this process's thread pool. Else an object with
        # run_partition(partition_execution_id) -> Iterator[JobEvent] raising DispatchError
        # (batch/jobs/dispatch.py: RunPartition on worker instances through Envoy).
        self.handler: PartitionHandler = (
            LocalPartitionHandler(self.config)
            if dispatcher is None
            else RemotePartitionHandler(self.config, dispatcher)
        )
        self.stop_requested = threading.Event()

    def ensure_partitions(self, today: dt.date) -> None:
        """Monthly partitions of `plays` ahead of today (services/video/partitions.py),
        at the start of every run. A failure is logged, not raised: `pmax` takes any day that
        has no partition of its own, so ingest and this run are fine without them."""
        try:
            added = video.ensure_partitions(self.config.engine, today)
        except Exception:
            log.warning("could not create the partitions of plays ahead of %s", today, exc_info=True)
            return
        if added:
            log.info("partitions of plays created: %s", ", ".join(added))

    def request_stop(self) -> None:
        self.stop_requested.set()

    def run(
        self,
        job: str = JOB_DAILY,
        date: dt.date | None = None,
        to_date: dt.date | None = None,
        *,
        rerun: bool = False,
        partitions: int | None = None,
        today: dt.date | None = None,
        actor_id: int = OPERATOR,
    ) -> Iterator[JobEvent]:
        """Validates, then returns the stream of events; the last one has final=True.

        With no `date`, every new or stale day up to yesterday (local) is computed: today is
        still receiving plays, so computing it now would only make it stale at once.
        Raises BadInput / NotReady before any event; raises
        JobAlreadyRunning instead of a first event when the first day's instance is running.
        `actor_id`: who asked (the admin calling RunJob; OPERATOR for the local command), for
        the run's audit entry, appended once the request is valid, in its own transaction (a
        run is many transactions; the entry records that it was started, and with what).
        """
        job = job or JOB_DAILY
        if job not in JOBS:
            raise BadInput(f"unknown job {job!r} (known: {', '.join(JOBS)})", field="job")
        if partitions is not None and partitions < 1:
            raise BadInput("must be at least 1", field="partitions")
        config = self.config
        today = today or config.clock.today(config.zone)
        plan: DayRange | CatchUp
        if date is None:
            if to_date is not None:
                raise BadInput("to_date needs date", field="to_date")
            plan = CatchUp(through=today - dt.timedelta(days=1))
        else:
            # Without to_date the run is the one day `date`: a refusal of its end names `date`,
            # the field the caller filled in, not the to_date they left empty.
            plan = self._day_range(date, to_date or date, today, "to_date" if to_date else "date")
        self._audit_start(actor_id, job, date, to_date, rerun, partitions)
        self.ensure_partitions(today)
        self.stop_requested.clear()
        coordinator = Coordinator(
            config, self.handler, job, plan, rerun=rerun, partitions=partitions, stop_requested=self.stop_requested
        )
        return event_stream(coordinator.drive, job)

    def _audit_start(
        self,
        actor_id: int,
        job: str,
        date: dt.date | None,
        to_date: dt.date | None,
        rerun: bool,
        partitions: int | None,
    ) -> None:
        asked = {
            "date": date.isoformat() if date else None,
            "to_date": to_date.isoformat() if to_date else None,
            "rerun": rerun,
            "partitions": partitions,
        }
        started = AuditEvent(actor_id, "batch.run", f"job:{job}", "", summary_json(asked))
        with self.config.engine.begin() as conn:
            audit.append(conn, started, self.config.clock.now_us())

    def _day_range(self, date: dt.date, to_date: dt.date, today: dt.date, last_field: str = "to_date") -> DayRange:
        """The days from `date` to `to_date`, once they may be computed: not after today, not
        in an archived month, and no earlier day missing or stale."""
        if to_date < date:
            raise BadInput(f"{to_date} is before date {date}", field="to_date")
        if (to_date - date).days + 1 > MAX_DAYS_PER_RUN:
            raise BadInput(f"at most {MAX_DAYS_PER_RUN} days per run", field="to_date")
        if to_date > today:
            raise BadInput(f"{to_date} is after today ({today}, {self.config.zone.key})", field=last_field)
        with self.config.engine.connect() as conn:
            archived = sorted(d for d in video.archived_days(conn) if date <= d <= to_date)
            earlier = self.config.steps.days_to_compute(conn, through=date - dt.timedelta(days=1))
        if archived:
            raise NotReady(
                f"{archived[0]} is in an archived month ({', '.join(sorted({d.isoformat()[:7] for d in archived}))}):"
                " its playbacks are archived, so its figures cannot be computed again;"
                " `paysystem archive restore` the month first"
            )
        if earlier:
            shown = ", ".join(str(d) for d in earlier[:5]) + (" ..." if len(earlier) > 5 else "")
            raise NotReady(
                f"days before {date} are not computed or are stale ({shown}); a day is priced"
                " from the running totals of the day before it: run without a date first"
            )
        return DayRange(first=date, last=to_date)
