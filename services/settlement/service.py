"""Use case: a seller's statement for the day, ISO week or month containing a date.

DESIGN.md section 2, Money: lines are exact decimals per video; the statement's totals are
exact sums of its lines; `payable_krw` truncates the exact total toward zero once.
The use case returns the statement as a plain value; the adapters (servicer.py, csv_export.py)
render it and cache the rendering by data version (ReadSide.cached).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
from decimal import Decimal
from typing import NamedTuple

from domain import money
from domain.errors import require_positive_id
from domain.periods import Period, parse_day, period_bounds, periods_in_range
from services.common.auth import Principal, require_seller_or_admin
from services.readpath.dataversion import DataState
from services.readpath.readside import ReadSide, parse_period
from services.settlement import repository
from services.settlement.ports import AdjustmentLine, StatementReader
from services.video.published import require_known_seller

CURRENCY = "KRW"


class Status(enum.StrEnum):
    OPEN = "OPEN"  # an estimate the batch may still change
    CLOSED = "CLOSED"  # final: every day of the period is in a closed month


class StatementLine(NamedTuple):
    # A tuple, not a frozen dataclass: a 1,000-line statement builds 1,000 of them per miss.
    video_id: int
    title: str
    views: int
    ad_views: int
    video_revenue: Decimal
    ad_revenue: Decimal

    @property
    def amount(self) -> Decimal:
        return self.video_revenue + self.ad_revenue


@dataclasses.dataclass(frozen=True)
class Statement:
    seller_id: int
    period: Period
    period_start: dt.date
    period_end: dt.date
    lines: tuple[StatementLine, ...]
    data_through: dt.date | None
    status: Status = Status.OPEN
    closed_at_us: int | None = None
    # A closed month's statement: the differences for earlier closed months posted at its close.
    adjustments: tuple[AdjustmentLine, ...] = ()
    currency: str = CURRENCY

    # Decimal addition is exact (the context's 28 digits hold DECIMAL(24,4) sums of any
    # realistic size; each value is a Decimal read from a DECIMAL column).
    @functools.cached_property
    def video_revenue(self) -> Decimal:
        return sum((line.video_revenue for line in self.lines), money.ZERO)

    @functools.cached_property
    def ad_revenue(self) -> Decimal:
        return sum((line.ad_revenue for line in self.lines), money.ZERO)

    @functools.cached_property
    def adjustments_total(self) -> Decimal:
        return sum((line.amount for line in self.adjustments), money.ZERO)

    @functools.cached_property
    def total(self) -> Decimal:
        return self.video_revenue + self.ad_revenue + self.adjustments_total

    @property
    def payable_krw(self) -> int:
        return money.payable_krw(self.total)


@dataclasses.dataclass(frozen=True)
class StatementRequest:
    """A statement asked for, validated and authorized, and the data state it reads at."""

    seller_id: int
    period: Period
    period_start: dt.date
    period_end: dt.date
    state: DataState

    @property
    def cache_parts(self) -> tuple[object, ...]:
        return (self.seller_id, self.period.value, self.period_start.isoformat())


def plan_statement(
    read: ReadSide, principal: Principal, seller_id: int, period_name: str, date_text: str
) -> StatementRequest:
    """Cheap refusals first (the arguments, then who may read), then the data state: a
    request an adapter can look up in its cache before anything is read."""
    require_positive_id(seller_id, "seller_id")
    period = parse_period(period_name)
    day = parse_day(date_text, "date")
    require_seller_or_admin(principal, seller_id, "statement")
    start, end = period_bounds(period, day)
    return StatementRequest(seller_id, period, start, end, read.data_state())


def get_statement(read: ReadSide, request: StatementRequest) -> Statement:
    """The statement of a planned request, read at the data state it pinned (the read path's
    connection, through the SQL reader)."""

    def read_known(conn, state: DataState) -> Statement:
        require_known_seller(conn, request.seller_id)  # 404 for an unknown seller, not zeros
        return read_statement(
            repository.SqlStatementReader(conn),
            request.seller_id,
            request.period,
            request.period_start,
            request.period_end,
            state.data_through,
        )

    return read.read_at(request.state, read_known)


def read_statement(
    reader: StatementReader, seller_id: int, period: Period, start: dt.date, end: dt.date, data_through: dt.date | None
) -> Statement:
    """The statement of [start, end]: the batch's figures for open days, the frozen figures
    for the days of closed months (DESIGN 2a), and, for a closed month, the adjustments
    posted at its close."""
    closed = reader.closed_months()
    months = periods_in_range(Period.MONTHLY, start, end)
    closings = [closed[m] for m in months if m in closed]
    if not closings:
        lines = reader.statement_lines(seller_id, period, start)
        return Statement(seller_id, period, start, end, tuple(map(StatementLine._make, lines)), data_through)
    all_closed = len(closings) == len(months)
    adjustments: tuple[AdjustmentLine, ...] = ()
    if period is Period.MONTHLY:
        lines = reader.closed_month_lines(seller_id, start)
        adjustments = tuple(reader.adjustments_posted(seller_id, start))
    else:
        lines = reader.frozen_aware_lines(seller_id, start, end)
    return Statement(
        seller_id,
        period,
        start,
        end,
        tuple(map(StatementLine._make, lines)),
        data_through,
        status=Status.CLOSED if all_closed else Status.OPEN,
        closed_at_us=max(closings) if all_closed else None,
        adjustments=adjustments,
    )
