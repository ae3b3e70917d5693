"""Use cases: a seller's top-5 videos of a period, one video's series of periods, and a
seller's series (all its videos summed).

Decisions (docs/statistics_settlement.md):
* Top 5 reads the batch's rows for exactly the period containing `date` (daily rows for a
  day, period rows for an ISO week or a month). The adapter caches its rendering in Redis by
  data version (ReadSide.cached): the use cases return plain values.
* A series is dense: one point per period in [from, to], zeros where the batch has no row
  (no plays, or not computed yet: `data_through` says which). At most MAX_POINTS points.
* A seller's series is cached like the statement (by the adapter, rendered, by data version). Its points
  equal the statements of the same periods: a closed month's views, ad views and revenue are
  the frozen figures (closed_lines for the month, the copy taken at close for a closed day the
  batch recomputed since), never the adjustments posted by later closes. Watch time and the
  per-rule counts are statistics and never frozen: the batch's current figures.
* Both series carry their totals (the points summed) and each point and total its RPM
  (domain/analytics.py). With `compare`, the earlier range (domain/analytics.earlier_range)
  is planned with the range: the same size limit, refused before anything is read; it is read
  in the same read_at call (the same pinned data state, the same snapshot on a replica) and,
  for a seller, cached in the same rendered answer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from domain.analytics import Comparison, earlier_starts, parse_comparison
from domain.errors import BadMetric, BadRange, VideoNotFound, require_positive_id
from domain.periods import (
    Period,
    count_periods,
    parse_day,
    period_bounds,
    period_end,
    period_start,
    periods_in_range,
)
from services.common.auth import Principal, require_role, require_self_or_admin, require_seller_or_admin
from services.readpath.dataversion import DataState
from services.readpath.readside import ReadSide, parse_period
from services.statistics import repository
from services.statistics.ports import SeriesPart, StatisticsReader
from services.statistics.repository import SqlStatisticsReader
from services.statistics.series import ZERO_FIGURES, SeriesComparison, StatsPoint, compare, totals
from services.video.published import require_known_seller

TOP_N = 5
MAX_POINTS = 366
METRICS = tuple(repository.METRIC_COLUMNS)


@dataclasses.dataclass(frozen=True)
class TopVideo:
    rank: int
    video_id: int
    title: str
    views: int
    watch_time_sec: int


@dataclasses.dataclass(frozen=True)
class TopVideos:
    seller_id: int
    period: Period
    metric: str
    period_start: dt.date
    period_end: dt.date
    videos: tuple[TopVideo, ...]
    data_through: dt.date | None


@dataclasses.dataclass(frozen=True)
class VideoStatsSeries:
    video_id: int
    period: Period
    points: tuple[StatsPoint, ...]
    data_through: dt.date | None
    comparison: SeriesComparison | None = None

    @property
    def totals(self) -> StatsPoint:
        return totals(self.points)


@dataclasses.dataclass(frozen=True)
class SellerStatsSeries:
    seller_id: int
    period: Period
    points: tuple[StatsPoint, ...]
    data_through: dt.date | None
    comparison: SeriesComparison | None = None

    @property
    def totals(self) -> StatsPoint:
        return totals(self.points)


def parse_metric(name: str) -> str:
    if name not in METRICS:
        raise BadMetric("must be VIEWS or WATCH_TIME", field="metric")
    return name


@dataclasses.dataclass(frozen=True)
class TopVideosRequest:
    """A top-5 list asked for, validated and authorized, and the data state it reads at."""

    seller_id: int
    period: Period
    period_start: dt.date
    period_end: dt.date
    metric: str
    state: DataState

    @property
    def cache_parts(self) -> tuple[object, ...]:
        return (self.seller_id, self.period.value, self.period_start.isoformat(), self.metric)


def plan_top_videos(
    read: ReadSide, principal: Principal, seller_id: int, period_name: str, date_text: str, metric_name: str
) -> TopVideosRequest:
    """Cheap refusals first (the arguments, then who may read), then the data state."""
    require_positive_id(seller_id, "seller_id")
    period = parse_period(period_name)
    day = parse_day(date_text, "date")
    metric = parse_metric(metric_name)
    require_seller_or_admin(principal, seller_id, "seller's statistics")
    start, end = period_bounds(period, day)
    return TopVideosRequest(seller_id, period, start, end, metric, read.data_state())


def get_top_videos(read: ReadSide, request: TopVideosRequest) -> TopVideos:
    """The top-5 list of a planned request, read at the data state it pinned (the read path's
    connection, through the SQL reader)."""

    def read_known(conn, state: DataState) -> TopVideos:
        require_known_seller(conn, request.seller_id)
        return read_top_videos(SqlStatisticsReader(conn), request, state.data_through)

    return read.read_at(request.state, read_known)


def read_top_videos(reader: StatisticsReader, request: TopVideosRequest, data_through: dt.date | None) -> TopVideos:
    """The top-5 list of a planned request, ranked from 1."""
    rows = reader.top_videos(request.seller_id, request.period, request.period_start, request.metric, TOP_N)
    videos = tuple(
        TopVideo(rank, row.video_id, row.title, row.views, row.watch_time_sec) for rank, row in enumerate(rows, 1)
    )
    return TopVideos(
        request.seller_id,
        request.period,
        request.metric,
        request.period_start,
        request.period_end,
        videos,
        data_through,
    )


def get_video_stats(
    read: ReadSide,
    principal: Principal,
    video_id: int,
    period_name: str,
    from_text: str,
    to_text: str,
    compare_text: str = "",
) -> VideoStatsSeries:
    """Cheap refusals first: the arguments' shape, then who may read the video, then the
    range's size by arithmetic; only then is the list of periods built and read."""
    require_positive_id(video_id, "video_id")
    period = parse_period(period_name)
    first = parse_day(from_text, "from")
    last = parse_day(to_text, "to")
    comparison = parse_comparison(compare_text)
    require_role(principal, "SELLER", "ADMIN")

    state = read.data_state()
    return read.read_at(
        state,
        lambda conn, state: read_video_stats(
            SqlStatisticsReader(conn), principal, video_id, period, first, last, state.data_through, comparison
        ),
    )


