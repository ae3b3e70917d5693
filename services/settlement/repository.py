"""SQL for statements: a seller's per-video lines for one day, ISO week or month."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from services.common.periods import Period
from services.common.schema import daily_video_stats, period_video_stats, videos


def statement_lines(conn: sa.Connection, seller_id: int, period: Period, start: dt.date) -> list[sa.Row]:
    """(video_id, title, views, ad_views, video_revenue, ad_revenue) per video with a
    non-zero amount, by video_id. A day reads daily rows (index seller_id, day); a week or a
    month reads the batch's period rows (index seller_id, period, period_start), which are
    the sums of exactly that period's days, so a week across two months is whole."""
    if period is Period.DAILY:
        t = daily_video_stats
        where = [t.c.seller_id == seller_id, t.c.day == start]
    else:
        t = period_video_stats
        where = [t.c.seller_id == seller_id, t.c.period == period.value, t.c.period_start == start]
    query = (
        sa.select(
            t.c.video_id,
            sa.func.coalesce(videos.c.title, "").label("title"),
            t.c.views,
            t.c.ad_views,
            t.c.video_revenue,
            t.c.ad_revenue,
        )
        .select_from(t.outerjoin(videos, videos.c.video_id == t.c.video_id))
        .where(*where, (t.c.video_revenue + t.c.ad_revenue) != 0)
        .order_by(t.c.video_id)
    )
    return list(conn.execute(query))
