"""The month close and its reads (services/settlement/closing.py) against the in-memory
fakes (tests/fakes/settlement.py): no database, no batch. The batch's MONTHLY figures are
given; every figure expected below is worked out by hand in the comments."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.errors import BadInput, ClosingNotFound, MonthNotReady, MonthOutOfOrder, RoleNotAllowed
from domain.ledger import PayoutStatus
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.settlement import closing
from services.settlement.ports import Closing, PendingAdjustment, WriteConflict
from tests.fakes.settlement import FakeClosings, FakeLedger, FakeUnitOfWork, MonthlyRow
from tests.fakes.taxes import individual, with_profiles

SEOUL = ZoneInfo("Asia/Seoul")
ADMIN = Principal(1, "admin", "ADMIN")
DEC, JAN, FEB, MAR = dt.date(2011, 12, 1), dt.date(2012, 1, 1), dt.date(2012, 2, 1), dt.date(2012, 3, 1)


def clock_on(day: dt.date) -> FixedClock:
    """Noon in Seoul on `day` (03:00 UTC)."""
    noon = dt.datetime(day.year, day.month, day.day, 3, tzinfo=dt.UTC)
    return FixedClock(int(noon.timestamp()) * 1_000_000)


def january() -> FakeUnitOfWork:
    """January's figures: seller 7 earned 8,000.25 + 4,000.5, seller 8 9,999.99, seller 9 nothing."""
    closings = FakeClosings(
        FakeLedger(minimums={dt.date(1970, 1, 1): 10_000}),
        monthly=[
            MonthlyRow(JAN, 7, 1, Decimal("8000.25")),
            MonthlyRow(JAN, 7, 2, Decimal("4000.5")),
            MonthlyRow(JAN, 8, 3, Decimal("9999.99")),
            MonthlyRow(JAN, 9, 4, Decimal(0)),  # not a line: no amount
        ],
    )
    # Sellers with complete payout profiles: their payouts are PENDING, not HELD.
    return FakeUnitOfWork(closings=closings, profiles=with_profiles(individual(7), individual(8)))


def test_closing_a_month_freezes_its_lines_posts_earnings_and_pays_sellers_over_the_minimum():
    uow = january()
    steps = []
    clock = clock_on(dt.date(2012, 2, 10))
    closed = closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock, progress=lambda *s: steps.append(s))
    # earnings 8,000.25 + 4,000.5 + 9,999.99 = 22,000.74 on 3 lines of sellers 7 and 8; seller 7's
    # balance 12,000.75 >= 10,000 pays 12,000 (whole KRW); seller 8's 9,999.99 rolls over.
    assert closed == Closing(JAN, clock.now_us(), 2, 3, Decimal("22000.74"), 0, Decimal(0), 1, 12_000, closed_by=1)
    assert [step[0] for step in steps] == [1, 2, 3, 4, 5]
    assert uow.commits == 1
    ledger = uow.ledger
    assert [(p.seller_id, p.amount_krw, p.status) for p in ledger.payouts.values()] == [
        (7, 12_000, PayoutStatus.PENDING)
    ]
    assert (ledger.balance(7), ledger.balance(8), ledger.balance(9)) == (Decimal("0.75"), Decimal("9999.99"), 0)
    assert closing.list_closings(uow, ADMIN) == [closed]
    # Closing it again returns the closing as it is, and commits nothing.
    assert closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(MAR)) == closed
    assert uow.commits == 1


def test_the_next_close_posts_the_differences_of_an_earlier_month_as_adjustments():
    uow = january()
    closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(dt.date(2012, 2, 10)))
    # The batch recomputes January (video 1 +100, video 2 gone) and computes February.
    uow.closings.monthly = [
        MonthlyRow(JAN, 7, 1, Decimal("8100.25")),
        MonthlyRow(JAN, 8, 3, Decimal("9999.99")),
        MonthlyRow(FEB, 8, 3, Decimal("5.01")),
    ]
    assert closing.pending_adjustments(uow, ADMIN, "2012-01") == [
        PendingAdjustment(7, 1, Decimal("8000.25"), Decimal("8100.25")),
        PendingAdjustment(7, 2, Decimal("4000.5"), Decimal(0)),
    ]
    clock = clock_on(dt.date(2012, 3, 5))
    closed = closing.close_month(uow, ADMIN, "2012-02", zone=SEOUL, clock=clock)
    # February: one line of 5.01; adjustments +100 and -4,000.5 (= -3,900.5) for seller 7, whose
    # balance 0.75 - 3,900.5 = -3,899.75 pays nothing; seller 8's 9,999.99 + 5.01 = 10,005 is paid.
    assert closed == Closing(FEB, clock.now_us(), 2, 1, Decimal("5.01"), 2, Decimal("-3900.5"), 1, 10_005, closed_by=1)
    assert closed.total == Decimal("-3895.49")
    assert uow.ledger.balance(7) == Decimal("-3899.75")
    assert closing.pending_adjustments(uow, ADMIN, "2012-01") == []
    assert [c.month for c in closing.list_closings(uow, ADMIN)] == [FEB, JAN]


