"""What the ledger, payout and closing use cases (balances.py, closing.py) and the tier table
use cases (tiers.py) need from storage, as protocols: the SQL adapters
(repository.SqlUnitOfWork, over ledger_repository.py; tiers_repository.SqlTierUnitOfWork) and
the in-memory fakes of the unit tests (tests/fakes/settlement.py) answer them. Plain values;
no SQL, no gRPC. The statement use case (service.py) reads through StatementReader, built
by its adapter on the read path's connection (repository.SqlStatementReader)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import NamedTuple, Protocol

from domain import ledger
from domain.payout_profile import PayoutProfile
from domain.periods import Period
from domain.taxes import Breakdown, TaxRates, TaxType
from services.common.unit_of_work import Audited, Transaction


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
    # Set when the payout gets its seller's tax type (at close, or when released from HELD);
    # None while HELD, and for payouts created before taxes existed (migration 0016).
    tax_type: TaxType | None = None
    breakdown: Breakdown | None = None


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
        """Moves an APPROVED payout to `status` (compare and set), dated now_us; False if it
        was not APPROVED any more. A FAILED payout's money returns to the balance: a
        PAYOUT_REVERSAL entry of +amount_krw, posted in the payout's month."""
        ...

    def paid_entries(self, payout: Payout) -> PaidEntries:
        """The entries a payout pays (docs/ledger.md, "What a payout pays"): the seller's
        EARNING, ADJUSTMENT and PAYOUT_REVERSAL entries posted after the PAYOUT entry of
        their previous payout (by payout_id) and before this payout's PAYOUT entry, by
        entry_id, with the balance just after each of the two PAYOUT entries."""
        ...


@dataclasses.dataclass(frozen=True)
class PaidEntries:
    """What a payout pays: Σ entries + carried_in = amount_krw + carried_out, exactly.
    carried_in: the balance just after the previous payout's PAYOUT entry (0 for the first);
    carried_out: the balance just after this payout's (the fraction of a KRW it leaves)."""

    entries: list[Entry]
    carried_in: Decimal
    carried_out: Decimal


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
    closed_by: int = 0
    approved_by: int | None = None  # maker-checker: None until another admin approves
    approved_at_us: int | None = None

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

    def create_payouts(self, month: dt.date, payouts: list[NewPayout], now_us: int) -> None:
        """The month's payouts (PENDING with their breakdown, or HELD) and their PAYOUT
        entries (negative: the gross)."""
        ...

    def finish(self, month: dt.date) -> Closing:
        """Fills in the closing's figures from what the close posted in the month."""
        ...

    def approve(self, month: dt.date, approved_by: int, now_us: int) -> bool:
        """Records the approval on the closing and moves every PENDING payout of the month to
        APPROVED (domain/ledger.approval_changes), in the unit of work's transaction; False
        (and nothing written) when the closing was approved already (compare and set)."""
        ...


class UnitOfWork(Transaction, Audited, Protocol):
    """One transaction around a use case: `with uow:` begins it; `commit()` makes its writes
    durable; leaving the block without a commit rolls it back (reads just end). One instance
    serves one use case call at a time (build one per call)."""

    @property
    def ledger(self) -> Ledger: ...

    @property
    def closings(self) -> Closings: ...

    @property
    def profiles(self) -> PayoutProfiles: ...

    @property
    def taxes(self) -> Taxes: ...


# --- payout profiles, taxes, tax invoices (profiles.py, taxes.py; DESIGN 2b) ----------------


@dataclasses.dataclass(frozen=True)
class NewPayout:
    """A payout a close creates: with its seller's tax type and breakdown, or HELD (None)."""

    seller_id: int
    amount_krw: int
    tax_type: TaxType | None
    breakdown: Breakdown | None

    @property
    def status(self) -> ledger.PayoutStatus:
        return ledger.PayoutStatus.HELD if self.tax_type is None else ledger.PayoutStatus.PENDING


@dataclasses.dataclass(frozen=True)
class TaxInvoice:
    """The tax invoice of a BUSINESS seller's payout of a closed month: the supply is the
    payout's gross."""

    month: dt.date
    seller_id: int
    payout_id: int
    supply_krw: int
    vat_krw: int
    seller_business_number: str
    platform_business_number: str
    seller_legal_name: str
    issue_date: dt.date
    created_at_us: int


