"""Use case: closing a month (DESIGN.md section 2a, docs/ledger.md).

A close is one transaction: claim the month, freeze its lines, post one EARNING entry per
line, post the ADJUSTMENT entries for earlier closed months, create the payouts, fill in the
closing's figures. A crash anywhere leaves nothing (the transaction never committed) and the
close can simply be run again. Closing a closed month returns its closing unchanged; of two
concurrent closes of one month, one claims it and the other returns that closing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.published import publication_delay_sec
from domain import ledger, taxes
from domain.audit_chain import AuditEvent, summary_json
from domain.errors import ClosingNotFound, MonthNotReady, MonthOutOfOrder
from domain.periods import month_end, month_name, next_month, parse_month
from services.common.auth import Principal, require_role
from services.common.clock import SYSTEM_CLOCK, Clock
from services.common.metrics import LAST_CLOSED_MONTH, month_number
from services.settlement import ledger_repository, repository
from services.settlement.ports import Closing, NewPayout, PendingAdjustment, UnitOfWork, WriteConflict

# Called with (step number, steps in all, what the step does) as the close goes on.
Progress = Callable[[int, int, str], None]
STEPS = ("checking the month's days", "freezing lines", "posting earnings", "posting adjustments", "creating payouts")
DAYS_NAMED = 10  # a refusal names at most this many days (then "and N more")


def sql_unit_of_work(engine: sa.Engine) -> UnitOfWork:
    """The SQL unit of work (repository.SqlUnitOfWork), for callers holding an engine: the
    servicer, the CLI (which imports no repository), the benchmark and tests. One per use
    case call (a close runs several transactions on it, one after the other)."""
    return repository.SqlUnitOfWork(engine)


def close_month(
    uow: UnitOfWork,
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
    with uow:
        existing = uow.closings.closing(month)
        if existing is not None:
            _show_last_closed_month(uow)
            return existing
        report(1, len(STEPS), STEPS[0])
        _require_closable(uow, month, clock.today(zone))
    try:
        closed = _close(uow, principal, month, report, minimum_default, clock.now_us())
    except WriteConflict as conflict:
        # A concurrent close claimed the month first and committed: that is the closing.
        with uow:
            existing = uow.closings.closing(month)
            if existing is None:
                raise conflict.storage_error from None
            _show_last_closed_month(uow)
        return existing
    # Statements of the month change (CLOSED, frozen): readers trust a data version for the
    # published window, so the close returns only once none can still serve the old one.
    with uow:
        _show_last_closed_month(uow)
        window_ms = uow.closings.reader_max_age_ms()
    time.sleep(publication_delay_sec(window_ms))
    return closed


def show_last_closed_month(conn: sa.Connection) -> None:
    """Sets the last-closed-month gauge from the database (alerts/docs: docs/operations.md,
    "Prometheus and alerts"); it stays 0 while no month is closed."""
    last = ledger_repository.last_closed_month(conn)
    if last is not None:
        LAST_CLOSED_MONTH.set(month_number(last))


def _show_last_closed_month(uow: UnitOfWork) -> None:
    """show_last_closed_month inside a use case's unit of work."""
    last = uow.closings.last_closed_month()
    if last is not None:
        LAST_CLOSED_MONTH.set(month_number(last))


def _require_closable(uow: UnitOfWork, month: dt.date, today: dt.date) -> None:
    last_closed = uow.closings.last_closed_month()
    if last_closed is not None and month != next_month(last_closed):
        wanted = month_name(next_month(last_closed))
        raise MonthOutOfOrder(
            f"months close in order: the last closed month is {month_name(last_closed)}, so the next is {wanted}",
            field="month",
        )
    last_day = month_end(month)
    if last_day >= today:
        raise MonthNotReady(f"{month_name(month)} has not ended (its last day is {last_day})", field="month")
    pending = [day for day in uow.closings.days_to_compute(last_day) if day >= month]
    if pending:
        named = ", ".join(day.isoformat() for day in pending[:DAYS_NAMED])
        more = f" and {len(pending) - DAYS_NAMED} more" if len(pending) > DAYS_NAMED else ""
        raise MonthNotReady(
            f"days of {month_name(month)} are not computed or are stale: {named}{more}; run the batch first",
            field="month",
        )


def _close(
    uow: UnitOfWork, principal: Principal, month: dt.date, report: Progress, minimum_default: int, now_us: int
) -> Closing:
    with uow:
        uow.closings.claim(month, principal.account_id, now_us)
        earlier = sorted(m for m in uow.closings.closed_months() if m < month)
        report(2, len(STEPS), STEPS[1])
        uow.closings.freeze_lines(month)
        report(3, len(STEPS), STEPS[2])
        uow.closings.post_earnings(month, now_us)
        report(4, len(STEPS), STEPS[3])
        uow.closings.post_adjustments(month, earlier, now_us)
        report(5, len(STEPS), STEPS[4])
        minimum = uow.ledger.minimum_payout_krw(month_end(month), minimum_default)
        amounts = [
            (seller_id, amount)
            for seller_id, balance in uow.closings.balances_at_least(minimum)
            if (amount := ledger.payout_krw(balance, minimum)) > 0
        ]
        # DESIGN 2b: taxed with the table in force on the month's first day; a seller without
        # a complete payout profile gets the payout HELD (released by profiles.put_profile).
        rates = taxes.rates_for(uow.taxes.tables(), month)
        uow.closings.create_payouts(month, new_payouts(amounts, uow.profiles.tax_types(), rates), now_us)
        uow.taxes.issue_invoices(month, None, rates.platform_business_number, taxes.invoice_issue_date(month), now_us)
        closed = uow.closings.finish(month)
        uow.audit.record(_closed_event(principal, closed), now_us)
        uow.commit()
    return closed


def _closed_event(principal: Principal, closed: Closing) -> AuditEvent:
    """The audit entry of a close: the month and what it posted."""
    figures = {
        "sellers": closed.sellers,
        "lines": closed.lines,
        "earnings": str(closed.earnings),
        "adjustments": str(closed.adjustments),
        "payouts_created": closed.payouts_created,
        "payouts_krw": closed.payouts_krw,
    }
    target = f"month:{month_name(closed.month)}"
    return AuditEvent(
        principal.account_id, "month.close", target, summary_json({"status": "OPEN"}), summary_json(figures)
    )


def new_payouts(
    amounts: list[tuple[int, int]], tax_types: dict[int, taxes.TaxType], rates: taxes.TaxRates
) -> list[NewPayout]:
    """(seller_id, whole KRW) as the payouts to create: with the seller's tax breakdown, or
    HELD (no breakdown) for a seller without a complete profile."""
    created = []
    for seller_id, amount in amounts:
        kind = tax_types.get(seller_id)
        breakdown = taxes.breakdown(amount, kind, rates) if kind is not None else None
        created.append(NewPayout(seller_id, amount, kind, breakdown))
    return created


def list_closings(uow: UnitOfWork, principal: Principal) -> list[Closing]:
    require_role(principal, "ADMIN")
    with uow:
        return uow.closings.closings()


def pending_adjustments(uow: UnitOfWork, principal: Principal, month_text: str) -> list[PendingAdjustment]:
    """What the next close would post for a closed month, per seller and video."""
    require_role(principal, "ADMIN")
    month = parse_month(month_text, "month")
    with uow:
        if uow.closings.closing(month) is None:
            raise ClosingNotFound(f"{month_name(month)} is not closed", field="month")
        return uow.closings.pending_adjustments([month])
