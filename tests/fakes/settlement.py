"""In-memory fakes of services/settlement/ports.py for the ledger, payout and closing
use-case tests (tests/unit/test_settlement_use_cases.py, test_closing_use_cases.py). They keep
the SQL adapter's contract (checked against it by tests/integration/
test_settlement_ports_contract.py): entries by entry_id, payouts newest first, a FAILED
payout's reversal entry, the close's steps over the batch's MONTHLY figures, writes kept only
on commit."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from domain.ledger import APPROVABLE, EARNED_KINDS, MARKABLE, EntryKind, PayoutStatus
from services.settlement.event_ports import Event, PostedAdjustment
from services.settlement.ports import (
    Closing,
    Entry,
    NewPayout,
    PaidEntries,
    Payout,
    PendingAdjustment,
    WriteConflict,
)
from tests.fakes.taxes import FakePayoutProfiles, FakeTaxes
from tests.fakes.unit_of_work import SnapshotUnitOfWork


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

    def payouts_in(self, month: dt.date, status: PayoutStatus) -> list[Payout]:
        return sorted(
            (p for p in self.payouts.values() if p.month == month and p.status is status), key=lambda p: p.payout_id
        )

    def payout(self, payout_id: int) -> Payout | None:
        return self.payouts.get(payout_id)

    def existing_payout(self, payout_id: int) -> Payout:
        return self.payouts[payout_id]

    def settle_payout(self, payout_id: int, status: PayoutStatus, reference: str | None, now_us: int) -> bool:
        current = self.payouts.get(payout_id)
        if current is None or current.status is not MARKABLE:
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

    def paid_entries(self, payout: Payout) -> PaidEntries:
        def payout_entry(payout_id: int) -> int:
            return next(
                e.entry_id for _, e in self.entries_by_seller if e.kind is EntryKind.PAYOUT and e.payout_id == payout_id
            )

        def balance_through(entry_id: int) -> Decimal:
            mine = (e.amount for s, e in self.entries_by_seller if s == payout.seller_id and e.entry_id <= entry_id)
            return sum(mine, Decimal(0))

        this = payout_entry(payout.payout_id)
        earlier = [
            p.payout_id
            for p in self.payouts.values()
            if p.seller_id == payout.seller_id and p.payout_id < payout.payout_id
        ]
        previous = payout_entry(max(earlier)) if earlier else 0
        kinds = (EntryKind.EARNING, EntryKind.ADJUSTMENT, EntryKind.PAYOUT_REVERSAL)
        paid = sorted(
            (
                e
                for s, e in self.entries_by_seller
                if s == payout.seller_id and previous < e.entry_id < this and e.kind in kinds
            ),
            key=lambda e: e.entry_id,
        )
        return PaidEntries(paid, balance_through(previous) if previous else Decimal(0), balance_through(this))


class MonthlyRow(NamedTuple):
    """A MONTHLY figure of the batch (period_video_stats): video_revenue + ad_revenue."""

    month: dt.date
    seller_id: int
    video_id: int
    amount: Decimal


@dataclasses.dataclass
class FakeClosings:
    """The month close over a FakeLedger: `monthly` holds the batch's MONTHLY figures,
    `days_pending` what days_to_compute answers, `max_age_ms` the readers' trust window."""

    ledger: FakeLedger = dataclasses.field(default_factory=FakeLedger)
    monthly: list[MonthlyRow] = dataclasses.field(default_factory=list)
    days_pending: list[dt.date] = dataclasses.field(default_factory=list)
    max_age_ms: int = 0
    closed: dict[dt.date, Closing] = dataclasses.field(default_factory=dict)
    closed_by: dict[dt.date, int] = dataclasses.field(default_factory=dict)
    frozen: dict[dt.date, list[MonthlyRow]] = dataclasses.field(default_factory=dict)

    def closing(self, month: dt.date) -> Closing | None:
        return self.closed.get(month)

    def closings(self) -> list[Closing]:
        return [self.closed[month] for month in sorted(self.closed, reverse=True)]

    def closed_months(self) -> dict[dt.date, int]:
        return {month: closing.closed_at_us for month, closing in self.closed.items()}

    def last_closed_month(self) -> dt.date | None:
        return max(self.closed, default=None)

    def days_to_compute(self, through: dt.date) -> list[dt.date]:
        return sorted(day for day in self.days_pending if day <= through)

    def reader_max_age_ms(self) -> int:
        return self.max_age_ms

    def claim(self, month: dt.date, closed_by: int, now_us: int) -> None:
        if month in self.closed:
            raise WriteConflict(KeyError(f"month_closings {month} exists"))
        self.closed[month] = Closing(month, now_us, 0, 0, Decimal(0), 0, Decimal(0), 0, 0, closed_by=closed_by)
        self.closed_by[month] = closed_by

    def freeze_lines(self, month: dt.date) -> int:
        self.frozen[month] = [row for row in self.monthly if row.month == month and row.amount != 0]
        return len(self.frozen[month])

    def post_earnings(self, month: dt.date, now_us: int) -> None:
        for row in self.frozen.get(month, []):
            self.ledger.post(
                row.seller_id, EntryKind.EARNING, month, row.amount, now_us, original_month=month, video_id=row.video_id
            )

    def _differences(self, months: list[dt.date]) -> list[tuple[dt.date, PendingAdjustment]]:
        held: dict[tuple[int, dt.date, int], Decimal] = {}
        for seller, entry in self.ledger.entries_by_seller:
            if entry.kind in EARNED_KINDS and entry.original_month in months and entry.video_id is not None:
                key = (seller, entry.original_month, entry.video_id)
                held[key] = held.get(key, Decimal(0)) + entry.amount
        found = []
        with_row = set()
        for row in self.monthly:
            if row.month in months:
                key = (row.seller_id, row.month, row.video_id)
                with_row.add(key)
                in_ledger = held.get(key, Decimal(0))
                if row.amount != in_ledger:
                    found.append((row.month, PendingAdjustment(row.seller_id, row.video_id, in_ledger, row.amount)))
        for (seller, month, video), in_ledger in held.items():
            if (seller, month, video) not in with_row and in_ledger != 0:
                found.append((month, PendingAdjustment(seller, video, in_ledger, Decimal(0))))
        return sorted(found, key=lambda item: (item[0], item[1].seller_id, item[1].video_id))

    def pending_adjustments(self, months: list[dt.date]) -> list[PendingAdjustment]:
        return [pending for _, pending in self._differences(months)]

    def post_adjustments(self, month: dt.date, earlier: list[dt.date], now_us: int) -> None:
        for original, pending in self._differences(earlier):
            self.ledger.post(
                pending.seller_id,
                EntryKind.ADJUSTMENT,
                month,
                pending.difference,
                now_us,
                original_month=original,
                video_id=pending.video_id,
            )

    def balances_at_least(self, minimum_krw: int) -> list[tuple[int, Decimal]]:
        sellers = sorted({seller for seller, _ in self.ledger.entries_by_seller})
        return [(s, b) for s in sellers if (b := self.ledger.balance(s)) >= minimum_krw]

    def create_payouts(self, month: dt.date, payouts: list[NewPayout], now_us: int) -> None:
        for new in payouts:
            payout_id = max(self.ledger.payouts, default=0) + 1
            self.ledger.payouts[payout_id] = Payout(
                payout_id,
                new.seller_id,
                month,
                new.amount_krw,
                new.status,
                None,
                now_us,
                now_us,
                tax_type=new.tax_type,
                breakdown=new.breakdown,
            )
            self.ledger.post(
                new.seller_id, EntryKind.PAYOUT, month, Decimal(-new.amount_krw), now_us, payout_id=payout_id
            )

    def finish(self, month: dt.date) -> Closing:
        posted = [(seller, e) for seller, e in self.ledger.entries_by_seller if e.posted_month == month]
        earnings = [e.amount for _, e in posted if e.kind is EntryKind.EARNING]
        adjustments = [e.amount for _, e in posted if e.kind is EntryKind.ADJUSTMENT]
        paid = [p.amount_krw for p in self.ledger.payouts.values() if p.month == month]
        self.closed[month] = dataclasses.replace(
            self.closed[month],
            sellers=len({seller for seller, e in posted if e.kind in EARNED_KINDS}),
            lines=len(earnings),
            earnings=sum(earnings, Decimal(0)),
            adjustment_lines=len(adjustments),
            adjustments=sum(adjustments, Decimal(0)),
            payouts_created=len(paid),
            payouts_krw=sum(paid),
        )
        return self.closed[month]

    def approve(self, month: dt.date, approved_by: int, now_us: int) -> bool:
        if self.closed[month].approved_by is not None:
            return False
        self.closed[month] = dataclasses.replace(self.closed[month], approved_by=approved_by, approved_at_us=now_us)
        for payout_id, p in self.ledger.payouts.items():
            if p.month == month and p.status is APPROVABLE:
                approved = dataclasses.replace(p, status=PayoutStatus.APPROVED, updated_at_us=now_us)
                self.ledger.payouts[payout_id] = approved
        return True

    def adjustments_posted_in(self, month: dt.date) -> list[PostedAdjustment]:
        posted = [
            PostedAdjustment(seller, e.original_month, e.video_id, e.amount)
            for seller, e in self.ledger.entries_by_seller
            if e.kind is EntryKind.ADJUSTMENT
            and e.posted_month == month
            and e.original_month is not None
            and e.video_id is not None
        ]
        return sorted(posted, key=lambda a: (a.seller_id, a.original_month, a.video_id))


