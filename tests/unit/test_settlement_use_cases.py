"""The ledger and payout use cases (services/settlement/balances.py) against the in-memory
fakes (tests/fakes/settlement.py): no database. Figures are worked out by hand below; each
refusal is checked to commit nothing."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from domain.errors import (
    BadId,
    BadPayoutMark,
    BadRange,
    NotOwner,
    PayoutMarkConflict,
    PayoutNotApproved,
    PayoutNotFound,
    RoleNotAllowed,
)
from domain.ledger import EntryKind, PayoutStatus
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.settlement import balances
from services.settlement.ports import Payout
from tests.fakes.settlement import FakeLedger, FakeUnitOfWork

ADMIN = Principal(1, "admin", "ADMIN")
SELLER_7, SELLER_8 = Principal(7, "s7", "SELLER"), Principal(8, "s8", "SELLER")
JAN, FEB, MAR, APR = dt.date(2012, 1, 1), dt.date(2012, 2, 1), dt.date(2012, 3, 1), dt.date(2012, 4, 1)
T0 = 1_330_000_000_000_000
NOW = T0 + 86_400_000_000


def seeded() -> FakeLedger:
    """Seller 7: earned 12,345.6789 in January (posted at February's close), an adjustment of
    -100.5 and a payout of 12,000 → balance 245.1789. Seller 8: earned 50,000 (March)."""
    fake = FakeLedger(titles={1: "Cats", 2: "Dogs"}, minimums={dt.date(1970, 1, 1): 10_000, MAR: 20_000})
    fake.post(7, EntryKind.EARNING, FEB, Decimal("12345.6789"), T0, original_month=JAN, video_id=1)
    fake.post(7, EntryKind.ADJUSTMENT, FEB, Decimal("-100.5"), T0, original_month=JAN, video_id=1)
    fake.post(7, EntryKind.PAYOUT, FEB, Decimal(-12_000), T0, payout_id=1)
    fake.post(8, EntryKind.EARNING, MAR, Decimal(50_000), T0, original_month=MAR, video_id=2)
    fake.payouts = {
        1: Payout(1, 7, FEB, 12_000, PayoutStatus.APPROVED, None, T0, T0),
        2: Payout(2, 7, MAR, 15_000, PayoutStatus.PAID, "BANK-9", T0, T0),
        3: Payout(3, 8, MAR, 30_000, PayoutStatus.APPROVED, None, T0, T0),
        4: Payout(4, 8, APR, 20_000, PayoutStatus.PENDING, None, T0, T0),  # not approved yet
        5: Payout(5, 8, APR, 10_000, PayoutStatus.HELD, None, T0, T0),  # no payout profile yet
    }
    return fake


# --- balance -------------------------------------------------------------------------------


def test_a_balance_is_the_sum_of_the_entries_with_the_minimum_in_force_that_day():
    uow = FakeUnitOfWork(seeded())
    balance = balances.get_balance(uow, ADMIN, 7, dt.date(2012, 2, 15))
    assert (balance.balance, balance.minimum_payout_krw, balance.payable_krw) == (Decimal("245.1789"), 10_000, 0)
    own = balances.get_balance(uow, SELLER_8, 8, MAR)  # the newer minimum from March 1st
    assert (own.balance, own.minimum_payout_krw, own.payable_krw) == (Decimal(50_000), 20_000, 50_000)
    assert balances.get_balance(uow, ADMIN, 99, MAR).balance == 0  # no entries
    assert not uow.committed  # reads commit nothing


@pytest.mark.parametrize(
    ("principal", "seller_id", "error"),
    [
        (SELLER_8, 7, NotOwner),
        (Principal(5, "v", "VIEWER"), 5, RoleNotAllowed),
        (Principal(6, "i", "INGEST"), 6, RoleNotAllowed),
        (ADMIN, 0, BadId),
    ],
)
def test_only_the_seller_and_admins_read_a_balance_ledger_and_payouts(principal, seller_id, error):
    uow = FakeUnitOfWork(seeded())
    with pytest.raises(error):
        balances.get_balance(uow, principal, seller_id, MAR)
    with pytest.raises(error):
        balances.list_ledger(uow, principal, seller_id, "2012-01", "2012-03", 0, "")
    with pytest.raises(error):
        balances.list_payouts(uow, principal, seller_id)


# --- ledger --------------------------------------------------------------------------------


def test_the_ledger_comes_in_pages_by_entry_id_with_titles():
    uow = FakeUnitOfWork(seeded())
    first = balances.list_ledger(uow, SELLER_7, 7, "2012-01", "2012-03", 2, "")
    assert [(e.entry_id, e.kind, e.amount, e.title) for e in first.entries] == [
        (1, EntryKind.EARNING, Decimal("12345.6789"), "Cats"),
        (2, EntryKind.ADJUSTMENT, Decimal("-100.5"), "Cats"),
    ]
    assert first.next_page_token
    second = balances.list_ledger(uow, SELLER_7, 7, "2012-01", "2012-03", 2, first.next_page_token)
    assert [(e.entry_id, e.kind, e.payout_id, e.title) for e in second.entries] == [(3, EntryKind.PAYOUT, 1, "")]
    assert second.next_page_token == ""
    assert balances.list_ledger(uow, ADMIN, 7, "2012-03", "2012-12", 0, "").entries == []  # posted in Feb only
    assert [e.entry_id for e in balances.all_ledger_entries(uow, ADMIN, 7, "2012-02", "2012-02")] == [1, 2, 3]


@pytest.mark.parametrize(("first", "last"), [("2012-03", "2012-02"), ("2000-01", "2010-01")])
def test_a_ledger_range_backwards_or_over_ten_years_is_refused(first, last):
    with pytest.raises(BadRange):
        balances.list_ledger(FakeUnitOfWork(seeded()), ADMIN, 7, first, last, 0, "")


# --- payouts -------------------------------------------------------------------------------


def test_payouts_come_newest_first():
    uow = FakeUnitOfWork(seeded())
    assert [p.payout_id for p in balances.list_payouts(uow, SELLER_7, 7)] == [2, 1]


def test_marking_an_approved_payout_paid_records_the_reference_and_commits():
    fake = seeded()
    uow = FakeUnitOfWork(fake)
    marked = balances.mark_payout(uow, ADMIN, 1, "PAID", "  BANK-1 ", clock=FixedClock(NOW))
    assert marked == Payout(1, 7, FEB, 12_000, PayoutStatus.PAID, "BANK-1", T0, NOW)
    assert uow.committed
    assert fake.payouts[1] == marked
    assert fake.balance(7) == Decimal("245.1789")  # paying moves no money in the ledger


def test_a_failed_payout_returns_its_money_to_the_balance():
    fake = seeded()
    uow = FakeUnitOfWork(fake)
    marked = balances.mark_payout(uow, ADMIN, 3, "FAILED", "", clock=FixedClock(NOW))
    assert (marked.status, marked.reference, marked.updated_at_us) == (PayoutStatus.FAILED, None, NOW)
    assert uow.committed
    reversal = fake.entries(8, MAR, MAR, after_entry_id=4, limit=None)
    assert [(e.kind, e.posted_month, e.payout_id, e.amount, e.posted_at_us) for e in reversal] == [
        (EntryKind.PAYOUT_REVERSAL, MAR, 3, Decimal(30_000), NOW)
    ]
    assert balances.get_balance(uow, ADMIN, 8, MAR).balance == Decimal(80_000)  # 50,000 + 30,000


def test_the_same_mark_again_changes_nothing():
    fake = seeded()
    uow = FakeUnitOfWork(fake)
    before = copy.deepcopy(fake)
    assert balances.mark_payout(uow, ADMIN, 2, "PAID", "BANK-9", clock=FixedClock(NOW)) == before.payouts[2]
    assert fake == before


@pytest.mark.parametrize(
    ("principal", "payout_id", "status", "reference", "error"),
    [
        (ADMIN, 2, "FAILED", "", PayoutMarkConflict),  # PAID already
        (ADMIN, 2, "PAID", "BANK-10", PayoutMarkConflict),  # another reference
        (ADMIN, 99, "PAID", "BANK-1", PayoutNotFound),
        (ADMIN, 4, "PAID", "BANK-1", PayoutNotApproved),  # PENDING: another admin approves first
        (ADMIN, 4, "FAILED", "", PayoutNotApproved),
        (ADMIN, 5, "PAID", "BANK-1", PayoutNotApproved),  # HELD
        (ADMIN, 0, "PAID", "BANK-1", BadId),
        (ADMIN, 1, "PAID", "", BadPayoutMark),  # PAID needs the reference
        (ADMIN, 1, "PENDING", "", BadPayoutMark),
        (ADMIN, 1, "PAID", "x" * 129, BadPayoutMark),
        (SELLER_7, 1, "PAID", "BANK-1", RoleNotAllowed),
    ],
)
def test_refused_marks_commit_nothing(principal, payout_id, status, reference, error):
    fake = seeded()
    before = copy.deepcopy(fake)
    uow = FakeUnitOfWork(fake)
    with pytest.raises(error):
        balances.mark_payout(uow, principal, payout_id, status, reference, clock=FixedClock(NOW))
    assert not uow.committed
    assert fake == before


class RacedLedger(FakeLedger):
    """Another mark settles payout 1 (PAID, reference BANK-0) between this mark's read and its update."""

    def settle_payout(self, payout_id, status, reference, now_us):
        self.payouts[1] = Payout(1, 7, FEB, 12_000, PayoutStatus.PAID, "BANK-0", T0, T0 + 1)
        return super().settle_payout(payout_id, status, reference, now_us)


def test_a_mark_that_loses_a_race_is_judged_against_the_winner():
    same = RacedLedger(**seeded().__dict__)
    assert balances.mark_payout(FakeUnitOfWork(same), ADMIN, 1, "PAID", "BANK-0").updated_at_us == T0 + 1
    other = RacedLedger(**seeded().__dict__)
    uow = FakeUnitOfWork(other)
    with pytest.raises(PayoutMarkConflict, match="BANK-0"):
        balances.mark_payout(uow, ADMIN, 1, "FAILED", "")
    assert not uow.committed
    assert other.balance(7) == Decimal("245.1789")  # no reversal
