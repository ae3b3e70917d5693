"""The progress of a day's stream-limit step (batch/jobs/day.py `StreamLimitTicks`), which
runs in the coordinator's own thread: ticks from a side thread while the step blocks, with the
engine's progress of it (`stream_progress`, the Spark engine's) or none (the SQL engine's),
its last counts once it ends and nothing after; the event that says it (a PARTITION_PROGRESS
without a partition key) and the CLI's bar for it. A fake steps module stands in for the
engine: its compute_stream_limit blocks until the test releases it."""

from __future__ import annotations

import datetime as dt
import queue
import threading
import types

import pytest

from batch.jobs.day import StreamLimitTicks
from batch.jobs.model import EventType, JobEvent
from entrypoints.cli.batch import BarsView, PlainView

DAY = dt.date(2026, 11, 2)
INTERVAL = 0.01


class BlockingSteps(types.ModuleType):
    """An engine whose stream-limit step blocks until `release`; with `counts`, it says its
    progress as the Spark engine does (the message changes as it goes on)."""

    def __init__(self, *, counts: bool) -> None:
        super().__init__("blocking_steps")
        self.entered, self.release = threading.Event(), threading.Event()
        self.reads = 0
        if counts:
            self.stream_progress = self._stream_progress

    def compute_stream_limit(self, conn, day, *, zone):
        self.entered.set()
        assert self.release.wait(10), "the test never released the step"
        return 7

    def _stream_progress(self, day: dt.date) -> str:
        assert day == DAY
        self.reads += 1
        done = 8 if self.release.is_set() else 1
        return f"spark: {done}/8 tasks, 0/1 stages of 1 job, {self.reads:,} rows read"


def run_step(steps: BlockingSteps, ticks: queue.Queue) -> threading.Thread:
    """The step as the coordinator runs it: in its own thread, within the ticks."""

    def coordinator() -> None:
        with StreamLimitTicks(steps, DAY, INTERVAL, lambda ms, message: ticks.put((ms, message))):
            steps.compute_stream_limit(None, DAY, zone=None)
        ticks.put(None)  # the step is over

    thread = threading.Thread(target=coordinator)
    thread.start()
    assert steps.entered.wait(10)
    return thread


def drain(ticks: queue.Queue) -> list:
    found = []
    while (item := ticks.get(timeout=10)) is not None:
        found.append(item)
    return found


def test_the_spark_engine_s_progress_ticks_while_the_step_blocks_and_its_last_counts_end_it():
    steps, ticks = BlockingSteps(counts=True), queue.Queue()
    thread = run_step(steps, ticks)
    first = ticks.get(timeout=10)  # while it is blocked
    second = ticks.get(timeout=10)
    assert thread.is_alive() and not steps.release.is_set()
    assert first[1].startswith("spark: 1/8 tasks") and second[1].startswith("spark: 1/8 tasks")
    assert 0 <= first[0] <= second[0]
    steps.release.set()
    rest = drain(ticks)
    thread.join(10)
    # The last one is the engine's counts as the step ended; none comes after it.
    assert rest and rest[-1][1].startswith("spark: 8/8 tasks")
    assert rest[-1][1].endswith(f"{steps.reads:,} rows read")
    assert ticks.empty()


def test_the_sql_engine_ticks_say_how_long_and_no_last_counts():
    steps, ticks = BlockingSteps(counts=False), queue.Queue()
    thread = run_step(steps, ticks)
    ms_1, message = ticks.get(timeout=10)
    ms_2, _ = ticks.get(timeout=10)
    assert message == "" and 0 <= ms_1 <= ms_2
    steps.release.set()
    assert all(message == "" for _, message in drain(ticks))
    thread.join(10)


def test_a_step_that_fails_stops_its_ticks_and_the_error_goes_on():
    steps, ticks = BlockingSteps(counts=True), queue.Queue()

    with pytest.raises(RuntimeError, match="database went away"):
        with StreamLimitTicks(steps, DAY, INTERVAL, lambda ms, message: ticks.put((ms, message))):
            raise RuntimeError("database went away")
    while not ticks.empty():
        ticks.get()
    threading.Event().wait(5 * INTERVAL)
    assert ticks.empty()


def stream_tick(message: str = "", elapsed_ms: int = 2000) -> JobEvent:
    return JobEvent(
        EventType.PARTITION_PROGRESS,
        "daily",
        job_execution_id=7,
        day=DAY.isoformat(),
        elapsed_ms=elapsed_ms,
        status="STARTED",
        message=message,
        partitions_total=2,
    )


def test_a_progress_event_without_a_partition_is_the_stream_limit_step_s():
    assert stream_tick().is_stream_limit_progress
    partition = JobEvent(EventType.PARTITION_PROGRESS, "daily", partition_key="p0")
    assert not partition.is_stream_limit_progress
    assert not JobEvent(EventType.JOB_STARTED, "daily").is_stream_limit_progress


def test_the_cli_shows_the_stream_limit_step(capsys):
    PlainView().update(stream_tick("spark: 1/8 tasks"))
    assert "PARTITION_PROGRESS 2026-11-02 execution=7 step=stream-limit elapsed=2000ms" in capsys.readouterr().out
    view = BarsView(total_days=1)
    view.update(JobEvent(EventType.JOB_STARTED, "daily", job_execution_id=7, day="2026-11-02", partitions_total=2))
    view.update(stream_tick())
    view.update(stream_tick("spark: 3/8 tasks", elapsed_ms=4000))
    view.update(stream_tick(elapsed_ms=6000))  # a tick without new counts
    (task,) = [t for t in view.progress.tasks if t.description.strip() == "stream limit"]
    assert (task.completed, task.fields["info"]) == (0, "running 6.0 s")
    view.update(JobEvent(EventType.PARTITION_STARTED, "daily", day="2026-11-02", partition_key="p0"))
    assert (task.completed, task.fields["info"]) == (1, "done, spark: 3/8 tasks")
