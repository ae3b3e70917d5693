"""The ledger's rules (DESIGN.md section 2a, docs/ledger.md), in plain Python.

No I/O: the SQL in ledger_repository.py applies the same rules to whole months at once, and
tests/reference.py recomputes them independently.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from domain import money
from domain.errors import BadPayoutMark, PayoutMarkConflict, PayoutNotApproved, SelfApproval
from domain.text import require_plain_text

DEFAULT_MINIMUM_PAYOUT_KRW = 10_000
MAX_REFERENCE_LENGTH = 128


class EntryKind(enum.StrEnum):
    EARNING = "EARNING"  # a frozen line of a closed month
    ADJUSTMENT = "ADJUSTMENT"  # a later difference for an earlier closed month, signed
    PAYOUT = "PAYOUT"  # money paid out, negative
    PAYOUT_REVERSAL = "PAYOUT_REVERSAL"  # a failed payout's money returned, positive


# The entries that say what a closed month earned (the adjustments' basis).
EARNED_KINDS = (EntryKind.EARNING, EntryKind.ADJUSTMENT)


class PayoutStatus(enum.StrEnum):
    """HELD (a seller without a complete payout profile) -> PENDING (created by the close,
    or released) -> APPROVED (by an admin other than the closer) -> PAID | FAILED."""

    HELD = "HELD"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    PAID = "PAID"
    FAILED = "FAILED"


# Maker-checker (DESIGN 2b): the statuses an approval of the month moves, and the one a mark
# needs. A HELD payout is neither: it waits for its profile, not for a checker.
APPROVABLE = PayoutStatus.PENDING
MARKABLE = PayoutStatus.APPROVED


def payout_krw(balance: Decimal, minimum_krw: int) -> int:
    """What a close pays a seller: the balance truncated to whole KRW when the balance is at
    least the minimum, else 0 (the balance rolls over). The fraction stays in the balance."""
    if balance < minimum_krw:
        return 0
    return money.payable_krw(balance)


def adjustment(computed: Decimal, in_ledger: Decimal) -> Decimal:
    """The signed difference a close posts for an earlier closed month and video."""
    return computed - in_ledger


def check_mark(status: str, reference: str) -> tuple[PayoutStatus, str | None]:
    """A mark's wanted outcome: PAID needs the payment reference; FAILED may carry one."""
    if status not in (PayoutStatus.PAID, PayoutStatus.FAILED):
        raise BadPayoutMark("must be PAID or FAILED", field="status")
    reference = reference.strip()
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise BadPayoutMark(f"at most {MAX_REFERENCE_LENGTH} characters", field="reference")
    # A NUL or a control character was stored as given, then cut or garbled the reference in
    # the CSV files and at the bank (domain/text.py).
    require_plain_text(reference, "reference")
    if status == PayoutStatus.PAID and not reference:
        raise BadPayoutMark("is required to mark a payout PAID", field="reference")
    return PayoutStatus(status), reference or None


def approval_changes(status: PayoutStatus) -> bool:
    """Whether approving its month moves a payout: only PENDING ones become APPROVED; the
    others (HELD, already APPROVED, PAID, FAILED) stay as they are."""
    return status is APPROVABLE


def check_approver(closed_by: int, approver: int, month: str) -> None:
    """Maker-checker: the admin who closed a month may not approve its payouts."""
    if closed_by == approver:
        raise SelfApproval(f"the admin who closed {month} cannot approve its payouts; another admin must")


def mark_changes(
    current: PayoutStatus, current_reference: str | None, wanted: PayoutStatus, reference: str | None
) -> bool:
    """True when the mark moves an APPROVED payout; False when it repeats the recorded outcome
    (idempotent: nothing changes). A payout not approved yet (HELD, PENDING) is refused, and
    so is anything that contradicts what was recorded."""
    if current is MARKABLE:
        return True
    if current in (PayoutStatus.HELD, PayoutStatus.PENDING):
        waits_for = "its seller's payout profile, then " if current is PayoutStatus.HELD else ""
        raise PayoutNotApproved(
            f"payout is {current.value}: only an APPROVED payout can be marked PAID or FAILED"
            f" (it waits for {waits_for}an admin other than the closer to approve the month)"
        )
    if current is wanted and current_reference == reference:
        return False
    raise PayoutMarkConflict(
        f"payout is already {current.value}" + (f" with reference {current_reference!r}" if current_reference else "")
    )
