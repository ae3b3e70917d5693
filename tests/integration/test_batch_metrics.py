"""The batch's Prometheus counters (docs/operations.md alerts on them): every partition attempt
that ends is counted by status, and the rows it wrote, in the process that ran it."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from prometheus_client import REGISTRY

import batch.steps
from batch.jobs.runner import JobRunner
from services.common import db
from services.common.settings import Settings
from tests.databases import fresh_database
from tests.fixtures_jobs import SEOUL, add_plays, add_videos, random_plays

DAY = dt.date(2026, 7, 7)
VIDEOS = list(range(1, 31))


def _count(status: str) -> float:
    return REGISTRY.get_sample_value("paysystem_batch_partitions_total", {"job": "daily", "status": status}) or 0.0


def _rows() -> float:
    return REGISTRY.get_sample_value("paysystem_batch_rows_written_total", {"job": "daily"}) or 0.0


def test_completed_and_failed_partitions_and_written_rows_are_counted(tmp_path):
    with fresh_database("sqlite", "metrics_", tmp_path) as url:
        engine = db.make_engine(Settings(data_dir=tmp_path, db_url=url))
        try:
            add_videos(engine, VIDEOS)
            add_plays(engine, random_plays([DAY], VIDEOS, 200))
            with engine.begin() as conn:  # a play of a video that does not exist fails its partition
                conn.execute(sa.text("DELETE FROM videos WHERE video_id = 20"))
            before = {s: _count(s) for s in ("COMPLETED", "FAILED")}
            rows_before = _rows()

            runner = JobRunner(engine, zone=SEOUL, workers=1, steps=batch.steps)
            events = list(runner.run("daily", DAY, partitions=3, today=DAY + dt.timedelta(days=2)))
        finally:
            engine.dispose()

    assert events[-1].status == "FAILED"
    assert _count("COMPLETED") - before["COMPLETED"] == 2
    assert _count("FAILED") - before["FAILED"] == 1
    written = sum(e.rows_written for e in events if e.type.name == "PARTITION_FINISHED")
    assert written > 0 and _rows() - rows_before == written
