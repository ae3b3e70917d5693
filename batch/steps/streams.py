"""The stream-limit step: the plays of one local day over the stream limit, keyed by viewer.

DESIGN.md section 2 "Counted view" 5 (counted_views.over_stream_limit, counted_views.is_running): a playback
is over the limit when it starts while two or more earlier playbacks of the same viewer, of
ANY video, are running. Deciding it needs all of a viewer's videos at once, so it cannot be
done inside the daily step's partitions by video range. This step runs once per day, before
the day's partitions (batch/jobs/day.py, in the coordinator's process, so partitions
dispatched to remote workers read its result the same way), and rewrites the day's rows of
`stream_limited_plays`; the partitions read those rows (batch/steps/daily.py) and attribute
each such play to the strongest rule that applies (self-view > overlap > stream limit >
repeat > cap). It does not decide the attribution: a self-view or an overlap over the limit
is still written here (it still runs for later plays, and the partitions rank it).

Set-based, one sweep per viewer (docs/batch-jobs.md, "The stream limit"): every play is a
start event (+1 when its watch time is positive: a zero watch time never runs) and every play
with a positive watch time an end event (-1) at started_at + watch_time / 2, both in
microseconds times MAX_PLAYBACK_SPEED so that half seconds stay exact integers
(counted_views.running_end_scaled). Ordered per viewer by (instant, ends before starts, event_id
byte-wise), the running sum just before a play's start event is the number of earlier plays
running at its start (a play that ends exactly when another starts is no longer running).

The sweep reads the day's plays and the tail: the plays that started within the platform's
longest half-duration before the day (any earlier play has stopped running by midnight,
whatever its video). It sweeps every viewer: narrowing first to the viewers with at least
three plays in day + tail cost more than it saved on the benchmark's day (a GROUP BY of the
day's plays by viewer, 4.1 s, and the join with its result, 4.5 s, to drop 0.04% of the plays:
docs/batch-jobs.md, "The stream limit").

Contract: `compute_stream_limit(conn, day, zone=...)` in its own transaction, after the
play watermark of the day's run was read and before any partition of the day runs. Idempotent.
It returns `plays_read`, a lower bound of the day's plays its sweep saw (the day's count in
`play_day_counts`, read before the sweep): the caller records the smaller of it and the sum of
the partitions' rows_read as what the day's computation read, so that a play committed after
the sweep but read by a partition still leaves the day stale (batch/steps/days.py): the sweep
did not see it, and it may put a play over the limit or be over it. And `changed`: whether
the day's plays over the limit differ from those the previous computation wrote; a restart
that keeps partitions completed against the previous rows leaves the day stale when they do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.steps import fragments
from batch.steps.dialect import Dialect
from batch.steps.dialect import text_with_dates as _text
from domain import counted_views
from domain.periods import day_bounds_us

TMP_PREVIOUS = "tmp_stream_previous"  # the day's rows as the previous computation wrote them
TMP_OVER = "tmp_stream_over"  # plays of the day over the limit, or of a tie that may be

# event_id as bytes (a MEMORY table's string would take the session's collation).
_TMP_PREVIOUS_COLUMNS = "event_key {} NOT NULL PRIMARY KEY"
_TMP_OVER_COLUMNS = """
    play_id BIGINT NOT NULL PRIMARY KEY,
    running_upper BIGINT NOT NULL
