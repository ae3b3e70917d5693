"""A series' points, totals and comparison with an earlier range (service.py's values):
the figures of a period as the batch computed them, their RPM and their changes
(domain/analytics.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from domain.analytics import Change, Comparison, change, rpm
from services.statistics import repository

# A period without figures: every column 0 (Decimal for the revenues).
ZERO_FIGURES = {name: Decimal(0) if name in repository.MONEY_COLUMNS else 0 for name in repository.SERIES_COLUMNS}


@dataclasses.dataclass(frozen=True)
class StatsPoint:
    period_start: dt.date
    period_end: dt.date
    views: int
    watch_time_sec: int
    ad_views: int
    video_revenue: Decimal
    ad_revenue: Decimal
    # Playbacks, and how many each counted-view rule excluded (strongest rule that applies).
    plays: int = 0
    excluded_self_view: int = 0
    excluded_overlap: int = 0
    excluded_repeat: int = 0
    excluded_cap: int = 0
    excluded_stream_limit: int = 0

    @property
    def revenue(self) -> Decimal:
        """Everything the period earned: video revenue + ad revenue (RPM's revenue)."""
        return self.video_revenue + self.ad_revenue

    @property
    def rpm(self) -> Decimal | None:
        """Revenue per 1,000 counted views (domain/analytics.rpm); None without views."""
        return rpm(self.video_revenue, self.ad_revenue, self.views)


# The figures of a point, in StatsPoint's order (the columns the batch writes); CHANGED adds
# the revenue (video + ad: the figure a seller looks at first) and RPM.
FIGURES = tuple(f.name for f in dataclasses.fields(StatsPoint))[2:]
CHANGED = (*FIGURES, "revenue", "rpm")


def totals(points: tuple[StatsPoint, ...]) -> StatsPoint:
    """The points summed, bounded by the first point's start and the last point's end."""
    sums: dict[str, Any] = {name: sum((getattr(p, name) for p in points), ZERO_FIGURES[name]) for name in FIGURES}
    return StatsPoint(points[0].period_start, points[-1].period_end, **sums)


@dataclasses.dataclass(frozen=True)
class SeriesComparison:
    """The earlier range of a series: its points, their totals, and per figure (CHANGED) the
    change from these totals to the series' totals."""

    comparison: Comparison
    points: tuple[StatsPoint, ...]
    totals: StatsPoint
    changes: dict[str, Change]


def compare(
    comparison: Comparison | None, points: tuple[StatsPoint, ...], earlier: tuple[StatsPoint, ...]
) -> SeriesComparison | None:
    """The SeriesComparison of `points` with the `earlier` points, None without a comparison."""
    if comparison is None:
        return None
    now, before = totals(points), totals(earlier)
    changes = {name: change(_figure(before, name), _figure(now, name)) for name in CHANGED}
    return SeriesComparison(comparison, earlier, before, changes)


def _figure(point: StatsPoint, name: str) -> Decimal | int:
    value = getattr(point, name)
    return Decimal(0) if value is None else value  # no RPM (no views) compares as 0
