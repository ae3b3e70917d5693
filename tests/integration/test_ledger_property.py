"""Random sequences of ingest (on time or late into any month), batch catch-up, close of the
next month, approval of a closed month's payouts by a second admin, payout marks (refused
before the approval) and payout profiles set (sellers start with or without one: without,
their payouts are HELD until the profile is set, and cannot be marked), on MariaDB and
SQLite, against tests/reference.py LedgerModel.

After every step: every seller's balance is the sum of their entries and equals the model's;
nothing is lost to truncation (payouts + balances = earnings + adjustments + reversals); every
payout is whole KRW; every payout not HELD has the reference's taxes; no statement of a closed
month changed since its close. After each close:
each closed month's EARNING + ADJUSTMENT equals its recomputation from the raw plays.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from domain.errors import PayoutNotApproved
from domain.periods import Period, month_end
from services.common.auth import Principal
from services.settlement import balances, profiles
from services.settlement.tables import payout_profiles, payouts
from tests.plugins.jobs import random_plays
from tests.plugins.ledger import (
    ADMIN,
    JAN,
    SELLERS,
    VIDEOS,
    World,
    days_of,
    reset_ledger,
)

MONTHS = [JAN, dt.date(2012, 2, 1), dt.date(2012, 3, 1), dt.date(2012, 4, 1)]
SELLER_IDS = sorted({1_000_000 + v % SELLERS for v in VIDEOS})

ingest = st.tuples(st.just("ingest"), st.integers(0, 3), st.integers(1, 12), st.integers(0, 10_000))
batch_run = st.tuples(st.just("batch"))
close_next = st.tuples(st.just("close"))
mark = st.tuples(st.just("mark"), st.integers(0, 50), st.sampled_from(["PAID", "FAILED"]))
approve = st.tuples(st.just("approve"), st.integers(0, 3))
# A seller completes (or changes) their payout profile: their HELD payouts are released.
profile = st.tuples(st.just("profile"), st.sampled_from(SELLER_IDS), st.sampled_from(["INDIVIDUAL", "BUSINESS"]))
steps = st.lists(st.one_of(ingest, batch_run, close_next, approve, mark, profile), min_size=3, max_size=9)


def _snapshots(world: World, month: dt.date) -> dict:
    return {
        (seller, period, day): world.statement(seller, period, day)
        for seller in SELLER_IDS
        for period, day in ((Period.MONTHLY, month), (Period.DAILY, month), (Period.DAILY, month_end(month)))
    }


# Always run once: a mark refused before approval, an approval, a failed payout's money paid
# at the next close, that close approved and its payout marked.
MAKER_CHECKER = [
    ("ingest", 0, 150, 1),
    ("ingest", 1, 150, 2),
    ("close",),
    ("mark", 0, "PAID"),
    ("approve", 0),
    ("mark", 0, "FAILED"),
    ("mark", 1, "PAID"),
    ("close",),
    ("approve", 1),
    ("mark", 3, "PAID"),
]


@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@example(sequence=MAKER_CHECKER, without_profile=set())
@given(sequence=steps, without_profile=st.sets(st.sampled_from(SELLER_IDS)))
def test_random_sequences_keep_every_ledger_invariant(module_engine, sequence, without_profile):
    engine = module_engine
    reset_ledger(engine)
    with engine.begin() as conn:  # these sellers' payouts are HELD until a "profile" step
        conn.execute(sa.delete(payout_profiles).where(payout_profiles.c.seller_id.in_(without_profile)))
    world = World(engine)
    frozen: dict = {}
    counter = 0
    for step in sequence:
        if step[0] == "ingest":
            _, month_index, count, seed = step
            counter += 1
            world.ingest(
                random_plays(days_of(MONTHS[month_index]), VIDEOS, 1, seed=seed, prefix=f"p{counter}-")[:count]
            )
        elif step[0] == "batch":
            world.run_batch()
        elif step[0] == "close":
            closed = world.model.closed
            month = MONTHS[len(closed)] if len(closed) < len(MONTHS) else None
            if month is None:
                continue
            world.run_batch()  # a close needs every day computed and current
            world.close(month)
            frozen.update(_snapshots(world, month))
            for earlier in world.model.closed:
                for (start, video_id), row in world.monthly().items():
                    if start == earlier:
                        assert world.model.held(earlier, video_id) == row.video_revenue + row.ad_revenue
        elif step[0] == "profile":
            _, seller_id, kind = step
            number = "1234567891" if kind == "BUSINESS" else ""
            seller = Principal(seller_id, "s", "SELLER")
            uow = balances.sql_unit_of_work(engine)
            profiles.put_profile(uow, seller, seller_id, "Seller", kind, "004", "1102345678", number)
            with engine.connect() as conn:
                held = conn.execute(
                    sa.select(payouts).where(payouts.c.seller_id == seller_id, payouts.c.status == "HELD")
                )
                assert held.all() == []
        elif step[0] == "approve":
            if not world.model.closed:
                continue
            world.approve(world.model.closed[step[1] % len(world.model.closed)])
        else:
            _, index, status = step
            with engine.connect() as conn:
                pending = list(conn.execute(sa.select(payouts).order_by(payouts.c.payout_id)))
            if not pending:
                continue
            chosen = pending[index % len(pending)]
            if chosen.status in ("HELD", "PENDING"):  # not approved yet: refused, nothing changes
                with pytest.raises(PayoutNotApproved):
                    balances.mark_payout(balances.sql_unit_of_work(engine), ADMIN, chosen.payout_id, status, "REF-1")
            if chosen.status != "APPROVED":
                continue
            balances.mark_payout(
                balances.sql_unit_of_work(engine), ADMIN, chosen.payout_id, status, "REF-1" if status == "PAID" else ""
            )
            world.model.mark((chosen.seller_id, chosen.month), status)
        world.check_invariants()
        for key, statement in frozen.items():
            assert world.statement(*key) == statement, key
