"""In-memory fakes of services/settlement/ports.py for the ledger and payout use-case tests
(tests/unit/test_settlement_use_cases.py). They keep the SQL adapter's contract (checked
against it by tests/integration/test_settlement_ports_contract.py): entries by entry_id,
payouts newest first, a FAILED payout's reversal entry, writes kept only on commit."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from decimal import Decimal
from types import TracebackType
from typing import Self

from domain.ledger import EntryKind, PayoutStatus
from services.settlement.ports import Entry, Payout


@dataclasses.dataclass
class FakeLedger:
    """entries: (seller_id, Entry) in posting order; minimums: effective_from -> minimum_krw;
    titles: video_id -> title (an entry's title is its video's, "" if none)."""

    entries_by_seller: list[tuple[int, Entry]] = dataclasses.field(default_factory=list)
    payouts: dict[int, Payout] = dataclasses.field(default_factory=dict)
    minimums: dict[dt.date, int] = dataclasses.field(default_factory=dict)
    titles: dict[int, str] = dataclasses.field(default_factory=dict)

    def post(
        self,
        seller_id: int,
        kind: EntryKind,
        posted_month: dt.date,
        amount: Decimal,
        posted_at_us: int,
        *,
        original_month: dt.date | None = None,
        video_id: int | None = None,
        payout_id: int | None = None,
    ) -> Entry:
        """Adds an entry (the tests' seeding; the use cases post none but reversals)."""
        entry_id = max((entry.entry_id for _, entry in self.entries_by_seller), default=0) + 1
        title = self.titles.get(video_id, "") if video_id is not None else ""
        entry = Entry(entry_id, kind, posted_month, original_month, video_id, payout_id, amount, posted_at_us, title)
        self.entries_by_seller.append((seller_id, entry))
        return entry

    def minimum_payout_krw(self, on: dt.date, default: int) -> int:
        effective = [day for day in self.minimums if day <= on]
        return self.minimums[max(effective)] if effective else default

    def balance(self, seller_id: int) -> Decimal:
        return sum((entry.amount for seller, entry in self.entries_by_seller if seller == seller_id), Decimal(0))

    def entries(
        self, seller_id: int, first: dt.date, last: dt.date, *, after_entry_id: int, limit: int | None
    ) -> list[Entry]:
        found = sorted(
            (
                entry
                for seller, entry in self.entries_by_seller
                if seller == seller_id and first <= entry.posted_month <= last and entry.entry_id > after_entry_id
            ),
            key=lambda entry: entry.entry_id,
        )
        return found if limit is None else found[:limit]

    def payouts_of(self, seller_id: int) -> list[Payout]:
        return sorted(
            (p for p in self.payouts.values() if p.seller_id == seller_id), key=lambda p: p.payout_id, reverse=True
        )

    def payout(self, payout_id: int) -> Payout | None:
        return self.payouts.get(payout_id)

    def existing_payout(self, payout_id: int) -> Payout:
        return self.payouts[payout_id]

    def settle_payout(self, payout_id: int, status: PayoutStatus, reference: str | None, now_us: int) -> bool:
        current = self.payouts.get(payout_id)
        if current is None or current.status is not PayoutStatus.PENDING:
            return False
        self.payouts[payout_id] = dataclasses.replace(current, status=status, reference=reference, updated_at_us=now_us)
        if status is PayoutStatus.FAILED:
            self.post(
                current.seller_id,
                EntryKind.PAYOUT_REVERSAL,
                current.month,
                Decimal(current.amount_krw),
                now_us,
                payout_id=payout_id,
            )
        return True


class FakeUnitOfWork:
    """ports.UnitOfWork over a FakeLedger: `committed` says whether a commit happened;
    leaving the block without one puts the ledger back as it was at its start."""

    def __init__(self, ledger: FakeLedger | None = None) -> None:
        self.ledger = ledger or FakeLedger()
        self.committed = False
        self._saved: FakeLedger | None = None

    def __enter__(self) -> Self:
        self._saved = copy.deepcopy(self.ledger)
        self.committed = False
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if not self.committed:
            self.rollback()
        self._saved = None

    def commit(self) -> None:
        self.committed = True
        self._saved = copy.deepcopy(self.ledger)

    def rollback(self) -> None:
        if self._saved is not None:
            # In place: tests hold the FakeLedger they seeded.
            self.ledger.__dict__.update(copy.deepcopy(self._saved).__dict__)
