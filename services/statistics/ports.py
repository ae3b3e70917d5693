"""What the statistics use cases (service.py) need from storage, as a protocol: the SQL
adapter (repository.SqlStatisticsReader, built by the adapter on the read path's connection
at the data state a request pinned) and the in-memory fake of the unit tests
(tests/fakes/figures.py) both answer it. Plain values; no SQL, no gRPC."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple, Protocol

from domain.periods import Period

# A period's figures by column name (repository.SERIES_COLUMNS: views, watch_time_sec,
# ad_views, video_revenue, ad_revenue, plays and the per-rule exclusions): int, Decimal for
# the revenues.
Figures = dict[str, int | Decimal]


class TopRow(NamedTuple):
    video_id: int
    title: str  # "" for a video without a row
    views: int
    watch_time_sec: int


class SeriesPart(NamedTuple):
    """A part of a seller's series (StatisticsReader.seller_series): `kind` "live" (the
    batch's figures of the period starting at `start`), "closed" (a closed month's frozen
    lines), "frozen" (the copy taken at close of a closed day the batch recomputed since) or
    "replaced" (the batch's current figures of such a day). Columns not in the kind's figures
    are 0."""

    kind: str
    start: dt.date
    figures: Figures


class StatisticsReader(Protocol):
    """The reads of the statistics use cases, all at one data state."""

    def top_videos(self, seller_id: int, period: Period, start: dt.date, metric: str, limit: int) -> list[TopRow]:
        """The seller's best videos of the period starting at `start` (daily rows for a day,
        period rows for a week or a month): by the metric ("VIEWS" or "WATCH_TIME")
        descending, ties by video_id ascending, zeros left out, at most `limit`."""
        ...

    def video_seller(self, video_id: int) -> int | None:
        """The video's seller, None for no such video."""
        ...

    def daily_series(self, video_id: int, first: dt.date, last: dt.date) -> dict[dt.date, Figures]:
        """The video's daily figures in [first, last] by day (days without a row left out)."""
        ...

    def period_series(self, video_id: int, period: Period, starts: list[dt.date]) -> dict[dt.date, Figures]:
        """The video's weekly or monthly figures for the given period starts (those with a row)."""
        ...

    def seller_series(self, seller_id: int, period: Period, first: dt.date, last: dt.date) -> list[SeriesPart]:
        """A seller's figures for the periods starting in [first, last], summed over its
        videos, in no set order: one "live" part per period with rows; for MONTHLY, one
        "closed" part per closed month in the range (the frozen views, ad views and revenues;
        zeros if the seller had none); for DAILY and WEEKLY, per day in [first, last] (through
        the last week's Sunday) whose closed figures were copied before a recompute, a
        "frozen" and a "replaced" part (views, ad views and revenues). A closed day's frozen
        figures are live - replaced + frozen."""
        ...

    def daily_retention(self, video_id: int, first: dt.date, last: dt.date) -> list[tuple[int, tuple[int, ...]]]:
        """The video's audience retention rows of the days in [first, last] (days without a
        row left out), in no set order: (counted views, the 100 counts) per day."""
        ...