def test_without_a_minimum_in_force_the_given_default_applies():
    uow = january()
    uow.ledger.minimums = {}
    closed = closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(FEB), minimum_default=5_000)
    assert (closed.payouts_created, closed.payouts_krw) == (2, 12_000 + 9_999)


def _refused(uow: FakeUnitOfWork, error: type[Exception], *args, match: str | None = None, **kwargs) -> None:
    before, commits = copy.deepcopy((uow.ledger, uow.closings)), uow.commits
    with pytest.raises(error, match=match):
        closing.close_month(uow, *args, zone=SEOUL, **kwargs)
    assert uow.commits == commits
    assert (uow.ledger, uow.closings) == before


def test_only_an_admin_closes_a_valid_month():
    _refused(january(), RoleNotAllowed, Principal(7, "s", "SELLER"), "2012-01", clock=clock_on(MAR))
    _refused(january(), BadInput, ADMIN, "2012-13", clock=clock_on(MAR))


def test_a_month_that_has_not_ended_is_not_ready():
    _refused(january(), MonthNotReady, ADMIN, "2012-01", clock=clock_on(dt.date(2012, 1, 31)), match="has not ended")


def test_months_close_in_order():
    uow = january()
    closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(MAR))
    _refused(uow, MonthOutOfOrder, ADMIN, "2012-03", clock=clock_on(dt.date(2012, 4, 2)), match="the next is 2012-02")
    _refused(uow, MonthOutOfOrder, ADMIN, "2011-12", clock=clock_on(dt.date(2012, 4, 2)))
    assert uow.closings.closing(DEC) is None


def test_days_the_batch_must_still_compute_hold_the_close_and_are_named():
    uow = january()
    uow.closings.days_pending = [dt.date(2011, 12, 31), dt.date(2012, 1, 30)]  # December's is not January's
    _refused(
        uow, MonthNotReady, ADMIN, "2012-01", clock=clock_on(MAR), match=r"not computed or are stale: 2012-01-30; run"
    )
    uow.closings.days_pending = [JAN + dt.timedelta(days=i) for i in range(12)]
    _refused(uow, MonthNotReady, ADMIN, "2012-01", clock=clock_on(MAR), match="2012-01-10 and 2 more")


def test_a_close_that_loses_the_race_for_the_month_returns_the_winners_closing():
    winner = Closing(JAN, 42, 1, 1, Decimal(1), 0, Decimal(0), 0, 0)
    committed_elsewhere: dict[dt.date, Closing] = {}

    class Racing(FakeClosings):
        def claim(self, month, closed_by, now_us):
            committed_elsewhere[month] = winner  # another close claimed and committed first
            raise WriteConflict(KeyError(month))

        def closing(self, month):
            return committed_elsewhere.get(month) or super().closing(month)

    uow = january()
    uow.closings = Racing(**uow.closings.__dict__)
    assert closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(MAR)) == winner
    assert uow.commits == 0
    assert uow.ledger.entries_by_seller == []


def test_a_write_conflict_with_no_closing_after_it_is_raised_as_the_storage_raised_it():
    class Refusing(FakeClosings):
        def claim(self, month, closed_by, now_us):
            raise WriteConflict(KeyError("payouts (seller_id, month)"))

    uow = january()
    uow.closings = Refusing(**uow.closings.__dict__)
    with pytest.raises(KeyError, match="payouts"):
        closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(MAR))
    assert uow.commits == 0


def test_the_reads_need_an_admin_and_a_closed_month():
    uow = january()
    with pytest.raises(RoleNotAllowed):
        closing.list_closings(uow, Principal(7, "s", "SELLER"))
    with pytest.raises(RoleNotAllowed):
        closing.pending_adjustments(uow, Principal(7, "s", "SELLER"), "2012-01")
    with pytest.raises(ClosingNotFound):
        closing.pending_adjustments(uow, ADMIN, "2012-01")
    assert closing.list_closings(uow, ADMIN) == []
    assert uow.commits == 0
