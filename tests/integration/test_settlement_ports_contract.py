"""The fakes of the ledger and closing ports (tests/fakes/settlement.py) answer as the SQL adapter
(services/settlement/repository.py over ledger_repository.py) does: the same seed and the
same port calls against both, on MariaDB and SQLite, must give equal answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa

from batch.tables import period_video_stats
from domain.ledger import EntryKind, PayoutStatus
from domain.taxes import DEFAULT_RATES, TaxType, breakdown
from services.settlement import repository
from services.settlement.event_ports import PostedAdjustment
from services.settlement.ports import Closing, NewPayout, Payout, UnitOfWork, WriteConflict
from services.settlement.tables import ledger_entries, payout_minimums, payouts
from services.video.tables import videos
from tests.databases import fresh_engine
from tests.fakes.settlement import FakeClosings, FakeLedger, FakeUnitOfWork, MonthlyRow

JAN, FEB, MAR = dt.date(2012, 1, 1), dt.date(2012, 2, 1), dt.date(2012, 3, 1)
T0, NOW = 1_330_000_000_000_000, 1_330_000_000_500_000
TITLES = {1: "Cats", 2: "Dogs"}
MINIMUMS = {dt.date(1970, 1, 1): 10_000, MAR: 20_000}
# (seller_id, kind, posted_month, amount, original_month, video_id, payout_id)
ENTRIES = [
    (7, EntryKind.EARNING, FEB, Decimal("12345.6789"), JAN, 1, None),
    (7, EntryKind.ADJUSTMENT, FEB, Decimal("-100.5"), JAN, 1, None),
    (7, EntryKind.PAYOUT, FEB, Decimal(-12_000), None, None, 1),
    (8, EntryKind.EARNING, MAR, Decimal("50000.0001"), MAR, 2, None),
    (7, EntryKind.EARNING, MAR, Decimal("0.0001"), MAR, 3, None),  # a video with no row: title ""
]
PAYOUTS = [
    Payout(1, 7, FEB, 12_000, PayoutStatus.APPROVED, None, T0, T0),
    Payout(2, 7, MAR, 15_000, PayoutStatus.PAID, "BANK-9", T0, T0),
    Payout(3, 8, MAR, 30_000, PayoutStatus.APPROVED, None, T0, T0),
    Payout(4, 8, FEB, 11_000, PayoutStatus.APPROVED, None, T0, T0),
    Payout(5, 8, JAN, 10_000, PayoutStatus.PENDING, None, T0, T0),  # not approved: not settled
]


def fake_world() -> Callable[[], UnitOfWork]:
    fake = FakeLedger(titles=dict(TITLES), minimums=dict(MINIMUMS), payouts={p.payout_id: p for p in PAYOUTS})
    for seller, kind, month, amount, original, video, payout in ENTRIES:
        fake.post(seller, kind, month, amount, T0, original_month=original, video_id=video, payout_id=payout)
    return lambda: FakeUnitOfWork(fake)


def seed_sql(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(payout_minimums))
        conn.execute(sa.insert(payout_minimums), [{"effective_from": d, "minimum_krw": m} for d, m in MINIMUMS.items()])
        conn.execute(
            sa.insert(videos),
            [
                {"video_id": v, "seller_id": 7 + i, "title": t, "duration_sec": 60, "created_at_us": T0}
                for i, (v, t) in enumerate(TITLES.items())
            ],
        )
        conn.execute(
            sa.insert(ledger_entries),
            [
                {
                    "entry_id": i,
                    "seller_id": seller,
                    "kind": kind.value,
                    "posted_month": month,
                    "original_month": original,
                    "video_id": video,
                    "payout_id": payout,
                    "amount": amount,
                    "posted_at_us": T0,
                }
                for i, (seller, kind, month, amount, original, video, payout) in enumerate(ENTRIES, start=1)
            ],
        )
        conn.execute(
            sa.insert(payouts),
            [{**{k: v for k, v in p.__dict__.items() if k != "breakdown"}, "status": p.status.value} for p in PAYOUTS],
        )


def scenario(new_uow: Callable[[], UnitOfWork]) -> list[object]:
    answers: list[object] = []
    with new_uow() as uow:
        ledger = uow.ledger
        answers += [ledger.minimum_payout_krw(d, 5) for d in (dt.date(1969, 12, 31), FEB, MAR, dt.date(2030, 1, 1))]
        answers += [ledger.balance(s) for s in (7, 8, 99)]
        answers.append(ledger.entries(7, JAN, MAR, after_entry_id=0, limit=None))
        answers.append(ledger.entries(7, FEB, FEB, after_entry_id=1, limit=1))
        answers.append(ledger.entries(7, MAR, MAR, after_entry_id=0, limit=10))
        answers.append(ledger.entries(8, JAN, FEB, after_entry_id=0, limit=None))
        answers += [ledger.payouts_of(7), ledger.payouts_of(99), ledger.payout(1), ledger.payout(99)]
        answers.append(ledger.paid_entries(ledger.existing_payout(1)))
    with new_uow() as uow:
        answers.append(uow.ledger.settle_payout(1, PayoutStatus.PAID, "B1", NOW))
        answers.append(uow.ledger.settle_payout(1, PayoutStatus.FAILED, None, NOW))  # not APPROVED any more
        answers.append(uow.ledger.settle_payout(5, PayoutStatus.PAID, "B5", NOW))  # PENDING: not approved
        answers.append(uow.ledger.settle_payout(3, PayoutStatus.FAILED, None, NOW))
        answers.append(uow.ledger.settle_payout(99, PayoutStatus.PAID, "B2", NOW))
        uow.commit()
    with new_uow() as uow:
        answers += [uow.ledger.existing_payout(1), uow.ledger.existing_payout(3)]
        answers += [uow.ledger.entries(8, MAR, MAR, after_entry_id=0, limit=None), uow.ledger.balance(8)]
        answers.append(uow.ledger.settle_payout(4, PayoutStatus.FAILED, "gone", NOW))
        # no commit: leaving the block rolls back
    with new_uow() as uow:
        answers += [uow.ledger.payout(4), uow.ledger.balance(8)]
    return answers


def test_the_fake_answers_as_worked_out_by_hand():
    answers = scenario(fake_world())
    # minimums, then balances: 12,345.6789 - 100.5 - 12,000 + 0.0001; 50,000.0001; none
    assert answers[:7] == [5, 10_000, 20_000, 20_000, Decimal("245.179"), Decimal("50000.0001"), 0]
    # after FAILED of payout 3: +30,000 to seller 8
    assert answers[-4] == Decimal("80000.0001")
    assert answers[-2].status is PayoutStatus.APPROVED and answers[-1] == Decimal("80000.0001")
    # payout 1 pays entries 1 and 2 (12,345.6789 - 100.5), leaving 0.1789 after its 12,000
    paid = answers[15]
    assert [e.entry_id for e in paid.entries] == [1, 2]
    assert (paid.carried_in, paid.carried_out) == (0, Decimal("245.1789"))
    assert answers[16:21] == [True, False, False, True, False]  # settles: only APPROVED payouts move


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_the_sql_adapter_answers_as_the_fake(backend, tmp_path):
    with fresh_engine(backend, "paysystem_ledger_ports_", tmp_path) as engine:
        seed_sql(engine)
        sql = scenario(lambda: repository.SqlUnitOfWork(engine))
    assert sql == scenario(fake_world())


# --- the close's steps ---------------------------------------------------------------------

# (month, seller_id, video_id, video_revenue, ad_revenue): January, then January recomputed and February
MONTHLY_JAN = [
    (JAN, 7, 1, "8000.25", "0"),
    (JAN, 7, 2, "4000", "0.5"),
    (JAN, 8, 3, "9999.99", "0"),
    (JAN, 9, 4, "0", "0"),
]
MONTHLY_LATER = [(JAN, 7, 1, "8100.25", "0"), (JAN, 8, 3, "9999.99", "0"), (FEB, 8, 3, "5", "0.01")]


def _monthly_rows(rows) -> list[MonthlyRow]:
    return [MonthlyRow(m, s, v, Decimal(video) + Decimal(ad)) for m, s, v, video, ad in rows]


def _set_monthly_sql(engine: sa.Engine, rows) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(period_video_stats))
        conn.execute(
            sa.insert(period_video_stats),
            [
                {
                    "period": "MONTHLY",
                    "period_start": m,
                    "video_id": v,
                    "seller_id": s,
                    "views": 1,
                    "watch_time_sec": 60,
                    "ad_views": 0,
                    "video_revenue": Decimal(video),
                    "ad_revenue": Decimal(ad),
                }
                for m, s, v, video, ad in rows
            ],
        )


def _close_steps(uow: UnitOfWork, month: dt.date, now_us: int) -> list[object]:
    """The close's port calls, as closing._close makes them (payouts in seller order)."""
    closings = uow.closings
    closings.claim(month, 1, now_us)
    earlier = sorted(m for m in closings.closed_months() if m < month)
    answers: list[object] = [earlier, closings.freeze_lines(month)]
    closings.post_earnings(month, now_us)
    closings.post_adjustments(month, earlier, now_us)
    minimum = uow.ledger.minimum_payout_krw(month, 10_000)
    balances = sorted(closings.balances_at_least(minimum))
    answers.append(balances)
    # Sellers 7 and 8 have profiles (PENDING, taxed); any other would be HELD (HELD payouts
    # and their release are test_tax_ports_contract.py's).
    new = [
        NewPayout(s, int(b), TaxType.INDIVIDUAL, breakdown(int(b), TaxType.INDIVIDUAL, DEFAULT_RATES))
        if s in (7, 8)
        else NewPayout(s, int(b), None, None)
        for s, b in balances
    ]
    closings.create_payouts(month, new, now_us)
    answers.append(closings.finish(month))
    return answers


