"""The Spark engine's steps: batch.steps' public API, the rules computed on Spark.

`compute_stream_limit` (rule 5, keyed by viewer) and `compute_day_partition` (rules 1-4 and
the figures of a video range) compute on Spark DataFrames from the rules' definitions
(batch/spark/rules.py); what they write goes through the SQL engine's own code: the day's
rows of `stream_limited_plays` are rewritten in the caller's transaction, and a partition's
per-video figures are priced and upserted by batch/steps/daily.py's
`write_partition_aggregates` (running totals, tier tables in force, daily rows keyed by
(video, day), weekly and monthly re-sums): identical prices by construction. Everything
else (which days to compute, finishing a day, freezing closed days, watermarks) is the SQL
engine's, re-exported. docs/scaling.md "Two batch engines".

The session and the plays' source come from the settings given to `configure` (by
batch/jobs/worker.py's load_steps), or from the environment on first use.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.computed_days import days_to_compute
from batch.spark import retention, rules
from batch.spark.progress import job_group, latest_group, progress_message, read_progress
from batch.spark.session import spark_failures, spark_session
from batch.spark.sources import plays_frame, videos_frame
from batch.steps.daily import (
    BadPlayRow,
    StepCounts,
    describe_bad_play,
    tier_tables,
    write_partition_aggregates,
)
from batch.steps.days import current_play_watermark, finish_day, video_id_bounds
from batch.steps.dialect import text_with_dates as _text
from batch.steps.frozen import freeze_closed_day
from batch.steps.streams import StreamCounts
from domain import counted_views
from domain.periods import day_bounds_us, local_day_of
from services.common.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = [
    "BadPlayRow",
    "StepCounts",
    "StreamCounts",
    "compute_day_partition",
    "compute_stream_limit",
    "configure",
    "current_play_watermark",
    "days_to_compute",
    "finish_day",
    "freeze_closed_day",
    "progress",
    "stream_progress",
    "tier_tables",
    "video_id_bounds",
]

_lock = threading.Lock()


class _Configured:
    settings: Settings | None = None
    spark: SparkSession | None = None  # the session the steps last used (progress reads it)


def configure(settings: Settings) -> None:
    """The settings the steps read (Spark master, partitions, where the plays are)."""
    with _lock:
        _Configured.settings = settings


def _context() -> tuple[Settings, SparkSession]:
    with _lock:
        if _Configured.settings is None:
            _Configured.settings = Settings()
        settings = _Configured.settings
    spark = spark_session(settings)
    _Configured.spark = spark
    return settings, spark


def progress(day: dt.date, video_id_lo: int, video_id_hi: int) -> str:
    """Spark's progress of a partition's latest computation (its job group's tasks, stages
    and rows read, batch/spark/progress.py): a PARTITION_PROGRESS message; "" when Spark has
    run nothing for it (yet) or no session exists."""
    return progress_message(read_progress(_Configured.spark, latest_group(day, video_id_lo, video_id_hi)))


def stream_progress(day: dt.date) -> str:
    """Spark's progress of the day's latest stream-limit step, as progress() says a
    partition's: the message of the day's PARTITION_PROGRESS without a partition key."""
    return progress_message(read_progress(_Configured.spark, latest_group(day)))


# --- Rule 5, keyed by viewer ---------------------------------------------------------------


def compute_stream_limit(conn: sa.Connection, day: dt.date, *, zone: ZoneInfo) -> StreamCounts:
    """Rewrites the rows of `stream_limited_plays` for local `day` (as batch.steps does):
    its plays over the stream limit. Runs inside the caller's transaction; idempotent."""
    # The new group first: while a session starts, stream_progress says nothing rather
    # than an earlier run's counts of the day.
    group = job_group(day)
    settings, spark = _context()
    spark.sparkContext.setJobGroup(group, f"stream limit {day}")
    day_start_us, _ = day_bounds_us(day, zone)
    params = {"day": day}
    previous = {
        str(r[0])
        for r in conn.execute(_text("SELECT event_id FROM stream_limited_plays WHERE local_day = :day", "day"), params)
    }
    # Read before Spark reads the plays: it sees at least these (batch/steps/streams.py).
    plays_read = int(
        conn.execute(
            _text("SELECT COALESCE(SUM(plays), 0) FROM play_day_counts WHERE local_day = :day", "day"), params
        ).scalar_one()
    )
    longest = int(conn.execute(sa.text("SELECT COALESCE(MAX(duration_sec), 0) FROM videos")).scalar_one())
    window_us = rules.tail_window_us(longest)
    over: list[dict[str, object]] = []
    if window_us > 0:  # else no video has a duration: nothing ever runs
        with spark_failures(f"stream limit {day}"):
            over, seen = _plays_over_the_limit(spark, settings, conn, day, zone, day_start_us - window_us, day_start_us)
        if seen is not None:  # a replica or a Parquet history may hold fewer plays than the count
            plays_read = min(plays_read, seen)
    conn.execute(_text("DELETE FROM stream_limited_plays WHERE local_day = :day", "day"), params)
    if over:
        conn.execute(
            sa.text(
                "INSERT INTO stream_limited_plays (local_day, video_id, viewer_id, started_at_us, event_id)"
                " VALUES (:day, :video_id, :viewer_id, :started_at_us, :event_id)"
            ).bindparams(sa.bindparam("day", type_=sa.Date)),
            [{"day": day, **row} for row in over],
        )
    changed = {str(row["event_id"]) for row in over} != previous
    return StreamCounts(plays_read, len(over), changed)


