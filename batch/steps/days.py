"""Which days to compute: the play watermark, computed days and late-data detection.

DESIGN.md section 2 "Re-runs and late data": a computed day records the highest play_id
seen when its computation started; a play above that watermark whose local day is on or
before the day makes the day, and every later computed day, stale.
"""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from batch.steps.dialect import Dialect, text_with_dates as _text


def finish_day(
    conn: sa.Connection,
    day: dt.date,
    *,
    play_id_watermark: int,
    job_execution_id: int | None = None,
) -> None:
    """Records `day` as computed with every play up to `play_id_watermark` (taken with
    current_play_watermark before the day's partitions started)."""
    d = Dialect.of(conn)
    conn.execute(
        _text(
            "INSERT INTO computed_days (day, play_id_watermark, computed_at_us, job_execution_id)"
            f" SELECT :day, :watermark, :now_us, :job_execution_id {d.select_where_true}"
            f" {d.upsert(['day'], ['play_id_watermark', 'computed_at_us', 'job_execution_id'])}",
            "day",
        ),
        {
            "day": day,
            "watermark": play_id_watermark,
            "now_us": time.time_ns() // 1000,
            "job_execution_id": job_execution_id,
        },
    )


def current_play_watermark(conn: sa.Connection) -> int:
    """The highest play_id stored (0 if none): plays above it arrived after this moment."""
    return int(conn.execute(sa.text("SELECT COALESCE(MAX(play_id), 0) FROM plays")).scalar_one())


def days_to_compute(conn: sa.Connection, *, through: dt.date) -> list[dt.date]:
    """Local days <= `through` to (re)compute, ascending.

    New: days with plays never computed. Stale (DESIGN 2 "Re-runs and late data"): a play
    with play_id above a computed day's watermark and local_day <= that day makes that day and
    every later computed day stale (running totals carry forward, and a late 23:59:50 play
    can turn the next day's 00:00:10 play into a repeat). A computed day after a never
    computed day with plays is stale too, for the same reason.
    """
    newest_play_by_day = {
        row.local_day: int(row.newest)
        for row in conn.execute(
            sa.text("SELECT local_day, MAX(play_id) AS newest FROM plays GROUP BY local_day")
            .columns(sa.column("local_day", sa.Date), sa.column("newest", sa.BigInteger))
        )
    }
    watermarks = {
        row.day: int(row.play_id_watermark)
        for row in conn.execute(
            sa.text("SELECT day, play_id_watermark FROM computed_days")
            .columns(sa.column("day", sa.Date), sa.column("play_id_watermark", sa.BigInteger))
        )
    }
    never_computed = {day for day in newest_play_by_day if day not in watermarks}
    recompute_from = min(never_computed, default=None)
    newest_so_far = 0
    for day in sorted(set(newest_play_by_day) | set(watermarks)):
        newest_so_far = max(newest_so_far, newest_play_by_day.get(day, 0))
        if day in watermarks and newest_so_far > watermarks[day]:
            if recompute_from is None or day < recompute_from:
                recompute_from = day
            break
    stale = set()
    if recompute_from is not None:
        stale = {day for day in watermarks if day >= recompute_from}
    return sorted(day for day in never_computed | stale if day <= through)


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