def _posted(uow: UnitOfWork, sellers: list[int]) -> list[tuple]:
    """Every entry of the sellers, without entry_id (an INSERT ... SELECT numbers in no set order)."""
    return sorted(
        (s, e.kind, e.posted_month, e.original_month, e.video_id, e.amount, e.posted_at_us, e.title)
        for s in sellers
        for e in uow.ledger.entries(s, JAN, MAR, after_entry_id=0, limit=None)
    )


def close_scenario(new_uow: Callable[[], UnitOfWork], set_monthly: Callable[[list], None]) -> list[object]:
    set_monthly(MONTHLY_JAN)
    answers: list[object] = []
    with new_uow() as uow:
        answers += [uow.closings.days_to_compute(MAR), uow.closings.reader_max_age_ms(), uow.closings.closings()]
        answers.append(uow.closings.last_closed_month())
    with new_uow() as uow:
        answers += _close_steps(uow, JAN, T0)
        uow.commit()
    with pytest.raises(WriteConflict), new_uow() as uow:
        uow.closings.claim(JAN, 1, NOW)
    set_monthly(MONTHLY_LATER)
    with new_uow() as uow:
        answers += [uow.closings.pending_adjustments([JAN]), uow.closings.pending_adjustments([])]
        answers += _close_steps(uow, FEB, NOW)
        uow.commit()
    with new_uow() as uow:
        answers += [uow.closings.closings(), uow.closings.closed_months(), uow.closings.last_closed_month()]
        answers += [uow.closings.closing(JAN), uow.closings.closing(MAR), uow.closings.pending_adjustments([JAN])]
        answers += [_posted(uow, [7, 8, 9]), uow.ledger.payouts_of(7), uow.ledger.payouts_of(8)]
    with new_uow() as uow:  # maker-checker: the first approval writes, the second finds it done
        answers += [uow.closings.approve(FEB, 2, NOW + 1), uow.closings.approve(FEB, 3, NOW + 2)]
        uow.commit()
    with new_uow() as uow:
        answers += [uow.closings.closing(FEB), uow.ledger.payouts_of(8), uow.ledger.payouts_of(7)]
        # What seller 8's February payout pays (without entry ids: INSERT ... SELECT numbers freely).
        paid = uow.ledger.paid_entries(uow.ledger.payouts_of(8)[0])
        answers.append(sorted((e.kind, e.original_month, e.video_id, e.amount) for e in paid.entries))
        answers += [paid.carried_in, paid.carried_out]
    with new_uow() as uow:
        # What the adjustment.posted webhook event lists (docs/webhooks.md).
        answers += [uow.closings.adjustments_posted_in(FEB), uow.closings.adjustments_posted_in(JAN)]
    return answers


