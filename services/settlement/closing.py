"""Use case: closing a month (DESIGN.md section 2a, docs/ledger.md).

A close is one transaction: claim the month, freeze its lines, post one EARNING entry per
line, post the ADJUSTMENT entries for earlier closed months, create the payouts, fill in the
closing's figures. A crash anywhere leaves nothing (the transaction never committed) and the
close can simply be run again. Closing a closed month returns its closing unchanged; of two
concurrent closes of one month, one claims it and the other returns that closing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.published import days_to_compute, publication_delay_sec, read_data_state
from domain import ledger
from domain.errors import ClosingNotFound, MonthNotReady, MonthOutOfOrder
from domain.periods import month_end, month_name, next_month, parse_month
from services.common.auth import Principal, require_role
from services.common.clock import SYSTEM_CLOCK, Clock
from services.common.metrics import LAST_CLOSED_MONTH, month_number
from services.settlement import ledger_repository as repo

# Called with (step number, steps in all, what the step does) as the close goes on.
Progress = Callable[[int, int, str], None]
STEPS = ("checking the month's days", "freezing lines", "posting earnings", "posting adjustments", "creating payouts")
DAYS_NAMED = 10  # a refusal names at most this many days (then "and N more")


@dataclasses.dataclass(frozen=True)
class Closing:
    month: dt.date
    closed_at_us: int
    sellers: int
    lines: int
    earnings: Decimal
    adjustment_lines: int
    adjustments: Decimal
    payouts_created: int
    payouts_krw: int

    @property
    def total(self) -> Decimal:
        return self.earnings + self.adjustments


@dataclasses.dataclass(frozen=True)
class PendingAdjustment:
    seller_id: int
    video_id: int
    in_ledger: Decimal
    computed: Decimal

    @property
    def difference(self) -> Decimal:
        return ledger.adjustment(self.computed, self.in_ledger)


def _closing(row: sa.Row) -> Closing:
    return Closing(
        month=row.month,
        closed_at_us=int(row.closed_at_us),
        sellers=int(row.sellers),
        lines=int(row.lines),
        earnings=Decimal(row.earnings),
        adjustment_lines=int(row.adjustment_lines),
        adjustments=Decimal(row.adjustments),
        payouts_created=int(row.payouts_created),
        payouts_krw=int(row.payouts_krw),
    )


def close_month(
    engine: sa.Engine,
    principal: Principal,
    month_text: str,
    *,
    zone: ZoneInfo,
    progress: Progress | None = None,
    minimum_default: int = ledger.DEFAULT_MINIMUM_PAYOUT_KRW,
    clock: Clock = SYSTEM_CLOCK,
) -> Closing:
    """Closes the month for every seller, or returns its closing if it is closed already.
    `clock` says which months have ended and dates the closing's entries and payouts."""
    require_role(principal, "ADMIN")
    month = parse_month(month_text, "month")
    report = progress or (lambda *_: None)
    with engine.connect() as conn:
        existing = repo.closing(conn, month)
        if existing is not None:
            show_last_closed_month(conn)
            return _closing(existing)
        report(1, len(STEPS), STEPS[0])
        _require_closable(conn, month, clock.today(zone))
    try:
        row = _close(engine, principal, month, report, minimum_default, clock.now_us())
    except sa.exc.IntegrityError:
        # A concurrent close claimed the month first and committed: that is the closing.
        with engine.connect() as conn:
            existing = repo.closing(conn, month)
            if existing is None:
                raise
            show_last_closed_month(conn)
        return _closing(existing)
    # Statements of the month change (CLOSED, frozen): readers trust a data version for the
    # published window, so the close returns only once none can still serve the old one.
    with engine.connect() as conn:
        show_last_closed_month(conn)
        window_ms = read_data_state(conn).reader_max_age_ms or 0
    time.sleep(publication_delay_sec(window_ms))
    return _closing(row)


def show_last_closed_month(conn: sa.Connection) -> None:
    """Sets the last-closed-month gauge from the database (alerts/docs: docs/operations.md,
    "Prometheus and alerts"); it stays 0 while no month is closed."""
    last = repo.last_closed_month(conn)
    if last is not None:
        LAST_CLOSED_MONTH.set(month_number(last))


def _require_closable(conn: sa.Connection, month: dt.date, today: dt.date) -> None:
    last_closed = repo.last_closed_month(conn)
    if last_closed is not None and month != next_month(last_closed):
        wanted = month_name(next_month(last_closed))
        raise MonthOutOfOrder(
            f"months close in order: the last closed month is {month_name(last_closed)}, so the next is {wanted}",
            field="month",
        )
    last_day = month_end(month)
    if last_day >= today:
        raise MonthNotReady(f"{month_name(month)} has not ended (its last day is {last_day})", field="month")
    pending = [day for day in days_to_compute(conn, through=last_day) if day >= month]
    if pending:
        named = ", ".join(day.isoformat() for day in pending[:DAYS_NAMED])
        more = f" and {len(pending) - DAYS_NAMED} more" if len(pending) > DAYS_NAMED else ""
        raise MonthNotReady(
            f"days of {month_name(month)} are not computed or are stale: {named}{more}; run the batch first",
            field="month",
        )


def _close(
    engine: sa.Engine, principal: Principal, month: dt.date, report: Progress, minimum_default: int, now_us: int
) -> sa.Row:
    with engine.begin() as conn:
        repo.claim_closing(conn, month, principal.account_id, now_us)
        earlier = sorted(m for m in repo.closed_months(conn) if m < month)
        report(2, len(STEPS), STEPS[1])
        repo.freeze_lines(conn, month)
        report(3, len(STEPS), STEPS[2])
        repo.post_earnings(conn, month, now_us)
        report(4, len(STEPS), STEPS[3])
        repo.post_adjustments(conn, month, earlier, now_us)
        report(5, len(STEPS), STEPS[4])
        minimum = repo.minimum_payout_krw(conn, month_end(month), minimum_default)
        amounts = [
            (seller_id, amount)
            for seller_id, balance in repo.balances_at_least(conn, minimum)
            if (amount := ledger.payout_krw(balance, minimum)) > 0
        ]
        repo.create_payouts(conn, month, amounts, now_us)
        return repo.finish_closing(conn, month)


def list_closings(engine: sa.Engine, principal: Principal) -> list[Closing]:
    require_role(principal, "ADMIN")
    with engine.connect() as conn:
        return [_closing(row) for row in repo.closings(conn)]


def pending_adjustments(engine: sa.Engine, principal: Principal, month_text: str) -> list[PendingAdjustment]:
    """What the next close would post for a closed month, per seller and video."""
    require_role(principal, "ADMIN")
    month = parse_month(month_text, "month")
    with engine.connect() as conn:
        if repo.closing(conn, month) is None:
            raise ClosingNotFound(f"{month_name(month)} is not closed", field="month")
        rows = repo.pending_adjustments(conn, [month])
    return [
        PendingAdjustment(int(r.seller_id), int(r.video_id), Decimal(r.in_ledger), Decimal(r.computed)) for r in rows
    ]
