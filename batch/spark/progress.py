"""A Spark computation's progress, as its partition's PARTITION_PROGRESS events say it
(docs/scaling.md "Two batch engines"): the tasks and stages of its job group's jobs, from the
SparkContext's status tracker, and the rows its stages have read so far, from Spark's own
stage data (the input records of the tasks that ended: the scans of the plays).

`progress_message` is a plain function of the counts (tested without a JVM); `read_progress`
reads them from a live session. pyspark is imported by neither: the session is the caller's.
A computation (a partition's, or a day's stream-limit step) runs under a new job group each
time (`job_group`); its progress is that of its latest (`latest_group`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

_lock = threading.Lock()
_groups: dict[str, str] = {}  # a computation's latest job group
_runs = itertools.count(1)


def _computation(day: dt.date, video_id_lo: int | None, video_id_hi: int | None) -> str:
    """A partition's computation of `day` (a video range), or the day's stream step (none)."""
    return f"{day.isoformat()}-" + ("streams" if video_id_lo is None else f"{video_id_lo}-{video_id_hi}")


def job_group(day: dt.date, video_id_lo: int | None = None, video_id_hi: int | None = None) -> str:
    """A new Spark job group for a computation of a partition (or of the day's stream step),
    remembered as its latest."""
    what = _computation(day, video_id_lo, video_id_hi)
    with _lock:
        _groups[what] = group = f"paysystem-daily-{what}-{next(_runs)}"
    return group


def latest_group(day: dt.date, video_id_lo: int | None = None, video_id_hi: int | None = None) -> str | None:
    """The computation's latest job group, None if it never ran in this process."""
    with _lock:
        return _groups.get(_computation(day, video_id_lo, video_id_hi))


@dataclass(frozen=True)
class SparkProgress:
    """The counts of one job group. `rows_read` is None when Spark did not say (its stage
    data is an internal API of the driver); a stage is done when all its tasks are."""

    jobs: int
    stages_done: int
    stages: int
    tasks_done: int
    tasks: int
    rows_read: int | None = None


def progress_message(progress: SparkProgress | None) -> str:
    """`spark: 12/14 tasks, 3/4 stages of 2 jobs, 1,234 rows read`; "" when Spark has run
    nothing for the computation (yet). Stages that adaptive execution skipped stay in the
    totals (Spark lists them with the job, never runs them)."""
    if progress is None or progress.jobs == 0:
        return ""
    jobs = f"{progress.jobs} job" + ("" if progress.jobs == 1 else "s")
    message = (
        f"spark: {progress.tasks_done}/{progress.tasks} tasks,"
        f" {progress.stages_done}/{progress.stages} stages of {jobs}"
    )
    if progress.rows_read is not None:
        message += f", {progress.rows_read:,} rows read"
    return message


def read_progress(spark: SparkSession | None, group: str | None) -> SparkProgress | None:
    """The counts of the jobs of `group` as the driver knows them now; None if it has none
    (or there is no session or group yet)."""
    if spark is None or group is None:
        return None
    sc = spark.sparkContext
    tracker = sc.statusTracker()
    job_ids = tracker.getJobIdsForGroup(group)
    if not job_ids:
        return None
    stage_ids: set[int] = set()
    for job_id in job_ids:
        job = tracker.getJobInfo(job_id)
        stage_ids.update(job.stageIds if job is not None else ())
    store = _status_store(spark)
    stages_done = tasks_done = tasks = 0
    rows: int | None = 0 if store is not None else None
    for stage_id in sorted(stage_ids):
        stage = tracker.getStageInfo(stage_id)
        if stage is None:
            continue
        tasks_done += stage.numCompletedTasks
        tasks += stage.numTasks
        stages_done += int(stage.numTasks > 0 and stage.numCompletedTasks >= stage.numTasks)
        if rows is not None:
            rows = _add_input_records(store, stage_id, rows)
    return SparkProgress(len(job_ids), stages_done, len(stage_ids), tasks_done, tasks, rows)


def _status_store(spark: SparkSession) -> Any:
    """The driver's AppStatusStore (what Spark's UI and status tracker read), or None."""
    try:
        return spark.sparkContext._jsc.sc().statusStore()
    except Exception:  # noqa: BLE001 - an internal API: without it, rows read come at the end
        log.debug("no Spark status store", exc_info=True)
        return None


def _add_input_records(store: Any, stage_id: int, rows: int | None) -> int | None:
    """`rows` plus the input records of the stage's last attempt; None once Spark did not say."""
    if rows is None:
        return None
    try:
        return rows + int(store.lastStageAttempt(stage_id).inputRecords())
    except Exception:  # noqa: BLE001 - e.g. the stage was evicted from the store meanwhile
        log.debug("no input records for stage %s", stage_id, exc_info=True)
        return None
