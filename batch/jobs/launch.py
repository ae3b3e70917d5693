"""The launch of one day's job instance: what to run, decided in one transaction.

The transaction inserts the execution row (this takes the instance's launch guard, see
tables.job_execution.running_instance_id: a second concurrent launch fails its insert and
is refused), decides what to run from the instance's previous execution, fixes the
partition plan on first split, and reads the play watermark BEFORE computing.

What runs, from the instance's previous execution:
- none: FIRST, every partition;
- FAILED or STOPPED (restartable): RESTART, only the partitions that did not complete
  since the last full execution, with that execution's watermark (its completed partitions
  saw only plays up to it, so a later play still makes the day stale);
- COMPLETED: nothing (Skipped) unless `rerun` (RERUN) or the day is stale because plays
  arrived after it was computed (STALE); both run every partition.

`launch` returns one of three values (Launched, Skipped, Refused); it raises only for
errors nobody planned for (the database went away).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import ModuleType

import sqlalchemy as sa

from batch.jobs import repository as repo
from batch.jobs.clock import now_us
from batch.jobs.model import BatchStatus, JobExecution, JobParameters, Partition, RunKind
from batch.jobs.partitioner import plan_partitions
from domain.errors import Conflict


class JobAlreadyRunning(Conflict):
    """Another execution of the same instance holds its launch guard."""


@dataclasses.dataclass(frozen=True)
class Launched:
    """A started execution and the partitions it must run."""

    job_execution_id: int
    version: int
    kind: RunKind
    play_id_watermark: int
    plan: tuple[Partition, ...]
    todo: tuple[Partition, ...]
    note: str
    # Earlier executions whose completed partitions this one continues (a restart chain).
    continued: tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class Skipped:
    """The instance is completed and not stale: nothing ran (the guard row rolled back)."""

    job_execution_id: int
    partitions_total: int
    message: str


@dataclasses.dataclass(frozen=True)
class Refused:
    """Another execution holds the instance's launch guard."""

    error: JobAlreadyRunning


def daily_parameters(day: dt.date) -> JobParameters:
    return {"date": day.isoformat()}


def instance_id(engine: sa.Engine, job: str, params: JobParameters) -> int:
    """The instance's id, created on first launch (a concurrent creator may win the insert)."""
    with engine.begin() as conn:
        instance = repo.find_instance(conn, job, params)
        if instance is not None:
            return instance.job_instance_id
    try:
        with engine.begin() as conn:
            return repo.insert_instance(conn, job, params, now_us()).job_instance_id
    except sa.exc.IntegrityError:
        with engine.begin() as conn:
            created = repo.find_instance(conn, job, params)
            assert created is not None  # the concurrent creator committed it
            return created.job_instance_id


def launch(
    engine: sa.Engine,
    steps: ModuleType,
    job: str,
    day: dt.date,
    *,
    owner: str,
    rerun: bool,
    stale: bool,
    partitions: int | None,
    default_partitions: int,
) -> Launched | Skipped | Refused:
    params = daily_parameters(day)
    instance = instance_id(engine, job, params)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            execution_id = repo.insert_execution(conn, instance, owner=owner, now_us=now_us())
            previous = repo.previous_executions(conn, instance, before_id=execution_id)
            plan = repo.partition_plan(conn, instance)
            last = previous[0] if previous else None
            if last is not None and last.status is BatchStatus.COMPLETED and not rerun and not stale:
                transaction.rollback()  # the guard row goes with it: nothing ran
                return Skipped(
                    last.job_execution_id,
                    len(plan),
                    f"already completed by execution {last.job_execution_id}; pass rerun to run it again",
                )
            kind, note, continued, done, watermark = _decide(conn, last, previous, len(plan), rerun=rerun)
            if not plan:
                lo, hi = steps.video_id_bounds(conn)
                plan = plan_partitions(lo, hi, partitions or default_partitions)
                repo.save_partition_plan(conn, instance, plan)
            elif partitions and partitions != len(plan):
                # An API answer: it names the request's field, not the CLI's flag.
                note += (
                    f"; partition plan fixed at {len(plan)} when the day was first split"
                    f" ({partitions} partitions asked for: ignored)"
                )
            if watermark is None:
                # Read BEFORE computing: plays arriving from now on leave the day stale.
                watermark = steps.current_play_watermark(conn)
            todo = [p for p in plan if p.key not in done]
            version = repo.start_execution(
                conn,
                execution_id,
                version=0,
                run_kind=kind,
                play_id_watermark=watermark,
                partitions=todo,
                now_us=now_us(),
            )
    except sa.exc.IntegrityError:  # the launch guard: another execution of this instance is running
        with engine.begin() as conn:
            running = repo.running_execution(conn, instance)
        return Refused(already_running(job, params, running))
    return Launched(execution_id, version, kind, watermark, tuple(plan), tuple(todo), note, tuple(continued))


def _decide(
    conn: sa.Connection, last: JobExecution | None, previous: list[JobExecution], plan_size: int, *, rerun: bool
) -> tuple[RunKind, str, list[int], set[str], int | None]:
    """(run kind, note, continued executions, partition keys already done, inherited watermark)
    for an instance that is to run (not skipped)."""
    if last is None:
        return RunKind.FIRST, "first run", [], set(), None
    if rerun:
        return (
            RunKind.RERUN,
            f"re-run asked (previous execution {last.job_execution_id}: {last.status.name})",
            [],
            set(),
            None,
        )
    if last.status is BatchStatus.COMPLETED:
        return RunKind.STALE, "stale: plays arrived after the day was computed", [], set(), None
    if last.status.is_restartable:
        chain = []
        for e in previous:
            chain.append(e)
            if e.run_kind is not RunKind.RESTART:
                break
        continued = [e.job_execution_id for e in chain]
        done = repo.completed_partition_keys(conn, continued)
        note = (
            f"restart of execution {last.job_execution_id} ({last.status.name}):"
            f" {len(done)} of {plan_size} partitions already completed"
        )
        return RunKind.RESTART, note, continued, done, chain[-1].play_id_watermark
    return (
        RunKind.RERUN,
        f"previous execution {last.job_execution_id} was {last.status.name}: full run",
        [],
        set(),
        None,
    )


def already_running(job: str, params: JobParameters, running: JobExecution | None) -> JobAlreadyRunning:
    what = f"job instance {job} {' '.join(f'{k}={v}' for k, v in sorted(params.items()))}"
    if running is None:
        return JobAlreadyRunning(f"{what} was being launched by another caller at the same time")
    age = (now_us() - (running.heartbeat_at_us or running.created_at_us)) / 1e6
    return JobAlreadyRunning(
        f"{what} is already running: execution {running.job_execution_id} ({running.status.name}),"
        f" owner {running.owner}, last heartbeat {age:.1f} s ago; if that process is gone, run"
        " `paysystem batch recover` first"
    )