@dataclasses.dataclass
class FakeEvents:
    """ports.Events: the events emitted, in order; like every write, kept only on commit."""

    emitted: list[Event] = dataclasses.field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.emitted.append(event)

    @property
    def types(self) -> list[str]:
        return [event.event_type for event in self.emitted]


class FakeUnitOfWork(SnapshotUnitOfWork):
    """ports.UnitOfWork over a FakeLedger, FakeClosings, FakePayoutProfiles and FakeTaxes
    (sharing the ledger and its payouts): `committed` says whether a commit happened,
    `commits` how many; leaving the block without one puts all back as they were at its
    start. Sequential blocks may reuse it, as a close does."""

    def __init__(
        self,
        ledger: FakeLedger | None = None,
        closings: FakeClosings | None = None,
        profiles: FakePayoutProfiles | None = None,
    ) -> None:
        super().__init__()
        self.ledger = ledger or (closings.ledger if closings else FakeLedger())
        self.closings = closings or FakeClosings(self.ledger)
        self.closings.ledger = self.ledger
        self.profiles = profiles or FakePayoutProfiles()
        self.taxes = FakeTaxes(self.ledger.payouts, self.profiles)
        self.events = FakeEvents()
        self._add_fakes()

    def _add_fakes(self) -> None:
        """The fakes a wider unit of work adds over the same ledger and profiles (the
        transfer files), so that it takes the same arguments without repeating them."""

    def _snapshot(self) -> tuple[FakeLedger, FakeClosings, FakePayoutProfiles, FakeTaxes, FakeEvents]:
        return copy.deepcopy((self.ledger, self.closings, self.profiles, self.taxes, self.events))

    def _restore(self, saved: tuple[FakeLedger, FakeClosings, FakePayoutProfiles, FakeTaxes, FakeEvents]) -> None:
        # In place: tests hold the fakes they seeded.
        ledger, closings, profiles, taxes, events = copy.deepcopy(saved)
        self.ledger.__dict__.update(ledger.__dict__)
        self.closings.__dict__.update(closings.__dict__)
        self.closings.ledger = self.ledger
        self.profiles.__dict__.update(profiles.__dict__)
        self.taxes.__dict__.update(taxes.__dict__)
        self.taxes.payouts, self.taxes.profiles = self.ledger.payouts, self.profiles
        self.events.__dict__.update(events.__dict__)
