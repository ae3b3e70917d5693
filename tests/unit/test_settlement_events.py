"""The webhook events the settlement use cases emit through their unit of work (docs/webhooks.md
"Events"), recorded by the in-memory fakes (tests/fakes/settlement.py FakeEvents): what each
carries, that a repeat emits nothing, and that a use case that rolls back leaves none."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest

from domain.errors import PayoutMarkConflict
from services.common.clock import FixedClock
from services.settlement import balances, closing, events
from services.settlement.event_ports import Event, PostedAdjustment
from tests.fakes.settlement import FakeClosings, MonthlyRow
from tests.unit.test_closing_use_cases import ADMIN, FEB, JAN, SEOUL, clock_on, january
from tests.unit.test_settlement_use_cases import NOW, FakeUnitOfWork, seeded

# 2012-02-10 03:00 UTC, noon in Seoul (clock_on): 1,328,842,800 s since the epoch.
FEB_10 = dt.date(2012, 2, 10)
FEB_10_US = 1_328_842_800_000_000


def test_a_close_emits_month_closed_with_the_closings_figures():
    uow = january()
    closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(FEB_10))
    # January (test_closing_use_cases): 3 lines of sellers 7 and 8, 22,000.74; seller 7 paid 12,000.
    assert uow.events.emitted == [
        Event(
            "month.closed",
            {
                "month": "2012-01",
                "closed_at": "2012-02-10T03:00:00Z",
                "sellers": 2,
                "lines": 3,
                "earnings": "22000.74",
                "adjustment_lines": 0,
                "adjustments": "0.0",
                "total": "22000.74",
                "payouts_created": 1,
                "payouts_krw": "12000",
                "currency": "KRW",
            },
            FEB_10_US,
        )
    ]
    # Closing it again returns the closing and emits nothing more.
    closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(dt.date(2012, 3, 1)))
    assert uow.events.types == ["month.closed"]


def test_a_close_that_posts_adjustments_lists_them_in_one_adjustment_posted_event():
    uow = january()
    closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(FEB_10))
    uow.closings.monthly = [
        MonthlyRow(JAN, 7, 1, Decimal("8100.25")),  # +100 on video 1
        MonthlyRow(JAN, 8, 3, Decimal("9999.99")),  # video 2 gone: -4,000.5
        MonthlyRow(FEB, 8, 3, Decimal("5.01")),
    ]
    clock = clock_on(dt.date(2012, 3, 5))
    closing.close_month(uow, ADMIN, "2012-02", zone=SEOUL, clock=clock)
    assert uow.events.types == ["month.closed", "month.closed", "adjustment.posted"]
    posted = uow.events.emitted[2]
    assert posted.data == {
        "month": "2012-02",
        "count": 2,
        "total": "-3900.5",
        "currency": "KRW",
        "adjustments": [
            {"seller_id": "7", "original_month": "2012-01", "video_id": "1", "amount": "100.0"},
            {"seller_id": "7", "original_month": "2012-01", "video_id": "2", "amount": "-4000.5"},
        ],
        "truncated": False,
    }
    assert posted.at_us == clock.now_us()


def test_a_close_that_fails_before_its_commit_leaves_no_event():
    class Crashing(FakeClosings):
        def finish(self, month):
            super().finish(month)
            raise RuntimeError("killed between the change and the commit")

    uow = january()
    crashing = Crashing(uow.ledger, monthly=uow.closings.monthly)
    uow = FakeUnitOfWork(closings=crashing)
    with pytest.raises(RuntimeError):
        closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock_on(FEB_10))
    assert uow.events.emitted == []
    assert uow.commits == 0


def test_marks_emit_payout_paid_and_payout_failed_once():
    uow = FakeUnitOfWork(seeded())
    balances.mark_payout(uow, ADMIN, 1, "PAID", "BANK-1", clock=FixedClock(NOW))
    balances.mark_payout(uow, ADMIN, 1, "PAID", "BANK-1", clock=FixedClock(NOW + 1))  # the same again: nothing
    balances.mark_payout(uow, ADMIN, 3, "FAILED", "", clock=FixedClock(NOW))
    with pytest.raises(PayoutMarkConflict):
        balances.mark_payout(uow, ADMIN, 3, "PAID", "BANK-3", clock=FixedClock(NOW))
    # NOW = T0 + 1 day = 1,330,086,400 s: 2012-02-24T12:26:40Z.
    assert uow.events.emitted == [
        Event(
            "payout.paid",
            {
                "payout_id": "1",
                "seller_id": "7",
                "month": "2012-02",
                "amount_krw": "12000",
                "status": "PAID",
                "reference": "BANK-1",
                "updated_at": "2012-02-24T12:26:40Z",
            },
            NOW,
        ),
        Event(
            "payout.failed",
            {
                "payout_id": "3",
                "seller_id": "8",
                "month": "2012-03",
                "amount_krw": "30000",
                "status": "FAILED",
                "reference": "",
                "updated_at": "2012-02-24T12:26:40Z",
            },
            NOW,
        ),
    ]


def test_the_approval_event_lists_the_months_payouts():
    fake = seeded()  # its payouts are APPROVED (tests/unit/test_settlement_use_cases.py)
    event = events.payouts_approved(FEB, 2, [fake.payouts[1]], NOW)
    assert event == Event(
        "payouts.approved",
        {
            "month": "2012-02",
            "approved_by": "2",
            "approved_at": "2012-02-24T12:26:40Z",
            "count": 1,
            "total_krw": "12000",
            "payouts": [
                {"payout_id": "1", "seller_id": "7", "month": "2012-02", "amount_krw": "12000", "status": "APPROVED"}
            ],
            "truncated": False,
            "list_path": "/v1/settlement/closings/2012-02/payouts?status=APPROVED",
        },
        NOW,
    )


def test_a_month_of_many_payouts_lists_the_first_hundred_and_counts_and_totals_them_all():
    """100,000 payouts listed in full made a 10 MB outbox row: the approval failed at 700."""
    payout = seeded().payouts[1]
    many = [dataclasses.replace(payout, payout_id=i, amount_krw=1000 + i) for i in range(1, 100_001)]
    event = events.payouts_approved(FEB, 2, many, NOW)
    assert event.data["count"] == 100_000
    assert event.data["total_krw"] == str(sum(1000 + i for i in range(1, 100_001)))
    assert [p["payout_id"] for p in event.data["payouts"]] == [str(i) for i in range(1, 101)]
    assert event.data["truncated"] is True
    assert len(json.dumps(event.data)) < 20_000  # fits the outbox's TEXT column with room


def test_a_close_of_many_adjustments_lists_the_first_hundred():
    posted = [PostedAdjustment(7, JAN, i, Decimal("-0.5")) for i in range(1, 251)]
    data = events.adjustment_posted(FEB, posted, NOW).data
    assert (data["count"], data["total"], data["truncated"]) == (250, "-125.0", True)
    assert [a["video_id"] for a in data["adjustments"]] == [str(i) for i in range(1, 101)]
