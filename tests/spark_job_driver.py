"""A daily job on the Spark engine in a child process, for the fault tests of the Spark
engine on a standalone cluster (tests/faults/test_spark_engine_faults.py).

The child (`python -m tests.spark_job_driver --date D --today T [--task-seconds S]`) takes
its settings from the PAYSYSTEM_* environment (PAYSYSTEM_BATCH_ENGINE=spark,
PAYSYSTEM_SPARK_MASTER, PAYSYSTEM_DB_URL, ...), runs the real job path (JobRunner with
`load_steps(settings)`) and writes JSON lines on stdout (Spark's log goes to stderr):
  {"event": "executors", "count": n}                  once the expected executors registered
  {"event": "progress", "completed": n, "active": m}  tasks of the running stages, on change
  {"event": "job", "type": ..., "status": ..., "message": ..., "execution": id}  each JobEvent
  {"event": "result", "type": ..., "status": ..., "message": ..., "execution": id}  the final one

Why a child process: tests/spark_cluster_job.py. `--task-seconds` makes each task of the
plays' JDBC read sleep that long (a mapPartitions around the engine's plays_frame), so a
fault injected "in the middle" of a job lands while tasks run; the figures do not change.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import threading
import time

from tests.spark_cluster_job import emit, report_progress


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--date", required=True)
    p.add_argument("--today", required=True)
    p.add_argument("--partitions", type=int, default=2, help="the job's partitions (video ranges)")
    p.add_argument("--executors", type=int, default=2, help="wait for this many before the job")
    p.add_argument("--task-seconds", type=float, default=0.0, help="sleep of each plays read task")
    return p.parse_args(argv)


def _slow_plays(seconds: float) -> None:
    """Each task of the plays' read sleeps `seconds` first (same rows, same schema)."""
    import batch.spark.steps

    original = batch.spark.steps.plays_frame

    def plays_frame(spark, *args, **kwargs):
        frame = original(spark, *args, **kwargs)

        def sleepy(rows):
            time.sleep(seconds)
            yield from rows

        return spark.createDataFrame(frame.rdd.mapPartitions(sleepy), frame.schema)

    batch.spark.steps.plays_frame = plays_frame  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import sqlalchemy as sa

    from batch.jobs.runner import JobRunner
    from batch.jobs.worker import load_steps
    from batch.spark.session import spark_session
    from services.common.settings import Settings

    settings = Settings()
    steps = load_steps(settings)
    spark = spark_session(settings)
    tracker = spark.sparkContext._jsc.sc().statusTracker()  # type: ignore[union-attr]
    deadline = time.monotonic() + 120
    while len(tracker.getExecutorInfos()) - 1 < args.executors and time.monotonic() < deadline:
        time.sleep(0.2)  # the driver counts as one
    emit("executors", count=len(tracker.getExecutorInfos()) - 1)
    threading.Thread(target=report_progress, args=(spark.sparkContext,), daemon=True).start()
    if args.task_seconds:
        _slow_plays(args.task_seconds)

    engine = sa.create_engine(settings.database_url)
    runner = JobRunner(engine, zone=settings.zone, workers=2, steps=steps, progress_interval_sec=0.5)
    day, today = dt.date.fromisoformat(args.date), dt.date.fromisoformat(args.today)
    for event in runner.run("daily", day, partitions=args.partitions, today=today):
        fields = {
            "type": event.type.value,
            "status": event.status,
            "message": event.message,
            "execution": event.job_execution_id,
        }
        emit("result" if event.final else "job", **fields)
    engine.dispose()
    # The session may be unable to stop cleanly (its master killed): leave at once.
    os._exit(0)


if __name__ == "__main__":
    main()
