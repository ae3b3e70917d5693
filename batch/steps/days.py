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

The watermark (MAX(play_id) read before the day's partitions started) stays as a cheap
pre-filter: a play above it on or before a computed day is certainly late (or at worst read
after all, a harmless recompute), and the days it flags need no count. The counts are read
only for the computed days that nothing cheaper already found stale, by one index-only
GROUP BY local_day over ix_plays_day_arrival (about 0.08 s per million plays on MariaDB).
"""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from batch.steps.dialect import Dialect
from batch.steps.dialect import text_with_dates as _text


def finish_day(
    conn: sa.Connection,
    day: dt.date,
    *,
    play_id_watermark: int,
    plays_read: int | None = None,
    job_execution_id: int | None = None,
) -> None:
    """Records `day` as computed: `play_id_watermark` taken with current_play_watermark
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
            "now_us": time.time_ns() // 1000,
            "job_execution_id": job_execution_id,
        },
    )


def current_play_watermark(conn: sa.Connection) -> int:
    """The highest play_id stored (0 if none): plays above it arrived after this moment."""
    return int(conn.execute(sa.text("SELECT COALESCE(MAX(play_id), 0) FROM plays")).scalar_one())


def days_to_compute(conn: sa.Connection, *, through: dt.date) -> list[dt.date]:
    """Local days <= `through` to (re)compute, ascending.

    New: days with plays never computed. Stale (DESIGN 2 "Re-runs and late data"): a computed
    day that got a play its computation did not read makes that day and every later computed
    day stale (running totals carry forward, and a late 23:59:50 play can turn the next day's
    00:00:10 play into a repeat). A computed day after a never computed day with plays is
    stale too, for the same reason. A play is known missed when its play_id is above the
    day's watermark (cheap), or else when the day has more plays than it read (exact).
    """
    newest_play_by_day = {
        row.local_day: int(row.newest)
        for row in conn.execute(
            sa.text("SELECT local_day, MAX(play_id) AS newest FROM plays GROUP BY local_day").columns(
                sa.column("local_day", sa.Date), sa.column("newest", sa.BigInteger)
            )
        )
    }
    computed = {
        row.day: (int(row.play_id_watermark), row.plays_read)
        for row in conn.execute(
            sa.text("SELECT day, play_id_watermark, plays_read FROM computed_days").columns(
                sa.column("day", sa.Date),
                sa.column("play_id_watermark", sa.BigInteger),
                sa.column("plays_read", sa.BigInteger),
            )
        )
    }
    never_computed = {day for day in newest_play_by_day if day not in computed}
    recompute_from = min(never_computed, default=None)
    # The cheap checks: a play above the watermark, or a day computed without a count.
    newest_so_far = 0
    for day in sorted(set(newest_play_by_day) | set(computed)):
        if recompute_from is not None and day >= recompute_from:
            break
        newest_so_far = max(newest_so_far, newest_play_by_day.get(day, 0))
        if day in computed:
            watermark, plays_read = computed[day]
            if plays_read is None or newest_so_far > watermark:
                recompute_from = day
                break
    # The exact check, for the computed days <= through that are not already stale.
    to_count = sorted(day for day in computed if day <= through and (recompute_from is None or day < recompute_from))
    if to_count:
        counts = _plays_per_day(conn, to_count[0], to_count[-1])
        for day in to_count:
            if counts.get(day, 0) != computed[day][1]:
                recompute_from = day
                break
    stale = set()
    if recompute_from is not None:
        stale = {day for day in computed if day >= recompute_from}
    return sorted(day for day in never_computed | stale if day <= through)


def _plays_per_day(conn: sa.Connection, first: dt.date, last: dt.date) -> dict[dt.date, int]:
    """The number of plays stored per local day in [first, last] (index-only)."""
    return {
        row.local_day: int(row.plays)
        for row in conn.execute(
            _text(
                "SELECT local_day, COUNT(*) AS plays FROM plays"
                " WHERE local_day >= :first AND local_day <= :last GROUP BY local_day",
                "first",
                "last",
            ).columns(sa.column("local_day", sa.Date), sa.column("plays", sa.BigInteger)),
            {"first": first, "last": last},
        )
    }


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
