"""What the ledger, payout and closing use cases (balances.py, closing.py) need from storage,
as protocols: the
SQL adapter (repository.SqlUnitOfWork, over ledger_repository.py) and the in-memory fake of
the unit tests (tests/fakes/settlement.py) both answer them. Plain values; no SQL, no gRPC."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from types import TracebackType
from typing import Protocol, Self

from domain import ledger


@dataclasses.dataclass(frozen=True)
class Entry:
    """A ledger entry as its seller sees it (title: the video's, "" if none)."""

    entry_id: int
    kind: ledger.EntryKind
    posted_month: dt.date
    original_month: dt.date | None
    video_id: int | None
    payout_id: int | None
    amount: Decimal
    posted_at_us: int
    title: str


@dataclasses.dataclass(frozen=True)
class Payout:
    payout_id: int
    seller_id: int
    month: dt.date
    amount_krw: int
    status: ledger.PayoutStatus
    reference: str | None
    created_at_us: int
    updated_at_us: int


class Ledger(Protocol):
    def minimum_payout_krw(self, on: dt.date, default: int) -> int:
        """The minimum payout in force on a day (the newest effective on or before it), or `default`."""
        ...

    def balance(self, seller_id: int) -> Decimal:
        """The sum of the seller's entries (0 with none)."""
        ...

    def entries(
        self, seller_id: int, first: dt.date, last: dt.date, *, after_entry_id: int, limit: int | None
    ) -> list[Entry]:
        """The seller's entries posted in months [first, last] with entry_id > after_entry_id,
        by entry_id, at most `limit` (None: all)."""
        ...

    def payouts_of(self, seller_id: int) -> list[Payout]:
        """The seller's payouts, newest (highest payout_id) first."""
        ...

    def payout(self, payout_id: int) -> Payout | None: ...

    def existing_payout(self, payout_id: int) -> Payout:
        """A payout known to exist (payouts are never deleted)."""
        ...

    def settle_payout(self, payout_id: int, status: ledger.PayoutStatus, reference: str | None, now_us: int) -> bool:
        """Moves a PENDING payout to `status` (compare and set), dated now_us; False if it was
        not PENDING any more. A FAILED payout's money returns to the balance: a PAYOUT_REVERSAL
        entry of +amount_krw, posted in the payout's month."""
        ...


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


class WriteConflict(Exception):
    """A write the storage refused because a concurrent use case stored the same key first
    (a month claimed by another close); `storage_error` is what the storage raised."""

    def __init__(self, storage_error: Exception) -> None:
        super().__init__(str(storage_error))
        self.storage_error = storage_error


class Closings(Protocol):
    """The month close (docs/ledger.md): each step a set-based write over the whole month."""

    def closing(self, month: dt.date) -> Closing | None: ...

    def closings(self) -> list[Closing]:
        """Every closing, newest month first."""
        ...

    def closed_months(self) -> dict[dt.date, int]:
        """Every closed month (its first day) and its closed_at_us."""
        ...

    def last_closed_month(self) -> dt.date | None: ...

    def days_to_compute(self, through: dt.date) -> list[dt.date]:
        """Days <= `through` the batch has not computed or must compute again, ascending."""
        ...

    def reader_max_age_ms(self) -> int:
        """How long readers trust a data version (0: nobody trusts one)."""
        ...

    def claim(self, month: dt.date, closed_by: int, now_us: int) -> None:
        """The close's first write: the month's closing, figures filled in by finish().
        A concurrent close of the month makes the unit of work end in WriteConflict."""
        ...

    def freeze_lines(self, month: dt.date) -> int:
        """Copies the month's computed per-video figures with a non-zero amount (the
        statement's lines) as its frozen lines; their number."""
        ...

    def post_earnings(self, month: dt.date, now_us: int) -> None:
        """One EARNING entry per frozen line of the month (posted in it, for it)."""
        ...

    def post_adjustments(self, month: dt.date, earlier: list[dt.date], now_us: int) -> None:
        """One ADJUSTMENT entry posted in `month` per earlier closed month and video whose
        computed figure differs from what the ledger holds for it: the signed difference."""
        ...

    def pending_adjustments(self, months: list[dt.date]) -> list[PendingAdjustment]:
        """What post_adjustments would post for `months`, by month, seller and video."""
        ...

    def balances_at_least(self, minimum_krw: int) -> list[tuple[int, Decimal]]:
        """(seller_id, balance) of every seller whose balance is at least the minimum (in no order)."""
        ...

    def create_payouts(self, month: dt.date, amounts: list[tuple[int, int]], now_us: int) -> None:
        """PENDING payouts (seller_id, whole KRW) of the month and their PAYOUT entries (negative)."""
        ...

    def finish(self, month: dt.date) -> Closing:
        """Fills in the closing's figures from what the close posted in the month."""
        ...


class UnitOfWork(Protocol):
    """One transaction around a use case: `with uow:` begins it; `commit()` makes its writes
    durable; leaving the block without a commit rolls it back (reads just end). One instance
    serves one use case call at a time (build one per call)."""

    @property
    def ledger(self) -> Ledger: ...

    @property
    def closings(self) -> Closings: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
