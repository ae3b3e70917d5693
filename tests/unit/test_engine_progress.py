"""The engine's progress in the partition events (docs/scaling.md "Two batch engines"): the
Spark engine's message from its counts (batch/spark/progress.py, no JVM), the coordinator's
ticks carrying it for a partition of the local pool (read from the engine) and for a
dispatched one (the latest its worker's stream sent), the engine's last counts just before
the outcome, and the CLI's bar text."""

from __future__ import annotations

from batch.jobs.handlers import Tracker
from batch.jobs.model import BatchStatus, EventStatus, EventType, JobEvent
from batch.spark.progress import SparkProgress, progress_message
from entrypoints.cli.batch import progress_info


def test_the_spark_message_says_tasks_stages_jobs_and_rows_read():
    assert progress_message(SparkProgress(2, 3, 4, 12, 14, 1234567)) == (
        "spark: 12/14 tasks, 3/4 stages of 2 jobs, 1,234,567 rows read"
    )
    assert progress_message(SparkProgress(1, 0, 1, 0, 8, 0)) == "spark: 0/8 tasks, 0/1 stages of 1 job, 0 rows read"
    # Spark's stage data unavailable: no rows read rather than a wrong zero.
    assert progress_message(SparkProgress(1, 1, 1, 8, 8, None)) == "spark: 8/8 tasks, 1/1 stages of 1 job"


def test_no_spark_job_yet_is_no_message():
    assert progress_message(None) == ""
    assert progress_message(SparkProgress(0, 0, 0, 0, 0, 0)) == ""


def _event(type_: EventType, key: str, *, status: str = BatchStatus.STARTED.name, message: str = "") -> JobEvent:
    return JobEvent(type_, "daily", partition_key=key, status=status, message=message)


def _progress(events: list[JobEvent]) -> list[tuple[str, str]]:
    return [(e.partition_key, e.message) for e in events if e.type is EventType.PARTITION_PROGRESS]


def test_local_ticks_read_the_engine_and_its_last_counts_come_before_the_outcome():
    emitted: list[JobEvent] = []
    counts = {"p0": "spark: 1/4 tasks", "p1": ""}  # p1: an engine with nothing to say
    tracker = Tracker("daily", 7, "2026-11-30", 2, 0, emitted.append, read_progress=lambda key: counts[key])
    tracker.relay(_event(EventType.PARTITION_STARTED, "p0"))
    tracker.relay(_event(EventType.PARTITION_STARTED, "p1"))
    tracker.tick()
    assert sorted(_progress(emitted)) == [("p0", "spark: 1/4 tasks"), ("p1", "")]
    counts["p0"] = "spark: 4/4 tasks"
    emitted.clear()
    tracker.relay(_event(EventType.PARTITION_FINISHED, "p0", status=BatchStatus.COMPLETED.name))
    tracker.relay(_event(EventType.PARTITION_FAILED, "p1", status=BatchStatus.FAILED.name))
    assert [(e.type, e.partition_key, e.message) for e in emitted] == [
        (EventType.PARTITION_PROGRESS, "p0", "spark: 4/4 tasks"),
        (EventType.PARTITION_FINISHED, "p0", ""),
        (EventType.PARTITION_FAILED, "p1", ""),
    ]
    assert all(e.job_execution_id == 7 and e.partitions_total == 2 for e in emitted)
    emitted.clear()
    tracker.tick()
    assert emitted == []  # nothing runs


def test_dispatched_ticks_carry_the_latest_message_of_the_worker():
    emitted: list[JobEvent] = []
    tracker = Tracker("daily", 7, "2026-11-30", 1, 0, emitted.append)
    tracker.relay(_event(EventType.PARTITION_STARTED, "p0"))
    tracker.relay(_event(EventType.PARTITION_PROGRESS, "p0", message="spark: 2/9 tasks"))
    tracker.relay(_event(EventType.PARTITION_PROGRESS, "p0"))  # a keep-alive without one
    assert _progress(emitted) == []  # a worker's tick is not passed on: the coordinator ticks
    tracker.tick()
    assert _progress(emitted) == [("p0", "spark: 2/9 tasks")]
    # A retry notice is an event of its own, passed on; the new attempt starts afresh.
    tracker.relay(_event(EventType.PARTITION_PROGRESS, "p0", status=EventStatus.RETRYING.value, message="lost"))
    assert emitted[-1].status == EventStatus.RETRYING.value and emitted[-1].message == "lost"
    tracker.relay(_event(EventType.PARTITION_STARTED, "p0"))
    emitted.clear()
    tracker.tick()
    assert _progress(emitted) == [("p0", "")]
    tracker.relay(_event(EventType.PARTITION_PROGRESS, "p0", message="spark: 9/9 tasks"))
    emitted.clear()
    tracker.relay(_event(EventType.PARTITION_FINISHED, "p0", status=BatchStatus.COMPLETED.name))
    assert [(e.type, e.message) for e in emitted] == [
        (EventType.PARTITION_PROGRESS, "spark: 9/9 tasks"),
        (EventType.PARTITION_FINISHED, ""),
    ]


def test_the_cli_bar_shows_the_engine_progress():
    tick = JobEvent(EventType.PARTITION_PROGRESS, "daily", partition_key="p0", elapsed_ms=3200)
    assert progress_info(tick) == "running 3.2 s"
    spark = JobEvent(
        EventType.PARTITION_PROGRESS, "daily", partition_key="p0", elapsed_ms=3200, message="spark: 2/9 tasks"
    )
    assert progress_info(spark) == "running 3.2 s, spark: 2/9 tasks"
