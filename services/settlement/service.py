"""Use case: a seller's statement for the day, ISO week or month containing a date.

DESIGN.md section 2, Money: lines are exact decimals per video; the statement's totals are
exact sums of its lines; `payable_krw` truncates the exact total toward zero once.
Statements are cached in Redis by data version (services/common/cache.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

from services.common import money
from services.common.auth import Principal
from services.common.cache import read_data_state, ttl_for
from services.common.periods import Period, period_bounds
from services.common.readside import ReadSide, parse_day, parse_id, parse_period, require_seller_or_admin
from services.settlement import repository

CURRENCY = "KRW"


@dataclasses.dataclass(frozen=True)
class StatementLine:
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
    currency: str = CURRENCY

    @property
    def video_revenue(self) -> Decimal:
        return money.sum_exact(line.video_revenue for line in self.lines)

    @property
    def ad_revenue(self) -> Decimal:
        return money.sum_exact(line.ad_revenue for line in self.lines)

    @property
    def total(self) -> Decimal:
        return money.sum_exact(line.amount for line in self.lines)

    @property
    def payable_krw(self) -> int:
        return money.payable_krw(self.total)


def get_statement(read: ReadSide, principal: Principal, seller_id: int, period_name: str, date_text: str) -> Statement:
    parse_id(seller_id, "seller_id")
    period = parse_period(period_name)
    day = parse_day(date_text, "date")
    require_seller_or_admin(principal, seller_id, "statement")
    start, end = period_bounds(period, day)

    def use_case(conn) -> Statement:
        state = read_data_state(conn)

        def compute() -> bytes:
            rows = repository.statement_lines(conn, seller_id, period, start)
            return _encode([list(row) for row in rows])

        key = read.cache.key("stmt", state.version, seller_id, period.value, start.isoformat())
        raw = read.cache.get_or_compute(key, ttl_for(end, state.data_through, read.today()), compute, name="statement")
        lines = tuple(
            StatementLine(int(v), title, int(views), int(ads), Decimal(vr), Decimal(ar))
            for v, title, views, ads, vr, ar in json.loads(raw)
        )
        return Statement(seller_id, period, start, end, lines, state.data_through)

    return read.read(use_case)


def _encode(rows: list[list]) -> bytes:
    # Decimals travel as exact strings; JSON numbers would go through float.
    return json.dumps(
        [[v, t, views, ads, str(vr), str(ar)] for v, t, views, ads, vr, ar in rows], separators=(",", ":")
    ).encode()