class PayoutProfiles(Protocol):
    def get(self, seller_id: int) -> PayoutProfile | None: ...

    def put(self, profile: PayoutProfile) -> None:
        """Stores the seller's profile (replacing theirs)."""
        ...

    def tax_types(self) -> dict[int, TaxType]:
        """Every seller with a (complete) profile and their tax type."""
        ...


class Taxes(Protocol):
    def tables(self) -> list[TaxRates]:
        """Every tax table, by effective_from."""
        ...

    def replace(self, rates: TaxRates) -> None:
        """The table from rates.effective_from becomes `rates`. A concurrent replace of the
        same day makes the unit of work end in WriteConflict."""
        ...

    def held_payouts(self, seller_id: int) -> list[Payout]:
        """The seller's HELD payouts, oldest first."""
        ...

    def release(
        self, payout_id: int, tax_type: TaxType, breakdown: Breakdown, now_us: int, status: ledger.PayoutStatus
    ) -> bool:
        """HELD -> `status` (PENDING, or APPROVED in an approved month) with the breakdown
        (compare and set); False if it was not HELD."""
        ...

    def issue_invoices(
        self, month: dt.date, seller_id: int | None, platform_number: str, issue_date: dt.date, now_us: int
    ) -> None:
        """A tax invoice for each payout of the month (of one seller, or of all with None)
        that has a BUSINESS breakdown and no invoice yet, with the seller's profile's
        registration number and legal name."""
        ...

    def invoices(self, month: dt.date) -> list[TaxInvoice]:
        """The month's tax invoices, by seller_id."""
        ...


# --- the tier tables (tiers.py) -------------------------------------------------------------


class TierPrice(NamedTuple):
    """One tier of a table: kind "VIEW" (video) or "AD", the table's first day, the tier."""

    kind: str
    effective_from: dt.date
    lower_bound: int
    unit_price: Decimal


class TierTables(Protocol):
    def prices(self) -> list[TierPrice]:
        """Every tier of every table, by effective_from, kind and lower_bound."""
        ...

    def last_closed_month(self) -> dt.date | None:
        """The first day of the newest closed month, or None before the first close."""
        ...

    def replace(self, effective_from: dt.date, tables: dict[str, tuple[tuple[int, Decimal], ...]]) -> None:
        """The tables from `effective_from` (kind -> (lower_bound, unit_price) tiers) become
        exactly `tables`. A concurrent replace of the same day makes the unit of work end in
        WriteConflict."""
        ...


class TierUnitOfWork(Transaction, Audited, Protocol):
    """One transaction around a tier table use case, as UnitOfWork is for the ledger."""

    @property
    def tiers(self) -> TierTables: ...


# --- the statement's reads (service.read_statement) -----------------------------------------

# A statement line: (video_id, title, views, ad_views, video_revenue, ad_revenue); title ""
# for a video without a row.
Line = tuple[int, str, int, int, Decimal, Decimal]


class AdjustmentLine(NamedTuple):
    """An ADJUSTMENT entry a seller got at a month's close, with its video's title."""

    original_month: dt.date
    video_id: int
    title: str
    amount: Decimal


class StatementReader(Protocol):
    """The reads of a statement, all at one data state (one connection of the read path)."""

    def closed_months(self) -> dict[dt.date, int]:
        """Every closed month (its first day) and its closed_at_us."""
        ...

    def statement_lines(self, seller_id: int, period: Period, start: dt.date) -> list[Line]:
        """The batch's lines of the period starting at `start` (daily rows for a day, the
        period rows for a week or a month) with a non-zero amount, by video_id."""
        ...

    def closed_month_lines(self, seller_id: int, month: dt.date) -> list[Line]:
        """A closed month's frozen lines, by video_id."""
        ...

    def frozen_aware_lines(self, seller_id: int, first: dt.date, last: dt.date) -> list[Line]:
        """The lines summed over the days [first, last] (some in a closed month): a closed day
        the batch recomputed since its close counts the copy taken at close, every other day
        the batch's daily rows; lines with a non-zero amount, by video_id."""
        ...

    def adjustments_posted(self, seller_id: int, month: dt.date) -> list[AdjustmentLine]:
        """The ADJUSTMENT entries the seller got at the close of `month`, by original month
        and video_id."""
        ...
