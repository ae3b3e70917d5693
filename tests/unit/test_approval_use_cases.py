"""Maker-checker approval and what a payout pays (services/settlement/approvals.py) against
the in-memory fakes (tests/fakes/settlement.py). Figures are worked out by hand below; each
refusal is checked to commit nothing."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from domain.errors import BadId, BadInput, ClosingNotFound, NotOwner, PayoutNotFound, RoleNotAllowed, SelfApproval
from domain.ledger import EntryKind, PayoutStatus
from domain.taxes import Breakdown
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.settlement import approvals, profiles
from services.settlement.ports import Closing, Payout
from tests.fakes.settlement import FakeClosings, FakeLedger, FakeUnitOfWork

CLOSER, CHECKER = Principal(1, "closer", "ADMIN"), Principal(2, "checker", "ADMIN")
SELLER_7, SELLER_8 = Principal(7, "s7", "SELLER"), Principal(8, "s8", "SELLER")
JAN, FEB, MAR = dt.date(2012, 1, 1), dt.date(2012, 2, 1), dt.date(2012, 3, 1)
T0 = 1_330_000_000_000_000
NOW = T0 + 86_400_000_000
S = PayoutStatus


def closed_february() -> FakeUnitOfWork:
    """February closed by admin 1 with four payouts in four states; a January payout PENDING."""
    fake = FakeLedger()
    fake.payouts = {
        1: Payout(1, 7, JAN, 11_000, S.PENDING, None, T0, T0),  # another month: untouched
        2: Payout(2, 7, FEB, 12_000, S.PENDING, None, T0, T0),
        3: Payout(3, 8, FEB, 13_000, S.PENDING, None, T0, T0),
        4: Payout(4, 9, FEB, 14_000, S.HELD, None, T0, T0),  # waits for its payout profile
    }
    closings = FakeClosings(fake)
    closings.closed = {
        JAN: Closing(JAN, T0, 1, 1, Decimal(11_000), 0, Decimal(0), 1, 11_000, closed_by=2),
        FEB: Closing(FEB, T0, 3, 3, Decimal(39_000), 0, Decimal(0), 3, 39_000, closed_by=1),
    }
    return FakeUnitOfWork(closings=closings)


def test_another_admin_approves_every_pending_payout_of_the_month_at_once():
    uow = closed_february()
    approved = approvals.approve_month(uow, CHECKER, "2012-02", clock=FixedClock(NOW))
    assert (approved.month, approved.closed_by, approved.approved_by, approved.approved_at_us) == (FEB, 1, 2, NOW)
    assert uow.commits == 1
    payouts = uow.ledger.payouts
    assert {pid: (p.status, p.updated_at_us) for pid, p in payouts.items()} == {
        1: (S.PENDING, T0),
        2: (S.APPROVED, NOW),
        3: (S.APPROVED, NOW),
        4: (S.HELD, T0),
    }
    # Again (by any admin but the closer): the same closing, nothing changes, nothing committed.
    before = copy.deepcopy(uow.closings)
    assert approvals.approve_month(uow, CHECKER, "2012-02", clock=FixedClock(NOW + 5)) == approved
    assert approvals.approve_month(uow, Principal(3, "third", "ADMIN"), "2012-02") == approved
    assert uow.commits == 1 and uow.closings == before
    # One audit entry, by the checker, for the approval that changed something.
    ((event, at_us),) = uow.audit.events
    assert (event.actor_id, event.action, event.target, at_us) == (2, "payouts.approve", "month:2012-02", NOW)


def test_a_held_payout_released_after_its_month_was_approved_is_approved_with_it():
    uow = closed_february()
    approvals.approve_month(uow, CHECKER, "2012-02", clock=FixedClock(NOW))
    saved = profiles.put_profile(
        uow, Principal(9, "s9", "SELLER"), 9, "Kim", "INDIVIDUAL", "004", "1102345678", "", clock=FixedClock(NOW + 1)
    )
    # 14,000 x 3% = 420: under the 1,000 KRW minimum, nothing withheld.
    assert [(p.payout_id, p.status, p.breakdown) for p in saved.released] == [
        (4, S.APPROVED, Breakdown(14_000, 0, 0, 0, 14_000))
    ]


@pytest.mark.parametrize(
    ("principal", "month", "error", "message"),
    [
        (
            CLOSER,
            "2012-02",
            SelfApproval,
            "the admin who closed 2012-02 cannot approve its payouts; another admin must",
        ),
        (CHECKER, "2012-03", ClosingNotFound, "month: 2012-03 is not closed: close it before approving its payouts"),
        (CHECKER, "2012-13", BadInput, None),
        (SELLER_7, "2012-02", RoleNotAllowed, None),
    ],
)
def test_refused_approvals_commit_nothing(principal, month, error, message):
    uow = closed_february()
    before = copy.deepcopy(uow.closings)
    with pytest.raises(error) as refused:
        approvals.approve_month(uow, principal, month, clock=FixedClock(NOW))
    if message:
        assert str(refused.value) == message
    assert uow.commits == 0 and uow.closings == before


def test_the_closer_is_refused_even_after_another_admin_approved():
    uow = closed_february()
    approvals.approve_month(uow, CHECKER, "2012-02", clock=FixedClock(NOW))
    with pytest.raises(SelfApproval):
        approvals.approve_month(uow, CLOSER, "2012-02")


# --- what a payout pays --------------------------------------------------------------------


def paid_history() -> FakeLedger:
    """Seller 7, in posting order (entry ids 1..8):
    1 EARNING Jan 10,000.40 · 2 PAYOUT #1 -10,000 (balance 0.40 carried) · 3 EARNING Feb 5,000.25 ·
    4 ADJUSTMENT for Jan -0.10 (Feb's balance 5,000.55 < 10,000 rolls over) · 5 PAYOUT_REVERSAL of
    #1 +10,000 (it FAILED) · 6 EARNING Mar 3,000.30 · 7 PAYOUT #2 -18,000 (balance 18,000.85) ·
    8 EARNING of seller 8 (not seller 7's)."""
    fake = FakeLedger(titles={1: "Cats"})
    fake.post(7, EntryKind.EARNING, JAN, Decimal("10000.40"), T0, original_month=JAN, video_id=1)
    fake.post(7, EntryKind.PAYOUT, JAN, Decimal(-10_000), T0, payout_id=1)
    fake.post(7, EntryKind.EARNING, FEB, Decimal("5000.25"), T0, original_month=FEB, video_id=1)
    fake.post(7, EntryKind.ADJUSTMENT, FEB, Decimal("-0.10"), T0, original_month=JAN, video_id=1)
    fake.post(7, EntryKind.PAYOUT_REVERSAL, JAN, Decimal(10_000), T0, payout_id=1)
    fake.post(7, EntryKind.EARNING, MAR, Decimal("3000.30"), T0, original_month=MAR, video_id=1)
    fake.post(7, EntryKind.PAYOUT, MAR, Decimal(-18_000), T0, payout_id=2)
    fake.post(8, EntryKind.EARNING, MAR, Decimal(20_000), T0, original_month=MAR, video_id=2)
    fake.payouts = {
        1: Payout(1, 7, JAN, 10_000, S.FAILED, None, T0, T0),
        2: Payout(2, 7, MAR, 18_000, S.PENDING, None, T0, T0),
    }
    return fake


def test_a_payout_lists_the_entries_since_the_previous_payout_and_reconciles_exactly():
    uow = FakeUnitOfWork(paid_history())
    first = approvals.payout_entries(uow, SELLER_7, 1)
    assert [e.entry_id for e in first.entries] == [1]
    assert (first.total, first.carried_in, first.carried_out) == (Decimal("10000.40"), 0, Decimal("0.40"))
    second = approvals.payout_entries(uow, CHECKER, 2)
    assert [(e.entry_id, e.kind) for e in second.entries] == [
        (3, EntryKind.EARNING),
        (4, EntryKind.ADJUSTMENT),
        (5, EntryKind.PAYOUT_REVERSAL),
        (6, EntryKind.EARNING),
    ]
    # 5,000.25 - 0.10 + 10,000 + 3,000.30 = 18,000.45; + 0.40 carried in = 18,000 paid + 0.85 left.
    assert (second.total, second.carried_in, second.carried_out) == (
        Decimal("18000.45"),
        Decimal("0.40"),
        Decimal("0.85"),
    )
    assert second.total + second.carried_in == second.payout.amount_krw + second.carried_out


@pytest.mark.parametrize(
    ("principal", "payout_id", "error"),
    [(SELLER_8, 2, NotOwner), (CHECKER, 99, PayoutNotFound), (CHECKER, 0, BadId)],
)
def test_only_the_seller_and_admins_read_what_a_payout_pays(principal, payout_id, error):
    with pytest.raises(error):
        approvals.payout_entries(FakeUnitOfWork(paid_history()), principal, payout_id)
