"""Use cases: a seller's balance, ledger and payouts; finance marks payouts (docs/ledger.md).

The balance is the sum of the seller's ledger entries, computed when asked: nothing else
stores a balance that could disagree with the entries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from domain import ledger
from domain.audit_chain import AuditEvent, summary_json
from domain.errors import BadRange, PayoutNotFound, require_positive_id
from domain.periods import Period, count_periods, parse_month
from services.common import paging
from services.common.auth import Principal, require_role, require_seller_or_admin
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement import repository
from services.settlement.ports import Entry, Payout, UnitOfWork

MAX_MONTHS = 120  # a ledger range spans at most ten years
_TOKEN_PREFIX = "l1:"


@dataclasses.dataclass(frozen=True)
class Balance:
    seller_id: int
    balance: Decimal
    minimum_payout_krw: int

    @property
    def payable_krw(self) -> int:
        """What a close would pay now (0 below the minimum: the balance rolls over)."""
        return ledger.payout_krw(self.balance, self.minimum_payout_krw)


@dataclasses.dataclass(frozen=True)
class LedgerPage:
    entries: list[Entry]
    next_page_token: str


def sql_unit_of_work(engine: sa.Engine) -> UnitOfWork:
    """The SQL unit of work (repository.SqlUnitOfWork), for callers holding an engine: the
    servicer, csv_export and tests. One per use case call."""
    return repository.SqlUnitOfWork(engine)


def get_balance(uow: UnitOfWork, principal: Principal, seller_id: int, today: dt.date) -> Balance:
    require_positive_id(seller_id, "seller_id")
    require_seller_or_admin(principal, seller_id, "balance")
    with uow:
        minimum = uow.ledger.minimum_payout_krw(today, ledger.DEFAULT_MINIMUM_PAYOUT_KRW)
        return Balance(seller_id, uow.ledger.balance(seller_id), minimum)


def month_range(from_text: str, to_text: str) -> tuple[dt.date, dt.date]:
    """[first, last] months of a ledger request, checked and sized before any query."""
    first, last = parse_month(from_text, "from"), parse_month(to_text, "to")
    if last < first:
        raise BadRange("must not be before from", field="to")
    if count_periods(Period.MONTHLY, first, last) > MAX_MONTHS:
        raise BadRange(f"spans more than {MAX_MONTHS} months", field="to")
    return first, last


def list_ledger(
    uow: UnitOfWork,
    principal: Principal,
    seller_id: int,
    from_text: str,
    to_text: str,
    page_size: int,
    page_token: str,
) -> LedgerPage:
    require_positive_id(seller_id, "seller_id")
    first, last = month_range(from_text, to_text)
    size = paging.page_size(page_size)
    after = paging.decode_page_token(_TOKEN_PREFIX, page_token)
    require_seller_or_admin(principal, seller_id, "ledger")
    with uow:
        rows = uow.ledger.entries(seller_id, first, last, after_entry_id=after, limit=size + 1)
    page = rows[:size]
    token = paging.encode_page_token(_TOKEN_PREFIX, page[-1].entry_id) if len(rows) > size else ""
    return LedgerPage(page, token)


def all_ledger_entries(
    uow: UnitOfWork, principal: Principal, seller_id: int, from_text: str, to_text: str
) -> list[Entry]:
    """Every entry of the range (for the CSV file: one file, no pages)."""
    require_positive_id(seller_id, "seller_id")
    first, last = month_range(from_text, to_text)
    require_seller_or_admin(principal, seller_id, "ledger")
    with uow:
        return uow.ledger.entries(seller_id, first, last, after_entry_id=0, limit=None)


def list_payouts(uow: UnitOfWork, principal: Principal, seller_id: int) -> list[Payout]:
    require_positive_id(seller_id, "seller_id")
    require_seller_or_admin(principal, seller_id, "payouts")
    with uow:
        return uow.ledger.payouts_of(seller_id)


def get_payout(uow: UnitOfWork, principal: Principal, payout_id: int) -> Payout:
    """One payout with its tax breakdown: its seller's, or any for an admin."""
    require_positive_id(payout_id, "payout_id")
    require_role(principal, "SELLER", "ADMIN")
    with uow:
        found = uow.ledger.payout(payout_id)
    if found is None:
        raise PayoutNotFound(f"no payout {payout_id}", field="payout_id")
    require_seller_or_admin(principal, found.seller_id, "payout")
    return found


def mark_payout(
    uow: UnitOfWork,
    principal: Principal,
    payout_id: int,
    status: str,
    reference: str,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> Payout:
    """PENDING -> PAID (with the payment reference) or FAILED (the money returns to the
    balance), dated by `clock`. The same mark again changes nothing; a contradicting one is
    a Conflict."""
    require_role(principal, "ADMIN")
    require_positive_id(payout_id, "payout_id")
    wanted, reference_or_none = ledger.check_mark(status, reference)
    with uow:
        found = uow.ledger.payout(payout_id)
        if found is None:
            raise PayoutNotFound(f"no payout {payout_id}", field="payout_id")
        moves = ledger.mark_changes(found.status, found.reference, wanted, reference_or_none)
        now_us = clock.now_us()
        settled = moves and uow.ledger.settle_payout(payout_id, wanted, reference_or_none, now_us)
        if moves and not settled:
            # Another mark settled it between the read and the update: judge against that.
            found = uow.ledger.existing_payout(payout_id)
            ledger.mark_changes(found.status, found.reference, wanted, reference_or_none)
        marked = uow.ledger.existing_payout(payout_id)
        if settled:  # the same mark again changed nothing and records nothing
            uow.audit.record(_marked_event(principal, found, marked), now_us)
        uow.commit()
        return marked


def _marked_event(principal: Principal, before: Payout, after: Payout) -> AuditEvent:
    """The audit entry of a mark: the payout's status and reference before and after."""

    def summary(payout: Payout) -> str:
        return summary_json(
            {
                "status": payout.status.value,
                "reference": payout.reference,
                "seller_id": payout.seller_id,
                "amount_krw": payout.amount_krw,
            }
        )

    return AuditEvent(principal.account_id, "payout.mark", f"payout:{after.payout_id}", summary(before), summary(after))
