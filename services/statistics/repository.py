"""SQL for the statistics read side: top-5 lists and per-video series."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from services.common.periods import Period
from services.common.schema import RULE_EXCLUSION_COLUMNS, daily_video_stats, period_video_stats, videos

METRIC_COLUMNS = {"VIEWS": "views", "WATCH_TIME": "watch_time_sec"}


def top_videos(conn: sa.Connection, seller_id: int, period: Period, start: dt.date, metric: str, limit: int = 5):
    """(video_id, title, views, watch_time_sec) of the seller's best videos of the period:
    by the metric descending, ties by video_id ascending (numeric), zeros left out."""
    if period is Period.DAILY:
        t = daily_video_stats
        where = [t.c.seller_id == seller_id, t.c.day == start]
    else:
        t = period_video_stats
        where = [t.c.seller_id == seller_id, t.c.period == period.value, t.c.period_start == start]
    column = t.c[METRIC_COLUMNS[metric]]
    query = (
        sa.select(t.c.video_id, sa.func.coalesce(videos.c.title, "").label("title"), t.c.views, t.c.watch_time_sec)
        .select_from(t.outerjoin(videos, videos.c.video_id == t.c.video_id))
        .where(*where, column > 0)
        .order_by(column.desc(), t.c.video_id.asc())
        .limit(limit)
    )
    return list(conn.execute(query))


def video_seller(conn: sa.Connection, video_id: int) -> int | None:
    return conn.execute(sa.select(videos.c.seller_id).where(videos.c.video_id == video_id)).scalar()


_SERIES_COLUMNS = ("views", "watch_time_sec", "ad_views", "video_revenue", "ad_revenue", *RULE_EXCLUSION_COLUMNS)


def daily_series(conn: sa.Connection, video_id: int, first: dt.date, last: dt.date) -> dict[dt.date, sa.Row]:
    """The video's daily rows in [first, last] by day (a primary-key range)."""
    t = daily_video_stats
    query = sa.select(t.c.day, *(t.c[c] for c in _SERIES_COLUMNS)).where(
        t.c.video_id == video_id, t.c.day >= first, t.c.day <= last
    )
    return {row.day: row for row in conn.execute(query)}


def period_series(conn: sa.Connection, video_id: int, period: Period, starts: list[dt.date]) -> dict[dt.date, sa.Row]:
    """The video's weekly or monthly rows for the given period starts (primary-key lookups)."""
    if not starts:
        return {}
    t = period_video_stats
    query = sa.select(t.c.period_start, *(t.c[c] for c in _SERIES_COLUMNS)).where(
        t.c.period == period.value, t.c.period_start.in_(starts), t.c.video_id == video_id
    )
    return {row.period_start: row for row in conn.execute(query)}
