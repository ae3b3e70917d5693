"""In-memory fakes of the read ports: services/statistics/ports.py's StatisticsReader and
services/settlement/ports.py's StatementReader, over one FakeFigures (the batch's published
figures, the closes' frozen ones, the posted adjustments and the videos). They keep the SQL
adapters' contract (checked against them by tests/integration/test_figures_ports_contract.py):
zeros left out of top lists, lines with a non-zero amount by video_id, a closed day the batch
recomputed read from its copy."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from batch.tables import RULE_EXCLUSION_COLUMNS
from domain.periods import Period
from services.settlement.ports import AdjustmentLine, Line
from services.statistics.ports import Figures, SeriesPart, TopRow

SERIES_COLUMNS = ("views", "watch_time_sec", "ad_views", "video_revenue", "ad_revenue", *RULE_EXCLUSION_COLUMNS)
FROZEN_COLUMNS = ("views", "ad_views", "video_revenue", "ad_revenue")
MONEY_COLUMNS = ("video_revenue", "ad_revenue")
METRIC_COLUMNS = {"VIEWS": "views", "WATCH_TIME": "watch_time_sec"}


def figures(names: tuple[str, ...] = SERIES_COLUMNS, **values: int | str | Decimal) -> Figures:
    """Every column of `names`, 0 unless given; revenues as Decimal."""
    unknown = set(values) - set(names)
    if unknown:
        raise ValueError(f"not columns here: {sorted(unknown)}")
    return {n: Decimal(values.get(n, 0)) if n in MONEY_COLUMNS else int(values.get(n, 0)) for n in names}


def _sum(rows: list[Figures], names: tuple[str, ...]) -> Figures:
    """The columns of `names` summed over `rows` (0 for none), the other series columns 0."""
    zero = figures()
    return zero | {n: sum((r[n] for r in rows), zero[n]) for n in names}


def _amount(f: Figures) -> Decimal:
    return Decimal(f["video_revenue"]) + Decimal(f["ad_revenue"])


@dataclasses.dataclass
class FakeFigures:
    """videos: video_id -> (seller_id, title); daily: (day, video_id) -> (seller_id, figures);
    periods: (period, start, video_id) -> (seller_id, figures); closed: month -> closed_at_us;
    closed_lines: (month, video_id) -> (seller_id, frozen figures); frozen_days: closed days
    recomputed since (their copies in frozen_daily, like closed_lines); adjustments:
    (seller_id, posted_month, original_month, video_id, amount)."""

    videos: dict[int, tuple[int, str]] = dataclasses.field(default_factory=dict)
    daily: dict[tuple[dt.date, int], tuple[int, Figures]] = dataclasses.field(default_factory=dict)
    periods: dict[tuple[Period, dt.date, int], tuple[int, Figures]] = dataclasses.field(default_factory=dict)
    closed: dict[dt.date, int] = dataclasses.field(default_factory=dict)
    closed_lines: dict[tuple[dt.date, int], tuple[int, Figures]] = dataclasses.field(default_factory=dict)
    frozen_days: set[dt.date] = dataclasses.field(default_factory=set)
    frozen_daily: dict[tuple[dt.date, int], tuple[int, Figures]] = dataclasses.field(default_factory=dict)
    adjustments: list[tuple[int, dt.date, dt.date, int, Decimal]] = dataclasses.field(default_factory=list)
    # (day, video_id) -> (counted views, 100 counts): the batch's video_daily_retention.
    retention: dict[tuple[dt.date, int], tuple[int, tuple[int, ...]]] = dataclasses.field(default_factory=dict)

    def title(self, video_id: int) -> str:
        return self.videos[video_id][1] if video_id in self.videos else ""

    def rows_of(self, seller_id: int, period: Period, start: dt.date) -> dict[int, Figures]:
        """The batch's rows of a seller for the period starting at `start`, by video_id."""
        if period is Period.DAILY:
            return {v: f for (day, v), (s, f) in self.daily.items() if s == seller_id and day == start}
        return {v: f for (p, st, v), (s, f) in self.periods.items() if s == seller_id and (p, st) == (period, start)}

    def line(self, video_id: int, f: Figures) -> Line:
        return (
            video_id,
            self.title(video_id),
            int(f["views"]),
            int(f["ad_views"]),
            Decimal(f["video_revenue"]),
            Decimal(f["ad_revenue"]),
        )