def test_the_fake_closes_as_worked_out_by_hand():
    fake = FakeClosings(FakeLedger(minimums={dt.date(1970, 1, 1): 10_000}))

    def set_monthly(rows):
        fake.monthly = _monthly_rows(rows)

    answers = close_scenario(lambda: FakeUnitOfWork(closings=fake), set_monthly)
    # January: 8,000.25 + 4,000.5 + 9,999.99 on 3 lines; seller 7 (12,000.75) is paid 12,000.
    assert answers[7] == Closing(JAN, T0, 2, 3, Decimal("22000.74"), 0, Decimal(0), 1, 12_000, closed_by=1)
    # February: 5.01; January's +100 and -4,000.5; seller 8 (9,999.99 + 5.01) is paid 10,005.
    assert answers[13] == Closing(FEB, NOW, 2, 1, Decimal("5.01"), 2, Decimal("-3900.5"), 1, 10_005, closed_by=1)
    assert answers[23:25] == [True, False]
    assert (answers[25].approved_by, answers[25].approved_at_us) == (2, NOW + 1)
    assert [p.status for p in answers[26]] == [PayoutStatus.APPROVED]  # seller 8's February payout
    assert [p.status for p in answers[27]] == [PayoutStatus.PENDING]  # January's: not this approval's
    # Seller 8: 9,999.99 earned in January (rolled over: under the minimum), 5.01 in February and
    # no adjustment of theirs; 10,005 paid, nothing carried in or out.
    assert answers[28] == [
        (EntryKind.EARNING, JAN, 3, Decimal("9999.99")),
        (EntryKind.EARNING, FEB, 3, Decimal("5.01")),
    ]
    assert answers[29:31] == [0, 0]
    # What adjustment.posted lists: February's close posted January's +100 and -4,000.5.
    assert answers[31:] == [
        [PostedAdjustment(7, JAN, 1, Decimal("100.00")), PostedAdjustment(7, JAN, 2, Decimal("-4000.5"))],
        [],
    ]


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_the_sql_adapter_closes_as_the_fake(backend, tmp_path):
    fake = FakeClosings(FakeLedger(minimums={dt.date(1970, 1, 1): 10_000}))

    def set_fake(rows):
        fake.monthly = _monthly_rows(rows)

    expected = close_scenario(lambda: FakeUnitOfWork(closings=fake), set_fake)
    with fresh_engine(backend, "paysystem_close_ports_", tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(sa.delete(payout_minimums))
            conn.execute(sa.insert(payout_minimums).values(effective_from=dt.date(1970, 1, 1), minimum_krw=10_000))
        sql = close_scenario(lambda: repository.SqlUnitOfWork(engine), lambda rows: _set_monthly_sql(engine, rows))
    assert sql == expected
