"""Audience retention on the Spark engine (DESIGN.md section 2c; domain/retention.py): the
same +1/-1 deltas per (video, point) as the SQL engine's batch/steps/retention.py, from the
classified plays of a partition (batch/spark/steps.py), handed to the SQL engine's
write_partition_aggregates, which writes the rows with the SQL engine's own statement."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from domain.retention import POINTS


def first_point(start: str, end: str, duration: str) -> Column:
    # domain/retention.first_point: the least k with k * duration >= start * 100, in integer
    # arithmetic (`div`, exact); a zero duration puts every point at second 0. Column names.
    points = POINTS
    return F.expr(
        f"CAST(CASE WHEN {duration} = 0 THEN (CASE WHEN {start} = 0 AND {end} > 0 THEN 0 ELSE {points} END)"
        f" ELSE least({points}, ({start} * {points} + {duration} - 1) div {duration}) END AS INT)"
    )


def end_point(end: str, duration: str) -> Column:
    # domain/retention.end_point: the least k with k * duration >= end * 100.
    points = POINTS
    return F.expr(
        f"CAST(CASE WHEN {duration} = 0 THEN {points}"
        f" ELSE least({points}, ({end} * {points} + {duration} - 1) div {duration}) END AS INT)"
    )


def deltas(plays: DataFrame) -> DataFrame:
    """Per (video, point), the counted views whose run of covered points starts there minus
    those whose run ends there (batch/steps/retention.py: the SQL engine's own deltas)."""
    events = F.explode(
        F.array(
            F.struct(
                first_point("start_position_sec", "end_position_sec", "duration_sec").alias("point"),
                F.lit(1).alias("delta"),
            ),
            F.struct(end_point("end_position_sec", "duration_sec").alias("point"), F.lit(-1).alias("delta")),
        )
    )
    return (
        plays.where(F.col("view"))
        .select("video_id", events.alias("e"))
        .select("video_id", "e.point", "e.delta")
        .where(F.col("point") < POINTS)
        .groupBy("video_id", "point")
        .agg(F.sum("delta").cast("bigint").alias("delta"))
        .where(F.col("delta") != 0)
    )
