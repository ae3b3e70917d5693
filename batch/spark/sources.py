"""Where the Spark engine reads the plays and the videos (docs/scaling.md "Two batch engines").

The plays come from the database through Spark's JDBC source (the first read replica when
`db_read_urls` names one, else the primary), split by video id into `spark_partitions`
ranges, with the time range pushed down as a WHERE on `local_day` and `started_at_us`; or,
with `spark_plays=parquet:URI`, from a Parquet history laid out as
`URI/local_day=YYYY-MM-DD/*.parquet` holding the plays table's columns except `local_day`,
which partition discovery takes from the folder name. Both give the same columns and types.
The videos (small: seller and duration) come through the caller's connection.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa

from batch.spark.session import jdbc_source
from services.common.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

PLAY_COLUMNS = (
    "play_id",
    "event_id",
    "video_id",
    "viewer_id",
    "started_at_us",
    "local_day",
    "start_position_sec",
    "end_position_sec",
    "received_at_us",
)
PARQUET = "parquet:"


def plays_frame(
    spark: SparkSession,
    settings: Settings,
    *,
    days: tuple[dt.date, dt.date],
    started_us: tuple[int, int] | None = None,
    videos: tuple[int, int] | None = None,
    split: tuple[int, int] | None = None,
) -> DataFrame:
    """The plays with `days[0] <= local_day <= days[1]`, and when given
    `started_us[0] <= started_at_us < started_us[1]` and `videos[0] <= video_id < videos[1]`.
    A JDBC read splits [lo, hi) of video ids (`videos`, else `split`) into spark_partitions."""
    first, last = days
    where = [f"local_day >= '{first.isoformat()}'", f"local_day <= '{last.isoformat()}'"]
    if started_us is not None:
        where += [f"started_at_us >= {int(started_us[0])}", f"started_at_us < {int(started_us[1])}"]
    if videos is not None:
        where += [f"video_id >= {int(videos[0])}", f"video_id < {int(videos[1])}"]
    if settings.spark_plays.startswith(PARQUET):
        return _parquet_plays(spark, settings.spark_plays[len(PARQUET) :], " AND ".join(where))
    if settings.spark_plays != "jdbc":
        raise ValueError(f"PAYSYSTEM_SPARK_PLAYS must be jdbc or parquet:URI, got {settings.spark_plays!r}")
    source = jdbc_source(_read_url(settings))
    lo, hi = videos or split or (1, 2**62)
    query = f"(SELECT {', '.join(PLAY_COLUMNS)} FROM plays WHERE {' AND '.join(where)}) AS plays_range"
    frame = spark.read.jdbc(
        source.url,
        query,
        column="video_id",
        lowerBound=lo,
        upperBound=max(hi, lo + 1),
        numPartitions=max(1, settings.spark_partitions),
        properties=source.properties,
    )
    return frame.select(*PLAY_COLUMNS)


def _parquet_plays(spark: SparkSession, uri: str, where: str) -> DataFrame:
    from pyspark.sql import functions as F

    base = uri.rstrip("/")
    frame = spark.read.option("basePath", base).parquet(f"{base}/local_day=*")
    frame = frame.withColumn("local_day", F.col("local_day").cast("date"))
    return frame.where(where).select(*PLAY_COLUMNS)


def videos_frame(spark: SparkSession, conn: sa.Connection, videos: tuple[int, int] | None = None) -> DataFrame:
    """video_id, seller_id, duration_sec of the videos (in `videos[0] <= video_id < videos[1]`),
    read through the caller's connection: a small local relation that Spark broadcasts to
    every task (videos x 24 bytes; DESIGN.md section 5 keeps the play history the one table
    that grows without bound)."""
    where = "1 = 1" if videos is None else f"video_id >= {int(videos[0])} AND video_id < {int(videos[1])}"
    query = f"SELECT video_id, seller_id, duration_sec FROM videos WHERE {where}"
    rows = [tuple(int(x) for x in row) for row in conn.execute(sa.text(query))]
    return spark.createDataFrame(rows, "video_id BIGINT, seller_id BIGINT, duration_sec BIGINT")


def _read_url(settings: Settings) -> str:
    """The first read replica when there is one (the plays are history: a replica's lag is
    covered by the plays_read count, batch/steps/days.py), else the primary."""
    return settings.read_urls[0] if settings.read_urls else settings.database_url
