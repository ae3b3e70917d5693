"""SQL for the statistics read side: top-5 lists, per-video series and per-seller series,
and SqlStatisticsReader, the adapter of ports.StatisticsReader over these functions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from batch.published import (
    RULE_EXCLUSION_COLUMNS,
    daily_video_stats,
    frozen_daily_stats,
    frozen_days,
    period_video_stats,
    video_daily_retention,
)
from domain.periods import Period
from domain.retention import decode_points
from services.common.money_sql import money_sum
from services.settlement.published import closed_lines, month_closings
from services.statistics.ports import Figures, SeriesPart, TopRow
from services.video.published import videos

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


SERIES_COLUMNS = ("views", "watch_time_sec", "ad_views", "video_revenue", "ad_revenue", *RULE_EXCLUSION_COLUMNS)


def daily_series(conn: sa.Connection, video_id: int, first: dt.date, last: dt.date) -> dict[dt.date, sa.Row]:
    """The video's daily rows in [first, last] by day (a primary-key range)."""
    t = daily_video_stats
    query = sa.select(t.c.day, *(t.c[c] for c in SERIES_COLUMNS)).where(
        t.c.video_id == video_id, t.c.day >= first, t.c.day <= last
    )
    return {row.day: row for row in conn.execute(query)}


def period_series(conn: sa.Connection, video_id: int, period: Period, starts: list[dt.date]) -> dict[dt.date, sa.Row]:
    """The video's weekly or monthly rows for the given period starts (primary-key lookups)."""
    if not starts:
        return {}
    t = period_video_stats
    query = sa.select(t.c.period_start, *(t.c[c] for c in SERIES_COLUMNS)).where(
        t.c.period == period.value, t.c.period_start.in_(starts), t.c.video_id == video_id
    )
    return {row.period_start: row for row in conn.execute(query)}


def daily_retention(conn: sa.Connection, video_id: int, first: dt.date, last: dt.date) -> list[sa.Row]:
    """The video's retention rows (views, point_deltas) in [first, last] (a primary-key range)."""
    t = video_daily_retention
    query = sa.select(t.c.views, t.c.point_deltas).where(t.c.video_id == video_id, t.c.day >= first, t.c.day <= last)
    return list(conn.execute(query))


# The figures a closed month freezes (the statement's); the others are never frozen.
FROZEN_COLUMNS = ("views", "ad_views", "video_revenue", "ad_revenue")
MONEY_COLUMNS = ("video_revenue", "ad_revenue")


def _sums(t, names, kind: str, key) -> list:
    """kind, key, then every series column: summed from `t` when in `names`, else 0."""

    def column(name: str):
        if name not in names:
            return sa.literal(0).label(name)
        total = money_sum(t.c[name]) if name in MONEY_COLUMNS else sa.func.sum(t.c[name])
        return total.label(name)

    return [sa.literal(kind).label("kind"), key.label("start"), *(column(name) for name in SERIES_COLUMNS)]


def seller_series(conn: sa.Connection, seller_id: int, period: Period, first: dt.date, last: dt.date) -> list[sa.Row]:
    """A seller's figures for the periods starting in [first, last], summed over its videos in
    one statement (one consistent state while the batch writes), as rows of
    (kind, start, *SERIES_COLUMNS):

    * kind "live", start = period start: the batch's rows (daily rows by day, or the period
      rows by period_start), GROUP BY over the seller's index (seller_id, day) or
      (seller_id, period, period_start);
    * MONTHLY, kind "closed", start = a closed month in the range: its frozen lines
      (closed_lines, the closed statement's), FROZEN_COLUMNS only; zeros if the seller had none;
    * DAILY and WEEKLY, for each day of the range in frozen_days (a closed day the batch
      recomputed since, services/settlement/repository.py frozen_aware_lines): kind "frozen",
      start = that day, the copy taken at close, and kind "replaced", the batch's current
      daily rows of that day, FROZEN_COLUMNS only. A closed day's frozen figures are
      live - replaced + frozen.
    """
    if period is Period.DAILY:
        t = daily_video_stats
        live = sa.select(*_sums(t, SERIES_COLUMNS, "live", t.c.day)).where(
            t.c.seller_id == seller_id, t.c.day.between(first, last)
        )
        key = t.c.day
    else:
        t = period_video_stats
        live = sa.select(*_sums(t, SERIES_COLUMNS, "live", t.c.period_start)).where(
            t.c.seller_id == seller_id, t.c.period == period.value, t.c.period_start.between(first, last)
        )
        key = t.c.period_start
    parts = [live.group_by(key)]
    if period is Period.MONTHLY:
        m, c = month_closings, closed_lines
        parts.append(
            sa.select(*_sums(c, FROZEN_COLUMNS, "closed", m.c.month))
            .select_from(m.outerjoin(c, sa.and_(c.c.month == m.c.month, c.c.seller_id == seller_id)))
            .where(m.c.month.between(first, last))
            .group_by(m.c.month)
        )
    else:
        days = frozen_days.c.day
        last_day = last + dt.timedelta(days=6) if period is Period.WEEKLY else last
        for kind, table in (("frozen", frozen_daily_stats), ("replaced", daily_video_stats)):
            on = sa.and_(table.c.day == days, table.c.seller_id == seller_id)
            parts.append(
                sa.select(*_sums(table, FROZEN_COLUMNS, kind, days))
                .select_from(frozen_days.outerjoin(table, on))
                .where(days.between(first, last_day))
                .group_by(days)
            )
    return list(conn.execute(sa.union_all(*parts)))


# --- the adapter of services/statistics/ports.py ---------------------------------------------


def _number(name: str, value) -> int | Decimal:
    if value is None:  # an outer join without rows: nothing frozen for this seller
        return Decimal(0) if name in MONEY_COLUMNS else 0
    return Decimal(value) if name in MONEY_COLUMNS else int(value)


def _figures(row: sa.Row) -> Figures:
    return {name: _number(name, getattr(row, name)) for name in SERIES_COLUMNS}


class SqlStatisticsReader:
    """ports.StatisticsReader over the functions above, on one connection of the read path."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def top_videos(self, seller_id: int, period: Period, start: dt.date, metric: str, limit: int) -> list[TopRow]:
        rows = top_videos(self._conn, seller_id, period, start, metric, limit)
        return [TopRow(row.video_id, row.title, int(row.views), int(row.watch_time_sec)) for row in rows]

    def video_seller(self, video_id: int) -> int | None:
        return video_seller(self._conn, video_id)

    def daily_series(self, video_id: int, first: dt.date, last: dt.date) -> dict[dt.date, Figures]:
        return {day: _figures(row) for day, row in daily_series(self._conn, video_id, first, last).items()}

    def period_series(self, video_id: int, period: Period, starts: list[dt.date]) -> dict[dt.date, Figures]:
        return {start: _figures(row) for start, row in period_series(self._conn, video_id, period, starts).items()}

    def seller_series(self, seller_id: int, period: Period, first: dt.date, last: dt.date) -> list[SeriesPart]:
        rows = seller_series(self._conn, seller_id, period, first, last)
        return [SeriesPart(row.kind, row.start, _figures(row)) for row in rows]

    def daily_retention(self, video_id: int, first: dt.date, last: dt.date) -> list[tuple[int, tuple[int, ...]]]:
        rows = daily_retention(self._conn, video_id, first, last)
        return [(int(row.views), decode_points(row.point_deltas)) for row in rows]