def read_video_stats(
    reader: StatisticsReader,
    principal: Principal,
    video_id: int,
    period: Period,
    first: dt.date,
    last: dt.date,
    data_through: dt.date | None,
    comparison: Comparison | None = None,
) -> VideoStatsSeries:
    """The video's dense series over [first, last]: VideoNotFound, then who may read it, then
    the range's size (and the earlier range's); zeros for the periods without a row."""
    seller_id = reader.video_seller(video_id)
    if seller_id is None:
        raise VideoNotFound(f"no video {video_id}", field="video_id")
    require_self_or_admin(principal, seller_id, "video's statistics")
    starts = series_periods(period, first, last)
    earlier = comparison_periods(comparison, period, starts)
    points = _video_points(reader, video_id, period, starts)
    compared = compare(comparison, points, _video_points(reader, video_id, period, earlier) if earlier else ())
    return VideoStatsSeries(video_id, period, points, data_through, compared)


def _video_points(reader: StatisticsReader, video_id: int, period: Period, starts: list[dt.date]):
    if period is Period.DAILY:
        rows = reader.daily_series(video_id, starts[0], starts[-1])
    else:
        rows = reader.period_series(video_id, period, starts)
    return tuple(_point(start, period_end(period, start), rows.get(start)) for start in starts)


def series_periods(period: Period, first: dt.date, last: dt.date) -> list[dt.date]:
    """The period starts of a series over [first, last]: BadRange on `to` when it ends before
    it starts or spans more than MAX_POINTS periods (counted by arithmetic, before any list)."""
    if last < first:
        raise BadRange("must not be before from", field="to")
    count = count_periods(period, first, last)
    if count > MAX_POINTS:
        raise BadRange(
            f"[from, to] spans {count} {period.value.lower()} periods; at most {MAX_POINTS} per request",
            field="to",
        )
    return periods_in_range(period, first, last)


def comparison_periods(comparison: Comparison | None, period: Period, starts: list[dt.date]) -> list[dt.date]:
    """The period starts of the earlier range ([] without a comparison): BadRange on
    `compare` past MAX_POINTS (a daily YEAR_AGO range gains a day when it reaches back over a
    Feb 29), so a compared request reads at most twice the limit."""
    if comparison is None:
        return []
    earlier = earlier_starts(comparison, period, starts[0], starts[-1])
    if len(earlier) > MAX_POINTS:
        raise BadRange(
            f"the {comparison.value} range spans {len(earlier)} {period.value.lower()} periods; "
            f"at most {MAX_POINTS} per request",
            field="compare",
        )
    return earlier