def _plays_over_the_limit(
    spark: SparkSession,
    settings: Settings,
    conn: sa.Connection,
    day: dt.date,
    zone: ZoneInfo,
    tail_start_us: int,
    day_start_us: int,
) -> tuple[list[dict[str, object]], int | None]:
    """The day's plays started while MAX_STREAMS earlier plays of their viewer (any video)
    were running. Per viewer, each play is a start event (+1 when it runs: a watch time > 0)
    and, when it runs, an end event (-1) at started_at + watch_time / 2 (scaled: exact);
    ordered by (instant, ends before starts, event_id byte-wise), the running sum before a
    start event counts the plays earlier in (started_at, event_id) order still running.
    Also how many plays of the day Spark read when that may be fewer than play_day_counts
    said before (a replica's lag, a Parquet history), else None."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    with_videos = conn.execute(sa.text("SELECT MIN(video_id), MAX(video_id) FROM videos")).one()
    split = (int(with_videos[0] or 1), int(with_videos[1] or 1) + 1)
    plays = plays_frame(spark, settings, days=(local_day_of(tail_start_us, zone), day), split=split)
    started = F.col("started_at_us")
    in_day = F.col("local_day") == F.lit(day)
    in_tail = (started >= tail_start_us) & (started < day_start_us)
    videos = videos_frame(spark, conn).select("video_id", "duration_sec")
    runs = (
        plays.where(in_day | in_tail)
        .join(F.broadcast(videos), "video_id", "left")
        .select(
            "video_id",
            "viewer_id",
            "started_at_us",
            "event_id",
            in_day.alias("in_day"),
            F.coalesce(
                rules.watch_time(F.col("start_position_sec"), F.col("end_position_sec"), F.col("duration_sec")),
                F.lit(0).cast("bigint"),
            ).alias("watch"),
        )
    )
    # One scan: each play gives its start event and, when it runs, its end event.
    events = F.explode(
        F.array(
            F.struct(rules.start_scaled(started).alias("at"), F.lit(1).alias("is_start")),
            F.struct(rules.running_end_scaled(started, F.col("watch")).alias("at"), F.lit(0).alias("is_start")),
        )
    )
    swept = (
        runs.select("*", events.alias("e"))
        .select("*", "e.at", "e.is_start")
        .where((F.col("is_start") == 1) | (F.col("watch") > 0))
        .withColumn("delta", F.when(F.col("is_start") == 0, -1).when(F.col("watch") > 0, 1).otherwise(0))
    )
    order = (
        Window.partitionBy("viewer_id")
        .orderBy("at", "is_start", "event_id")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    swept = swept.withColumn("running", F.sum("delta").over(order) - F.col("delta"))
    over = swept.where((F.col("is_start") == 1) & F.col("in_day") & rules.over_stream_limit(F.col("running")))
    rows = [
        {"video_id": r.video_id, "viewer_id": r.viewer_id, "started_at_us": r.started_at_us, "event_id": r.event_id}
        for r in over.select("video_id", "viewer_id", "started_at_us", "event_id").collect()
    ]
    on_primary = settings.spark_plays == "jdbc" and not settings.read_urls
    return rows, None if on_primary else plays.where(in_day).count()


# --- Rules 1-4 and the figures, keyed by video range ---------------------------------------


def compute_day_partition(
    conn: sa.Connection,
    day: dt.date,
    video_id_lo: int,
    video_id_hi: int,
    *,
    zone: ZoneInfo,
    job_execution_id: int | None = None,
) -> StepCounts:
    """Computes (upserts) the daily rows of videos lo <= id < hi on local `day`, and their
    weekly and monthly rows, as batch.steps.compute_day_partition does. Idempotent. Runs
    inside the caller's transaction; raises BadPlayRow for a play it cannot settle."""
    settings, spark = _context()
    tier_tables(conn, day)  # a bad tier table fails the partition before Spark runs
    spark.sparkContext.setJobGroup(
        job_group(day, video_id_lo, video_id_hi), f"daily {day} [{video_id_lo}, {video_id_hi})"
    )
    what = f"daily {day} [{video_id_lo}, {video_id_hi})"
    with spark_failures(what):
        # Read twice (the figures, then the retention deltas): computed once.
        plays = _classified_plays(spark, settings, conn, day, video_id_lo, video_id_hi, zone).persist()
    try:
        with spark_failures(what):
            figures = _video_figures(plays).collect()
        bad = [int(r.first_bad) for r in figures if r.bad_rows]
        if bad:
            raise describe_bad_play(conn, min(bad), day, zone)
        with spark_failures(what):
            deltas = [r.asDict() for r in retention.deltas(plays).collect()]
    finally:
        plays.unpersist()
    rows = [{c: int(r[c]) for c in _FIGURES} | {"seller_id": r.seller_id} for r in figures]
    written = write_partition_aggregates(conn, day, rows, retention_deltas=deltas, job_execution_id=job_execution_id)
    return StepCounts(rows_read=sum(int(r.plays_read) for r in figures), rows_written=written)


