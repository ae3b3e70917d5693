"""What the ledger and payout use cases (balances.py) need from storage, as protocols: the
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


class UnitOfWork(Protocol):
    """One transaction around a use case: `with uow:` begins it; `commit()` makes its writes
    durable; leaving the block without a commit rolls it back (reads just end). One instance
    serves one use case call at a time (build one per call)."""

    @property
    def ledger(self) -> Ledger: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