@dataclasses.dataclass(frozen=True)
class SellerStatsRequest:
    """A seller's series asked for, validated and authorized, and the data state it reads at."""

    seller_id: int
    period: Period
    starts: tuple[dt.date, ...]  # the period starts of the series, at most MAX_POINTS
    state: DataState
    comparison: Comparison | None = None
    earlier: tuple[dt.date, ...] = ()  # the earlier range's period starts, at most MAX_POINTS

    @property
    def period_end(self) -> dt.date:
        return period_end(self.period, self.starts[-1])

    @property
    def cache_parts(self) -> tuple[object, ...]:
        parts = (self.seller_id, self.period.value, self.starts[0].isoformat(), self.starts[-1].isoformat())
        return parts if self.comparison is None else (*parts, self.comparison.value)


def plan_seller_stats(
    read: ReadSide,
    principal: Principal,
    seller_id: int,
    period_name: str,
    from_text: str,
    to_text: str,
    compare_text: str = "",
) -> SellerStatsRequest:
    """Cheap refusals first: the arguments, who may read, the ranges' sizes; then the data
    state. An unknown seller is SellerNotFound when read (get_seller_stats), as its statement."""
    require_positive_id(seller_id, "seller_id")
    period = parse_period(period_name)
    first = parse_day(from_text, "from")
    last = parse_day(to_text, "to")
    comparison = parse_comparison(compare_text)
    require_seller_or_admin(principal, seller_id, "seller's statistics")
    starts = series_periods(period, first, last)
    earlier = comparison_periods(comparison, period, starts)
    return SellerStatsRequest(seller_id, period, tuple(starts), read.data_state(), comparison, tuple(earlier))


def get_seller_stats(read: ReadSide, request: SellerStatsRequest) -> SellerStatsSeries:
    """The seller's series of a planned request, read at the data state it pinned (the read
    path's connection, through the SQL reader)."""

    def read_known(conn, state: DataState) -> SellerStatsSeries:
        require_known_seller(conn, request.seller_id)
        return read_seller_stats(SqlStatisticsReader(conn), request, state.data_through)

    return read.read_at(request.state, read_known)


def read_seller_stats(
    reader: StatisticsReader, request: SellerStatsRequest, data_through: dt.date | None
) -> SellerStatsSeries:
    """The seller's dense series: zeros for the periods without figures; with a comparison,
    the earlier range's too, read the same way by the same reader (the same data state)."""
    points = _seller_points(reader, request.seller_id, request.period, request.starts)
    earlier = _seller_points(reader, request.seller_id, request.period, request.earlier) if request.earlier else ()
    compared = compare(request.comparison, points, earlier)
    return SellerStatsSeries(request.seller_id, request.period, points, data_through, compared)


def _seller_points(
    reader: StatisticsReader, seller_id: int, period: Period, starts: tuple[dt.date, ...] | list[dt.date]
) -> tuple[StatsPoint, ...]:
    figures = _fold(period, reader.seller_series(seller_id, period, starts[0], starts[-1]))
    return tuple(StatsPoint(start, period_end(period, start), **figures.get(start, ZERO_FIGURES)) for start in starts)


# A point's figures by column: int, or Decimal for MONEY_COLUMNS (StatsPoint's keyword arguments).
_Figures = dict[str, Any]


def _fold(period: Period, parts: list[SeriesPart]) -> dict[dt.date, _Figures]:
    """The reader's parts of a seller's series as the figures of each period start: the
    batch's, with FROZEN_COLUMNS of a closed month replaced by its closed lines and, for each
    closed day the batch recomputed since its close, the day's current figures swapped for the
    copy."""
    figures: dict[dt.date, _Figures] = {}
    corrections = []
    for part in parts:
        if part.kind == "live":
            figures[part.start] = dict(part.figures)
        else:
            corrections.append(part)
    for kind, day, values in corrections:  # after every live part: the union's order is not SQL's promise
        point = figures.setdefault(period_start(period, day), dict(ZERO_FIGURES))
        for name in repository.FROZEN_COLUMNS:
            if kind == "closed":
                point[name] = values[name]
            elif kind == "frozen":
                point[name] += values[name]
            else:  # "replaced"
                point[name] -= values[name]
    return figures


def _point(start: dt.date, end: dt.date, figures: _Figures | None) -> StatsPoint:
    if figures is None:
        return StatsPoint(start, end, 0, 0, 0, Decimal(0), Decimal(0))
    return StatsPoint(start, end, **figures)
