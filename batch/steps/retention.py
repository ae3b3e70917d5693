"""Audience retention in the daily step (DESIGN.md section 2c; domain/retention.py states the
rules, docs/statistics_settlement.md "Audience retention" the decisions).

Set-based, in the partition's transaction, over the same counted plays as the day's views:
a play covers one run of points [first, end) (domain/retention.first_point, end_point), so
instead of joining every play with the 100 points, each play adds +1 at its first point and
-1 at its end into TMP_RET, grouped by (video, point): pass R1 for every play pass 1 counts
(every playback but the seller's own), pass R2 taking back the plays pass 2 excluded or
capped (TMP_PLAYS, the same classification and ranking as daily_sql's take-backs). The
final statement writes one row per video of TMP_AGG: its views and its non-zero deltas as
`point:delta` pairs (GROUP_CONCAT: linear, where pivoting 100 running sums per video cost
several times the whole daily step). The Spark engine computes the same deltas and
hands them to `write_retention` through `insert_deltas_sql`.
"""

from __future__ import annotations

from batch.steps import fragments
from batch.steps.daily_sql import PASSING, TMP_AGG, TMP_PLAYS
from batch.steps.dialect import Dialect
from domain.retention import POINTS

TMP_RET = "tmp_day_retention"

TMP_RET_COLUMNS = """
    video_id BIGINT NOT NULL,
    point SMALLINT NOT NULL,
    delta BIGINT NOT NULL,
    PRIMARY KEY (video_id, point)
"""

# Each play's two events: +1 at its first point, -1 at the point past its last.
_SIDES = "(SELECT 1 AS side UNION ALL SELECT -1 AS side)"


def first_point_sql(d: Dialect, start: str, end: str, duration: str) -> str:
    # domain/retention.first_point: the least k with k * duration >= start * 100, exact in
    # integers (a ceiling division of non-negative operands); a zero duration puts every
    # point at second 0.
    ceiling = d.int_div(f"{start} * {POINTS} + {duration} - 1", duration)
    return f"""(CASE WHEN {duration} = 0 THEN (CASE WHEN {start} = 0 AND {end} > 0 THEN 0 ELSE {POINTS} END)
             ELSE {d.least(str(POINTS), ceiling)} END)"""


def end_point_sql(d: Dialect, end: str, duration: str) -> str:
    # domain/retention.end_point: the least k with k * duration >= end * 100.
    ceiling = d.int_div(f"{end} * {POINTS} + {duration} - 1", duration)
    return f"(CASE WHEN {duration} = 0 THEN {POINTS} ELSE {d.least(str(POINTS), ceiling)} END)"


def _event_point(d: Dialect, p: str) -> str:
    first = first_point_sql(d, f"{p}.start_sec", f"{p}.end_sec", f"{p}.duration_sec")
    return f"CASE WHEN s.side = 1 THEN {first} ELSE {end_point_sql(d, f'{p}.end_sec', f'{p}.duration_sec')} END"


def counted_plays_sql(d: Dialect) -> str:
    """Pass R1: the events of every play pass 1 counts as a view (all but the seller's own)."""
    return f"""
INSERT INTO {TMP_RET} (video_id, point, delta)
SELECT e.video_id, e.point, SUM(e.delta)
FROM (
    SELECT c.video_id, {_event_point(d, "c")} AS point, s.side AS delta
    FROM (
        SELECT p.video_id, p.start_position_sec AS start_sec, p.end_position_sec AS end_sec, v.duration_sec
        FROM plays p
        JOIN videos v ON v.video_id = p.video_id
        WHERE p.local_day = :day AND p.video_id >= :lo AND p.video_id < :hi
          AND NOT {fragments.self_view_sql("p")}
    ) c
    CROSS JOIN {_SIDES} s
) e
WHERE e.point < {POINTS}
GROUP BY e.video_id, e.point
{d.upsert_add(["video_id", "point"], ["delta"])}
"""


def take_back_sql(d: Dialect) -> str:
    """Pass R2: the events of the plays pass 2 took back, negated: those rules 2, 3 and 5
    excluded, and the passing plays past the daily cap (ranked as take_back_capped_sql does:
    a pair's passing plays by start; a pair of at most 10 plays never reaches the cap)."""
    return f"""
INSERT INTO {TMP_RET} (video_id, point, delta)
SELECT e.video_id, e.point, -SUM(e.delta)
FROM (
    SELECT u.video_id, {_event_point(d, "u")} AS point, s.side AS delta
    FROM (
        SELECT t.video_id, t.start_sec, t.end_sec, t.duration_sec, t.exclusion,
               ROW_NUMBER() OVER (PARTITION BY t.video_id, t.viewer_id, t.exclusion
                                  ORDER BY t.started_at_us) AS nth
        FROM {TMP_PLAYS} t
    ) u
    CROSS JOIN {_SIDES} s
    WHERE u.exclusion <> {PASSING} OR {fragments.over_daily_cap_sql("u.nth")}
) e
WHERE e.point < {POINTS}
GROUP BY e.video_id, e.point
{d.upsert_add(["video_id", "point"], ["delta"])}
"""


def insert_deltas_sql() -> str:
    """Deltas another engine computed (batch/spark/steps.py), one row per (video, point)."""
    return f"INSERT INTO {TMP_RET} (video_id, point, delta) VALUES (:video_id, :point, :delta)"


def write_sql(d: Dialect) -> str:
    """One row per video of TMP_AGG (every video with plays that day in the partition): its
    counted views and its non-zero deltas (domain/retention.encode_deltas' form, "" for none),
    upserted by (video, day) so that a rerun rewrites it."""
    return f"""
INSERT INTO video_daily_retention (video_id, day, views, point_deltas)
SELECT a.video_id, :day, a.views, COALESCE(r.point_deltas, '')
FROM {TMP_AGG} a
LEFT JOIN (
    SELECT t.video_id, {d.concat_pairs("t.point", "t.delta")} AS point_deltas
    FROM {TMP_RET} t
    WHERE t.delta <> 0
    GROUP BY t.video_id
) r ON r.video_id = a.video_id
{d.select_where_true}
{d.upsert(["video_id", "day"], ["views", "point_deltas"])}
"""
