"""The ledger's rules (DESIGN.md section 2a, docs/ledger.md), in plain Python.

No I/O: the SQL in ledger_repository.py applies the same rules to whole months at once, and
tests/reference.py recomputes them independently.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from domain import money
from domain.errors import BadPayoutMark, PayoutMarkConflict
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
    HELD = "HELD"  # the seller's payout profile is incomplete: PENDING once it is complete
    PENDING = "PENDING"
    PAID = "PAID"
    FAILED = "FAILED"


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


def mark_changes(
    current: PayoutStatus, current_reference: str | None, wanted: PayoutStatus, reference: str | None
) -> bool:
    """True when the mark moves a PENDING payout; False when it repeats the recorded outcome
    (idempotent: nothing changes). Anything else contradicts what was recorded."""
    if current is PayoutStatus.PENDING:
        return True
    if current is PayoutStatus.HELD:
        raise PayoutMarkConflict(
            "payout is HELD until the seller completes their payout profile; it cannot be marked yet"
        )
    if current is wanted and current_reference == reference:
        return False
    raise PayoutMarkConflict(
        f"payout is already {current.value}" + (f" with reference {current_reference!r}" if current_reference else "")
    )