"""

# MariaDB session sizes for the sweep's window sort (as the daily step's, docs/batch-jobs.md).
MYSQL_SESSION_SETTINGS = {
    "tmp_table_size": 256 * 1024 * 1024,
    "max_heap_table_size": 256 * 1024 * 1024,
    "sort_buffer_size": 64 * 1024 * 1024,
}


def _sweep_sql(d: Dialect) -> str:
    """The sweep (counted_views.over_stream_limit over counted_views.is_running), per viewer over start and
    end events ordered by one integer key: the instant scaled by MAX_PLAYBACK_SPEED, times
    2, plus 1 for a start (ends sort before starts at the same instant: a play that ends
    exactly when another starts is not running then). For each start event of the day the
    running sum through its key (the default RANGE frame: every event of a smaller key, and
    the viewer's other starts at that same instant, the peers), less its own +1, counts the
    plays running at its start plus the peers that come after it in event_id order, if any.
    Keeps the day's plays whose count reaches MAX_STREAMS; _insert_over_sql takes the later
    peers back (rare). The rows carry no event_id (a wide string in every row of the
    window's sort): play_id finds the play again."""
    speed = counted_views.MAX_PLAYBACK_SPEED
    watch = fragments.watch_time_of_sql(d, "p.start_position_sec", "p.end_position_sec", "v.duration_sec")
    # A LEFT JOIN: the plays drive (read from the covering ix_plays_day_scan), never a
    # video's rows probing plays through an index without the positions (a random read per
    # play). A play of a missing video has no watch time here (NULL: never running); the
    # day's partitions fail on it anyway (BadPlayRow).
    plays_of = f"""
        SELECT p.viewer_id, p.play_id, p.started_at_us, {watch} AS watch_time_sec, {{in_day}} AS in_day
        FROM plays p
        LEFT JOIN videos v ON v.video_id = p.video_id
        WHERE {{where}}"""
    day_plays = plays_of.format(in_day="1", where="p.local_day = :day")
    tail_plays = plays_of.format(
        in_day="0", where="p.started_at_us >= :tail_start_us AND p.started_at_us < :day_start_us"
    )
    may_be_over = fragments.over_stream_limit_sql("s.running_upper")
    # Each play gives its start event and, when it runs, its end event: one read of the
    # plays joined with a two-row table, not two reads.
    return f"""
INSERT INTO {TMP_OVER} (play_id, running_upper)
SELECT s.play_id, s.running_upper
FROM (
    SELECT e.play_id, e.is_start, e.in_day,
           SUM(e.delta) OVER (PARTITION BY e.viewer_id ORDER BY e.event_key) - e.delta AS running_upper
    FROM (
        SELECT q.viewer_id, q.play_id, q.in_day, k.is_start,
               (CASE WHEN k.is_start = 1 THEN q.started_at_us * {speed}
                     ELSE q.started_at_us * {speed} + q.watch_time_sec * 1000000 END) * 2 + k.is_start
                   AS event_key,
               CASE WHEN k.is_start = 0 THEN -1 WHEN q.watch_time_sec > 0 THEN 1 ELSE 0 END AS delta
        FROM ({day_plays}
            UNION ALL{tail_plays}
        ) q
        JOIN (SELECT 0 AS is_start UNION ALL SELECT 1 AS is_start) k
          ON k.is_start = 1 OR q.watch_time_sec > 0
    ) e
) s
WHERE s.is_start = 1 AND s.in_day = 1 AND {may_be_over}
"""


def _insert_over_sql(d: Dialect) -> str:
    """The plays of the sweep still over the limit once the viewer's plays started at the
    same instant and coming after them in event_id byte-wise order (counted_views.ordered_plays_key)
    are taken back, those that run (a watch time > 0, counted_views.is_running): they are not
    earlier plays. Looked up by ix_plays_started, for the few plays the sweep kept."""
    watch = fragments.watch_time_of_sql(d, "o.start_position_sec", "o.end_position_sec", "ov.duration_sec")
    later_peers = f"""(
          SELECT COUNT(*) FROM plays o JOIN videos ov ON ov.video_id = o.video_id
          WHERE o.started_at_us = p.started_at_us AND o.viewer_id = p.viewer_id
            AND {d.bytewise("o.event_id")} > {d.bytewise("p.event_id")} AND {watch} > 0)"""
    return f"""
INSERT INTO stream_limited_plays (local_day, video_id, viewer_id, started_at_us, event_id)
SELECT :day, p.video_id, p.viewer_id, p.started_at_us, p.event_id
FROM {TMP_OVER} t
JOIN plays p ON p.play_id = t.play_id AND p.local_day = :day
WHERE {fragments.over_stream_limit_sql(f"t.running_upper - {later_peers}")}
"""


@dataclass(frozen=True)
class StreamCounts:
    plays_read: int  # the day's plays stored when the sweep began: it saw at least these
    over_limit: int  # the day's plays over the stream limit (rows written)
    changed: bool  # not the rows the previous computation of the day wrote


def compute_stream_limit(conn: sa.Connection, day: dt.date, *, zone: ZoneInfo) -> StreamCounts:
    """Rewrites the rows of `stream_limited_plays` for local `day`: its plays over the stream
    limit. Runs inside the caller's transaction; idempotent."""
    d = Dialect.of(conn)
    day_start_us, _ = day_bounds_us(day, zone)
    if not d.is_sqlite:
        for name, value in MYSQL_SESSION_SETTINGS.items():
            conn.execute(sa.text(f"SET SESSION {name} = {int(value)}"))
    _drop_temp_tables(conn, d)
    key_type = "TEXT" if d.is_sqlite else "VARBINARY(512)"
    conn.execute(sa.text(d.create_temp_table(TMP_PREVIOUS, _TMP_PREVIOUS_COLUMNS.format(key_type))))
    conn.execute(_text(_snapshot_sql(TMP_PREVIOUS), "day"), {"day": day})
    conn.execute(_text("DELETE FROM stream_limited_plays WHERE local_day = :day", "day"), {"day": day})
    # Read before the sweep: ingest adds to these counts in the transaction that stores the
    # plays, so the sweep's statements see at least this many plays of the day.
    plays_read = int(
        conn.execute(
            _text("SELECT COALESCE(SUM(plays), 0) FROM play_day_counts WHERE local_day = :day", "day"), {"day": day}
        ).scalar_one()
    )
    window_us = _tail_window_us(conn)
    params = {"day": day, "day_start_us": day_start_us, "tail_start_us": day_start_us - window_us}
    conn.execute(sa.text(d.create_temp_table(TMP_OVER, _TMP_OVER_COLUMNS)))
    try:
        if window_us > 0:  # else no video has a duration: nothing ever runs
            conn.execute(_text(_sweep_sql(d), "day"), params)
            conn.execute(_text(_insert_over_sql(d), "day"), params)
        over_limit, kept = conn.execute(
            _text(
                f"SELECT COUNT(*), COUNT(p.event_key) FROM stream_limited_plays s"
                f" LEFT JOIN {TMP_PREVIOUS} p ON p.event_key = {_ROW_KEY} WHERE s.local_day = :day",
                "day",
            ),
            {"day": day},
        ).one()
        previous = conn.execute(sa.text(f"SELECT COUNT(*) FROM {TMP_PREVIOUS}")).scalar_one()
    finally:
        _drop_temp_tables(conn, d)
    changed = not (over_limit == kept == previous)
    return StreamCounts(plays_read, int(over_limit), changed)


# A row of stream_limited_plays as one string (event_id is unique): to compare two sets.
_ROW_KEY = "s.event_id"


def _snapshot_sql(table: str) -> str:
    return f"INSERT INTO {table} (event_key) SELECT {_ROW_KEY} FROM stream_limited_plays s WHERE s.local_day = :day"


def _drop_temp_tables(conn: sa.Connection, d: Dialect) -> None:
    for name in (TMP_OVER, TMP_PREVIOUS):
        conn.execute(sa.text(d.drop_temp_table(name)))


def _tail_window_us(conn: sa.Connection) -> int:
    """How long before the day a play may have started and still run after midnight: the
    platform's longest video's duration / MAX_PLAYBACK_SPEED (a play's watch time is at most
    its video's duration), rounded up to a whole microsecond."""
    longest = conn.execute(sa.text("SELECT COALESCE(MAX(duration_sec), 0) FROM videos")).scalar_one()
    return -(-max(0, int(longest)) * 1_000_000 // counted_views.MAX_PLAYBACK_SPEED)
