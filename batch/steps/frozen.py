"""Closed days stay as they were closed (DESIGN 2a, docs/ledger.md), by copy on write.

The batch keeps computing the days of closed months (running totals carry forward, so later
days need the late data), but statements must read the figures as closed. Closing copies no
daily rows; instead, just before the batch first recomputes a day of a closed month, this
copies the day's daily rows into frozen_daily_stats and marks the day in frozen_days, in one
transaction committed before any partition of the day writes. Statements of closed days read
the copy for marked days and the (still unchanged) daily rows for the others. Later
recomputations of a marked day copy nothing: the copy is of the figures as closed.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from batch.tables import daily_video_stats, frozen_daily_stats, frozen_days
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement.published import month_closings

_FIGURES = ("video_id", "day", "seller_id", "views", "ad_views", "video_revenue", "ad_revenue")


def freeze_closed_day(conn: sa.Connection, day: dt.date, *, clock: Clock = SYSTEM_CLOCK) -> bool:
    """Copies `day`'s daily rows if its month is closed and the day was not copied yet (the
    mark dated by `clock`); True when it copied. Call in its own transaction, before the day
    is recomputed."""
    month = day.replace(day=1)
    closed = conn.execute(sa.select(month_closings.c.month).where(month_closings.c.month == month)).first()
    if closed is None:
        return False
    marked = conn.execute(
        sa.insert(frozen_days).from_select(
            ["day", "frozen_at_us"],
            sa.select(sa.literal(day, sa.Date), sa.literal(clock.now_us(), sa.BigInteger)).where(
                ~sa.exists().where(frozen_days.c.day == day)
            ),
        )
    ).rowcount
    if not marked:
        return False
    d = daily_video_stats.c
    conn.execute(
        sa.insert(frozen_daily_stats).from_select(
            list(_FIGURES), sa.select(*(d[n] for n in _FIGURES)).where(d.day == day)
        )
    )
    return True
