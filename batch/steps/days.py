"""Which days to compute: computed days, late-data detection, and the play watermark.

DESIGN.md section 2 "Re-runs and late data": a play that arrives after its local day was
computed makes that day, and every later computed day, stale.

Exact detection (a count, whatever the commit order): each partition counts the plays of
its day and video range that it read (StepCounts.rows_read, pass 1, in the same transaction
that writes its figures), and `finish_day` stores the day's total, `plays_read`, the sum
over the day's partitions. Plays are never deleted and never change day or video, and the
partitions of a day are disjoint and cover every play of the day, so each partition's
current count is at least what it read, and the day's current count exceeds `plays_read`
exactly when some partition missed a play: late data. The play_id watermark alone could
not see every such play: InnoDB allocates an auto-increment id at insert time, but the row
becomes visible at commit, so an ingest transaction holding id 100 can commit after one
holding 101 did, after the batch read MAX(play_id) = 101 and computed the day without 100.

The day's current count comes from `play_day_counts` (services/video/play_counts.py),
which every writer of `plays` keeps in its own transaction: the check reads a few rows per
day instead of counting the history (it used to cost about 0.1 s per million stored plays
before every run). The play_id watermark is still recorded with each execution (where a
restarted job resumes from), no longer to detect late data.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from batch.steps.dialect import Dialect
from batch.steps.dialect import text_with_dates as _text
from services.common.clock import SYSTEM_CLOCK, Clock


def finish_day(
    conn: sa.Connection,
    day: dt.date,
    *,
    play_id_watermark: int,
    plays_read: int | None = None,
    job_execution_id: int | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Records `day` as computed (at `clock`'s instant): `play_id_watermark` taken with current_play_watermark
    before the day's partitions started, and `plays_read` the sum of the rows_read of the
    day's partitions (one completed computation per partition of a plan that covers every
    video id). Without `plays_read` the day is recorded but stays stale: nothing proves that
    no play was missed."""
    d = Dialect.of(conn)
    conn.execute(
        _text(
            "INSERT INTO computed_days (day, play_id_watermark, plays_read, computed_at_us,"
            " job_execution_id)"
            f" SELECT :day, :watermark, :plays_read, :now_us, :job_execution_id {d.select_where_true}"
            f" {d.upsert(['day'], ['play_id_watermark', 'plays_read', 'computed_at_us', 'job_execution_id'])}",
            "day",
        ),
        {
            "day": day,
            "watermark": play_id_watermark,
            "plays_read": plays_read,
            "now_us": clock.now_us(),
            "job_execution_id": job_execution_id,
        },
    )


def current_play_watermark(conn: sa.Connection) -> int:
    """The highest play_id stored (0 if none): plays above it arrived after this moment."""
    return int(conn.execute(sa.text("SELECT COALESCE(MAX(play_id), 0) FROM plays")).scalar_one())


def video_id_bounds(conn: sa.Connection) -> tuple[int, int]:
    """(lowest id, highest id + 1) over videos and plays, for partitioning; (0, 0) if none.

    Plays count too: a play of a missing video must land in a partition to fail it.
    """
    row = conn.execute(
        sa.text(
            "SELECT (SELECT MIN(video_id) FROM videos), (SELECT MAX(video_id) FROM videos),"
            " (SELECT MIN(video_id) FROM plays), (SELECT MAX(video_id) FROM plays)"
        )
    ).one()
    lows = [value for value in (row[0], row[2]) if value is not None]
    highs = [value for value in (row[1], row[3]) if value is not None]
    if not lows:
        return 0, 0
    return int(min(lows)), int(max(highs)) + 1