_FIGURES = (
    "video_id",
    "plays_read",
    "views",
    "watch_time_sec",
    "ad_views",
    "excluded_self_view",
    "excluded_overlap",
    "excluded_repeat",
    "excluded_cap",
    "excluded_stream_limit",
)


def _classified_plays(
    spark: SparkSession, settings: Settings, conn: sa.Connection, day: dt.date, lo: int, hi: int, zone: ZoneInfo
) -> DataFrame:
    """The plays of videos [lo, hi) on `day`, classified: `bad`, `exclusion`, and `view`
    (a counted view). The previous playback of rules 2-3 (same viewer and video, in (started_at,
    event_id) order) may be one of the last max(30 s, duration / 2) before the day."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    day_start_us, day_end_us = day_bounds_us(day, zone)
    longest = conn.execute(
        sa.text("SELECT COALESCE(MAX(duration_sec), 0) FROM videos WHERE video_id >= :lo AND video_id < :hi"),
        {"lo": lo, "hi": hi},
    ).scalar_one()
    tail_start_us = day_start_us - max(counted_views.REPEAT_WINDOW_US, rules.tail_window_us(int(longest)))
    plays = plays_frame(spark, settings, days=(local_day_of(tail_start_us, zone), day), videos=(lo, hi))
    started, start, end = F.col("started_at_us"), F.col("start_position_sec"), F.col("end_position_sec")
    in_day = F.col("local_day") == F.lit(day)
    in_tail = (started >= tail_start_us) & (started < day_start_us)
    limited = spark.createDataFrame(
        [
            (str(r[0]), True)
            for r in conn.execute(
                _text(
                    "SELECT event_id FROM stream_limited_plays WHERE local_day = :day"
                    " AND video_id >= :lo AND video_id < :hi",
                    "day",
                ),
                {"day": day, "lo": lo, "hi": hi},
            )
        ],
        "event_id STRING, limited BOOLEAN",
    )
    duration = F.col("duration_sec")
    pair = Window.partitionBy("video_id", "viewer_id").orderBy("started_at_us", "event_id")
    plays = (
        plays.where(in_day | in_tail)
        .join(F.broadcast(videos_frame(spark, conn, (lo, hi))), "video_id", "left")
        .withColumn("in_day", in_day)
        .withColumn("watch", rules.watch_time(start, end, duration))
        .withColumn("prev_started", F.lag(started).over(pair))
        .withColumn("prev_watch", F.lag("watch").over(pair))
        .where(F.col("in_day"))
        .join(F.broadcast(limited), "event_id", "left")
    )
    bad = (
        F.col("seller_id").isNull()
        | (duration < 0)
        | (start < 0)
        | (end < start)
        | (started < day_start_us)
        | (started >= day_end_us)
    )
    exclusion = (
        F.when(rules.is_self_view(F.col("viewer_id"), F.col("seller_id")), rules.SELF_VIEW)
        .when(rules.is_overlap(started, F.col("prev_started"), F.col("prev_watch")), rules.OVERLAP)
        .when(F.coalesce(F.col("limited"), F.lit(False)), rules.STREAM_LIMIT)
        .when(rules.is_repeat(started, F.col("prev_started")), rules.REPEAT)
        .otherwise(rules.PASSING)
    )
    # The rank of a passing play among the pair's passing plays of the day (the same window).
    passing = F.col("exclusion") == rules.PASSING
    so_far = pair.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    plays = (
        plays.withColumn("bad", bad)
        .withColumn("exclusion", exclusion)
        .withColumn("nth", F.sum(F.when(passing, 1).otherwise(0)).over(so_far))
        .withColumn("view", passing & ~rules.over_daily_cap(F.col("nth")))
    )
    return plays


def _video_figures(plays: DataFrame) -> DataFrame:
    """Per video of the classified plays: the figures, plus bad_rows and the smallest bad play_id."""
    from pyspark.sql import functions as F

    start, end, duration = F.col("start_position_sec"), F.col("end_position_sec"), F.col("duration_sec")
    capped = (F.col("exclusion") == rules.PASSING) & ~F.col("view")
    no_watch = F.col("exclusion").isin(rules.SELF_VIEW, rules.OVERLAP, rules.STREAM_LIMIT)

    return plays.groupBy("video_id").agg(
        F.max("seller_id").alias("seller_id"),
        F.count(F.lit(1)).alias("plays_read"),
        _count(F.col("view")).alias("views"),
        F.sum(F.when(no_watch, 0).otherwise(F.coalesce(F.col("watch"), F.lit(0))))
        .cast("bigint")
        .alias("watch_time_sec"),
        F.sum(F.when(F.col("view"), rules.ad_views(start, end, duration)).otherwise(0))
        .cast("bigint")
        .alias("ad_views"),
        _count(F.col("exclusion") == rules.SELF_VIEW).alias("excluded_self_view"),
        _count(F.col("exclusion") == rules.OVERLAP).alias("excluded_overlap"),
        _count(F.col("exclusion") == rules.REPEAT).alias("excluded_repeat"),
        _count(capped).alias("excluded_cap"),
        _count(F.col("exclusion") == rules.STREAM_LIMIT).alias("excluded_stream_limit"),
        _count(F.col("bad")).alias("bad_rows"),
        F.min(F.when(F.col("bad"), F.col("play_id"))).alias("first_bad"),
    )


def _count(condition: Column) -> Column:
    from pyspark.sql import functions as F

    return F.sum(F.when(condition, 1).otherwise(0)).cast("bigint")
