"""The batch's Prometheus metrics (docs/operations.md alerts on them): every partition attempt
that ends is counted by status, and the rows it wrote, in the process that ran it; a failed
run counts in the failed-job counter, a successful one sets the last-success gauge (and a
starting batch instance reads it from the job repository)."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator

import sqlalchemy as sa
from prometheus_client import REGISTRY

import batch.steps
from batch.jobs.runner import JobRunner
from batch.jobs.tables import job_execution
from batch.wiring import show_last_successes
from services.common import db
from services.common.metrics import BATCH_LAST_SUCCESS
from services.common.settings import Settings
from tests.databases import fresh_database
from tests.plugins.jobs import SEOUL, add_plays, add_videos, random_plays

DAY = dt.date(2026, 7, 7)
VIDEOS = list(range(1, 31))


def _count(status: str) -> float:
    return REGISTRY.get_sample_value("paysystem_batch_partitions_total", {"job": "daily", "status": status}) or 0.0


def _rows() -> float:
    return REGISTRY.get_sample_value("paysystem_batch_rows_written_total", {"job": "daily"}) or 0.0


def _failed_jobs() -> float:
    return REGISTRY.get_sample_value("paysystem_batch_jobs_failed_total", {"job": "daily"}) or 0.0


def _last_success() -> float | None:
    return REGISTRY.get_sample_value("paysystem_batch_last_success_timestamp_seconds", {"job": "daily"})


@contextlib.contextmanager
def _day_of_plays(tmp_path, prefix: str, per_video: int) -> Iterator[sa.Engine]:
    """A fresh SQLite database with VIDEOS and their plays on DAY."""
    with fresh_database("sqlite", prefix, tmp_path) as url:
        engine = db.make_engine(Settings(data_dir=tmp_path, db_url=url))
        try:
            add_videos(engine, VIDEOS)
            add_plays(engine, random_plays([DAY], VIDEOS, per_video))
            yield engine
        finally:
            engine.dispose()


def _run(engine: sa.Engine, partitions: int) -> list:
    runner = JobRunner(engine, zone=SEOUL, workers=1, steps=batch.steps)
    return list(runner.run("daily", DAY, partitions=partitions, today=DAY + dt.timedelta(days=2)))


def test_completed_and_failed_partitions_and_written_rows_are_counted(tmp_path):
    with _day_of_plays(tmp_path, "metrics_", 200) as engine:
        with engine.begin() as conn:  # a play of a video that does not exist fails its partition
            conn.execute(sa.text("DELETE FROM videos WHERE video_id = 20"))
        before = {s: _count(s) for s in ("COMPLETED", "FAILED")}
        rows_before, failed_jobs_before, success_before = _rows(), _failed_jobs(), _last_success()
        events = _run(engine, 3)

    assert events[-1].status == "FAILED"
    assert _failed_jobs() - failed_jobs_before == 1
    assert _last_success() == success_before  # a failed run is no success
    assert _count("COMPLETED") - before["COMPLETED"] == 2
    assert _count("FAILED") - before["FAILED"] == 1
    written = sum(e.rows_written for e in events if e.type.name == "PARTITION_FINISHED")
    assert written > 0 and _rows() - rows_before == written


def test_a_successful_run_sets_the_last_success_gauge_and_a_starting_instance_reads_it_back(tmp_path):
    with _day_of_plays(tmp_path, "metrics_ok_", 50) as engine:
        failed_before = _failed_jobs()
        started = time.time()
        events = _run(engine, 2)
        ended = time.time()
        assert events[-1].status == "COMPLETED" and events[-1].final
        # Set before the final event: whoever saw the run end sees the gauge.
        assert started <= _last_success() <= ended
        assert _failed_jobs() == failed_before

        # A batch instance starting later (the process's own value gone) reads the newest
        # COMPLETED execution's end from the job repository.
        BATCH_LAST_SUCCESS.labels("daily").set(0)
        with engine.connect() as conn:
            ended_us = conn.execute(
                sa.select(sa.func.max(job_execution.c.ended_at_us)).where(job_execution.c.status == "COMPLETED")
            ).scalar_one()
        show_last_successes(engine)
    assert ended_us is not None and _last_success() == ended_us / 1e6
    assert started <= _last_success() <= ended
