"""A Spark driver in a child process, for the tests of the standalone cluster.

Why a child process: `SparkSession.builder.getOrCreate()` hands back the session already
running in the process (the `local[2]` one of tests/plugins/spark.py, or one another test
left), whatever master the settings name; stopping it under the other tests' feet would
break them, and a JVM's SparkContext is one at a time. A child has its own JVM and its own
session on the cluster, built by the engine's `spark_session(settings)`, and leaves
nothing behind in the test process. It costs a driver JVM start (a few seconds).

The child (`python -m tests.spark_cluster_job ...`) writes JSON lines on stdout, Spark's
log goes to stderr (a file of the test's tmp dir):
  {"event": "executors", "ids": [...]}           once the expected executors registered
  {"event": "progress", "completed": n, "active": m}  tasks of the running stages, on change
  {"event": "result", "counts": {video: plays}, "where": [...], "attempts": n}

The job: a JDBC read of the plays table split by video_id ranges, each partition tagged in
a Python task with the worker and executor it ran on (the executor's working directory is
<worker work dir>/<app id>/<executor id>), optionally sleeping to make the job longer,
then groupBy(video_id).count().
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class DriverProcess:
    """The parent's side: starts the child and reads its events."""

    def __init__(self, args: list[str], log_path: Path, module: str = "tests.spark_cluster_job") -> None:
        env = dict(os.environ)
        env["PYSPARK_PYTHON"] = sys.executable  # the executors' Python workers: this venv's
        env["PYTHONUNBUFFERED"] = "1"
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,
            )
        self.events: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        decoder = json.JSONDecoder()
        for line in self.proc.stdout:
            # Every JSON object on the line (emit writes one per line under a lock; a line
            # that still holds two, or a stray non-JSON text, must not end the reader).
            rest = line.strip()
            while rest.startswith("{"):
                try:
                    item, end = decoder.raw_decode(rest)
                except json.JSONDecodeError:
                    break
                self.events.put(item)
                rest = rest[end:].lstrip()
        self.events.put({"event": "exit"})

    def wait_for(self, event: str, timeout: float, accept=lambda e: True) -> dict:
        """The next event of that kind that `accept`s; fails with the driver's log if it ends first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self.events.get(timeout=0.5)
            except queue.Empty:
                # The child's JVM may hold stdout open a while after the child died.
                if self.proc.poll() is not None:
                    item = {"event": "exit"}
                elif time.monotonic() > deadline:
                    raise AssertionError(f"no {event} event in {timeout:.0f} s:\n{self.log_tail()}") from None
                else:
                    continue
            if item["event"] == event and accept(item):
                return item
            if item["event"] == "exit":
                self.proc.wait(10)
                raise AssertionError(f"the driver exited ({self.proc.returncode}) before {event}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace").splitlines() if self.log_path.exists() else []
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """Kills the child and its driver JVM (its process group) if still running."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)


def run_driver(log_path: Path, **options) -> DriverProcess:
    """Starts the child with these options (see parse_args: master, db_url, videos, ...)."""
    args: list[str] = []
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return DriverProcess(args, log_path)


# --- the child's side ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--master", required=True)
    p.add_argument("--db-url", required=True, help="SQLAlchemy URL of the database holding `plays`")
    p.add_argument("--videos", type=int, required=True, help="video ids are 1..videos")
    p.add_argument("--partitions", type=int, default=8, help="JDBC partitions (video_id ranges)")
    p.add_argument("--executors", type=int, default=2, help="wait for this many before the job")
    p.add_argument("--task-seconds", type=float, default=0.0, help="sleep of each read task")
    p.add_argument("--executor-memory", default="512m")
    return p.parse_args(argv)


_EMIT_LOCK = threading.Lock()


def emit(event: str, **fields) -> None:
    """One JSON line on stdout. A lock and one write: `print` from two threads (the job and
    its progress thread) can write both objects before either newline."""
    line = json.dumps({"event": event, **fields}) + "\n"
    with _EMIT_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from pyspark import TaskContext
    from pyspark.sql import functions as F

    from batch.spark.session import jdbc_source, spark_session
    from services.common.settings import Settings

    settings = Settings(
        batch_engine="spark",
        spark_master=args.master,
        spark_executor_memory=args.executor_memory,
        spark_partitions=args.partitions,
    )
    spark = spark_session(settings)
    jsc = spark.sparkContext._jsc.sc()  # type: ignore[union-attr]
    deadline = time.monotonic() + 120
    while True:
        infos = jsc.statusTracker().getExecutorInfos()  # the driver counts as one
        if len(infos) - 1 >= args.executors or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    emit("executors", count=len(infos) - 1)
    threading.Thread(target=report_progress, args=(spark.sparkContext,), daemon=True).start()

    source = jdbc_source(args.db_url)
    plays = spark.read.jdbc(
        source.url,
        "plays",
        column="video_id",
        lowerBound=1,
        upperBound=args.videos + 1,
        numPartitions=args.partitions,
        properties=source.properties,
    ).select("video_id")
    task_seconds = args.task_seconds

    def tag(rows):
        # The executor's working directory: <worker work dir>/<app id>/<executor id>.
        cwd = Path(os.getcwd())
        where = f"{cwd.parent.parent.name}/{cwd.name}"
        context = TaskContext.get()
        attempt = context.attemptNumber() if context else 0
        time.sleep(task_seconds)
        for row in rows:
            yield (row.video_id, where, attempt)

    tagged = spark.createDataFrame(plays.rdd.mapPartitions(tag), "video_id long, where string, attempt int")
    result = (
        tagged.groupBy("video_id")
        .agg(F.count("*").alias("n"), F.collect_set("where").alias("where"), F.max("attempt").alias("attempt"))
        .collect()
    )
    emit(
        "result",
        counts={str(row.video_id): row.n for row in result},
        where=sorted({w for row in result for w in row.where}),
        attempts=max((row.attempt for row in result), default=0),
    )
    spark.stop()


def report_progress(sc) -> None:
    tracker = sc.statusTracker()
    last = None
    while True:
        completed = active = 0
        for stage_id in tracker.getActiveStageIds():
            info = tracker.getStageInfo(stage_id)
            if info is not None:
                completed += info.numCompletedTasks
                active += info.numActiveTasks
        if (completed, active) != last:
            emit("progress", completed=completed, active=active)
            last = (completed, active)
        time.sleep(0.1)


if __name__ == "__main__":
    main()
