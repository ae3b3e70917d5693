"""Which local days are computed and current, from `computed_days` (read by the batch to
decide what to compute, and by the ledger to refuse closing a month that is not).

DESIGN.md section 2 "Re-runs and late data": a play that arrives after its local day was
computed makes that day, and every later computed day, stale. How staleness is detected
exactly (per-day play counts, services/video/play_counts.py, against what each computation
read) is explained in batch/steps/days.py, which records computed days.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from services.video import published as video


def days_to_compute(conn: sa.Connection, *, through: dt.date) -> list[dt.date]:
    """Local days <= `through` to (re)compute, ascending.

    New: days with plays never computed. Stale (DESIGN 2 "Re-runs and late data"): a computed
    day that got a play its computation did not read makes that day and every later computed
    day stale (running totals carry forward, and a late 23:59:50 play can turn the next day's
    00:00:10 play into a repeat, an overlap, or a play over the stream limit: a long playback
    late in the evening still runs after midnight). A computed day after a never computed day with plays is
    stale too, for the same reason. A play is missed when the day now holds more plays than
    its computation read: the counts come from `play_day_counts` (a few rows per day, kept
    in the writers' transactions), so this costs the same whatever the history's size.
    Days of archived months (services/video/archive.py) are never returned: their plays are
    gone, and an archived month accepts no late data, so they are computed for good.
    """
    archived = video.archived_days(conn)
    stored = {d: n for d, n in video.plays_per_day(conn).items() if d not in archived}
    computed = {
        row.day: row.plays_read
        for row in conn.execute(
            sa.text("SELECT day, plays_read FROM computed_days").columns(
                sa.column("day", sa.Date), sa.column("plays_read", sa.BigInteger)
            )
        )
    }
    computed = {d: n for d, n in computed.items() if d not in archived}
    never_computed = {day for day in stored if day not in computed}
    recompute_from = min(never_computed, default=None)
    for day in sorted(computed):
        if recompute_from is not None and day >= recompute_from:
            break
        plays_read = computed[day]
        if plays_read is None or stored.get(day, 0) != plays_read:
            recompute_from = day  # None: computed before counts were kept (migration 0004)
            break
    stale = set()
    if recompute_from is not None:
        stale = {day for day in computed if day >= recompute_from}
    return sorted(day for day in never_computed | stale if day <= through)
