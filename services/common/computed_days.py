"""Which local days are computed and current, from `computed_days` (read by the batch to
decide what to compute, and by the ledger to refuse closing a month that is not).

DESIGN.md section 2 "Re-runs and late data": a play that arrives after its local day was
computed makes that day, and every later computed day, stale. How staleness is detected
exactly (the play_id watermark as a cheap pre-filter, then per-day play counts) is explained
in batch/steps/days.py, which records computed days.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa


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
            sa.text(
                "SELECT local_day, COUNT(*) AS plays FROM plays"
                " WHERE local_day >= :first AND local_day <= :last GROUP BY local_day"
            )
            .bindparams(sa.bindparam("first", type_=sa.Date), sa.bindparam("last", type_=sa.Date))
            .columns(sa.column("local_day", sa.Date), sa.column("plays", sa.BigInteger)),
            {"first": first, "last": last},
        )
    }