class FakeStatementReader:
    def __init__(self, data: FakeFigures) -> None:
        self.data = data

    def closed_months(self) -> dict[dt.date, int]:
        return dict(self.data.closed)

    def statement_lines(self, seller_id: int, period: Period, start: dt.date) -> list[Line]:
        rows = self.data.rows_of(seller_id, period, start)
        return [self.data.line(v, f) for v, f in sorted(rows.items()) if _amount(f) != 0]

    def closed_month_lines(self, seller_id: int, month: dt.date) -> list[Line]:
        rows = {v: f for (m, v), (s, f) in self.data.closed_lines.items() if s == seller_id and m == month}
        return [self.data.line(v, f) for v, f in sorted(rows.items())]

    def frozen_aware_lines(self, seller_id: int, first: dt.date, last: dt.date) -> list[Line]:
        by_video: dict[int, list[Figures]] = defaultdict(list)
        for (day, v), (s, f) in self.data.frozen_daily.items():
            if s == seller_id and first <= day <= last:
                by_video[v].append(f)
        for (day, v), (s, f) in self.data.daily.items():
            if s == seller_id and first <= day <= last and day not in self.data.frozen_days:
                by_video[v].append(f)
        sums = {v: _sum(rows, FROZEN_COLUMNS) for v, rows in by_video.items()}
        return [self.data.line(v, f) for v, f in sorted(sums.items()) if _amount(f) != 0]

    def adjustments_posted(self, seller_id: int, month: dt.date) -> list[AdjustmentLine]:
        return sorted(
            AdjustmentLine(original, video_id, self.data.title(video_id), amount)
            for s, posted, original, video_id, amount in self.data.adjustments
            if s == seller_id and posted == month
        )


class FakeStatisticsReader:
    def __init__(self, data: FakeFigures) -> None:
        self.data = data

    def top_videos(self, seller_id: int, period: Period, start: dt.date, metric: str, limit: int) -> list[TopRow]:
        column = METRIC_COLUMNS[metric]
        rows = [(v, f) for v, f in self.data.rows_of(seller_id, period, start).items() if f[column] > 0]
        rows.sort(key=lambda vf: (-vf[1][column], vf[0]))
        return [TopRow(v, self.data.title(v), int(f["views"]), int(f["watch_time_sec"])) for v, f in rows[:limit]]

    def video_seller(self, video_id: int) -> int | None:
        return self.data.videos[video_id][0] if video_id in self.data.videos else None

    def daily_series(self, video_id: int, first: dt.date, last: dt.date) -> dict[dt.date, Figures]:
        return {day: dict(f) for (day, v), (_, f) in self.data.daily.items() if v == video_id and first <= day <= last}

    def daily_retention(self, video_id: int, first: dt.date, last: dt.date) -> list[tuple[int, tuple[int, ...]]]:
        return [row for (day, v), row in self.data.retention.items() if v == video_id and first <= day <= last]

    def period_series(self, video_id: int, period: Period, starts: list[dt.date]) -> dict[dt.date, Figures]:
        return {
            st: dict(f)
            for (p, st, v), (_, f) in self.data.periods.items()
            if (p, v) == (period, video_id) and st in starts
        }

    def seller_series(self, seller_id: int, period: Period, first: dt.date, last: dt.date) -> list[SeriesPart]:
        live: dict[dt.date, list[Figures]] = defaultdict(list)
        if period is Period.DAILY:
            for (day, _), (s, f) in self.data.daily.items():
                if s == seller_id and first <= day <= last:
                    live[day].append(f)
        else:
            for (p, st, _), (s, f) in self.data.periods.items():
                if s == seller_id and p is period and first <= st <= last:
                    live[st].append(f)
        parts = [SeriesPart("live", start, _sum(rows, SERIES_COLUMNS)) for start, rows in live.items()]
        if period is Period.MONTHLY:
            for month in self.data.closed:
                if first <= month <= last:
                    rows = [f for (m, _), (s, f) in self.data.closed_lines.items() if (m, s) == (month, seller_id)]
                    parts.append(SeriesPart("closed", month, _sum(rows, FROZEN_COLUMNS)))
            return parts
        last_day = last + dt.timedelta(days=6) if period is Period.WEEKLY else last
        for day in self.data.frozen_days:
            if first <= day <= last_day:
                for kind, table in (("frozen", self.data.frozen_daily), ("replaced", self.data.daily)):
                    rows = [f for (d, _), (s, f) in table.items() if (d, s) == (day, seller_id)]
                    parts.append(SeriesPart(kind, day, _sum(rows, FROZEN_COLUMNS)))
        return parts
