"""A run's event stream while its day's stream-limit step runs (batch/jobs/day.py), on
MariaDB and SQLite: the real SQL steps, the stream step held at a gate until the test
releases it. While it is held, the day's PARTITION_PROGRESS events without a partition key
arrive (the progress interval's ticks, from a side thread: the step itself is in the
coordinator's thread and transaction), before any partition starts and never after."""

from __future__ import annotations

import datetime as dt
import threading

import batch.steps
from batch.jobs.model import BatchStatus, EventType
from batch.jobs.runner import JobRunner
from tests.plugins.jobs import SEOUL, add_plays, add_videos, random_plays

DAY = dt.date(2026, 10, 30)
TODAY = dt.date(2026, 11, 20)


class GatedStreamLimit:
    """The real steps, the stream-limit step held at a gate (before its SQL) until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.in_transaction: bool | None = None

    def __getattr__(self, name):
        return getattr(batch.steps, name)

    def compute_stream_limit(self, conn, day, *, zone):
        self.entered.set()
        self.in_transaction = conn.in_transaction()
        assert self.release.wait(30), "the test never released the gate"
        return batch.steps.compute_stream_limit(conn, day, zone=zone)


def test_the_stream_limit_step_ticks_while_it_runs_before_any_partition(engine):
    add_videos(engine, range(1, 11))
    add_plays(engine, random_plays([DAY], list(range(1, 11)), 60))
    gated = GatedStreamLimit()
    runner = JobRunner(engine, zone=SEOUL, workers=2, steps=gated, progress_interval_sec=0.05)
    events = runner.run("daily", DAY, partitions=2, today=TODAY)
    started = next(events)
    assert started.type is EventType.JOB_STARTED
    assert gated.entered.wait(10)
    held = [next(events), next(events)]  # the gate is still closed: only ticks can come
    assert not gated.release.is_set() and gated.in_transaction
    for tick in held:
        assert tick.is_stream_limit_progress, tick
        assert (tick.day, tick.job_execution_id, tick.status) == (DAY.isoformat(), started.job_execution_id, "STARTED")
        assert (tick.partitions_total, tick.partitions_done, tick.message) == (2, 0, "")  # the SQL engine: time only
    assert 0 <= held[0].elapsed_ms <= held[1].elapsed_ms
    gated.release.set()
    rest = [*events]
    assert rest[-1].final and rest[-1].type is EventType.JOB_FINISHED, rest[-1]
    assert rest[-1].status == BatchStatus.COMPLETED.name
    first_partition = next(i for i, e in enumerate(rest) if e.type is EventType.PARTITION_STARTED)
    assert not any(e.is_stream_limit_progress for e in rest[first_partition:])
    assert len([e for e in rest if e.type is EventType.PARTITION_FINISHED]) == 2
