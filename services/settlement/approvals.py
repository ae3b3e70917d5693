"""Use cases: maker-checker approval of a closed month's payouts, and what a payout pays
(DESIGN.md section 2b, docs/ledger.md "Approving a month's payouts", "What a payout pays").

Closing a month creates its payouts PENDING (HELD for a seller without a complete payout
profile). An admin other than the one who closed the month approves them all at once: every
PENDING payout of the month becomes APPROVED in one transaction, and only APPROVED payouts
can then be marked PAID or FAILED (domain/ledger.py holds the status rules).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from domain import ledger, money
from domain.audit_chain import AuditEvent, summary_json
from domain.errors import ClosingNotFound, PayoutNotFound, require_positive_id
from domain.periods import month_name, parse_month
from services.common.auth import Principal, require_role, require_seller_or_admin
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement.ports import Closing, Entry, Payout, UnitOfWork


def approve_month(uow: UnitOfWork, principal: Principal, month_text: str, *, clock: Clock = SYSTEM_CLOCK) -> Closing:
    """Approves the month's PENDING payouts, all or nothing, and returns the closing with its
    approval. A month not closed is NotFound (there is nothing to approve: the same answer
    GetPendingAdjustments gives). Approving again changes nothing and returns the same closing."""
    require_role(principal, "ADMIN")
    month = parse_month(month_text, "month")
    with uow:
        closing = uow.closings.closing(month)
        if closing is None:
            raise ClosingNotFound(
                f"{month_name(month)} is not closed: close it before approving its payouts", field="month"
            )
        # Self-approval is refused even once approved: the closer never gets an approving answer.
        ledger.check_approver(closing.closed_by, principal.account_id, month_name(month))
        if closing.approved_by is not None:
            return closing
        if not uow.closings.approve(month, principal.account_id, clock.now_us()):
            # A concurrent approval committed between the read and the write: that one stands.
            approved = uow.closings.closing(month)
            assert approved is not None  # closings are never deleted
            return approved
        approved = uow.closings.closing(month)
        assert approved is not None
        uow.audit.record(_approved_event(principal, approved), clock.now_us())
        uow.commit()
        return approved


def _approved_event(principal: Principal, approved: Closing) -> AuditEvent:
    """The audit entry of an approval: the month, its closer and how many payouts it approved."""
    target = f"month:{month_name(approved.month)}"
    before = summary_json({"closed_by": approved.closed_by, "approved_by": None})
    return AuditEvent(
        principal.account_id, "payouts.approve", target, before, summary_json({"approved_by": principal.account_id})
    )


@dataclasses.dataclass(frozen=True)
class PayoutEntries:
    """The entries a payout pays; `total` + carried_in = amount_krw + carried_out, exactly."""

    payout: Payout
    entries: list[Entry]
    carried_in: Decimal
    carried_out: Decimal

    @property
    def total(self) -> Decimal:
        return sum((e.amount for e in self.entries), money.ZERO)


def payout_entries(uow: UnitOfWork, principal: Principal, payout_id: int) -> PayoutEntries:
    """The ledger entries a payout pays (reconciliation), for its seller or an admin."""
    require_positive_id(payout_id, "payout_id")
    with uow:
        payout = uow.ledger.payout(payout_id)
        if payout is None:
            raise PayoutNotFound(f"no payout {payout_id}", field="payout_id")
        require_seller_or_admin(principal, payout.seller_id, "payout")
        paid = uow.ledger.paid_entries(payout)
    return PayoutEntries(payout, paid.entries, paid.carried_in, paid.carried_out)
