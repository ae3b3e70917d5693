"""The ledger's test world: the real batch over plays, the use cases, and the independent model.

Figures come from tests/reference.py: the batch's figures from compute_daily over the raw
plays, the ledger's from LedgerModel. The tier table in force from 2012-01-01 has prices with
four decimals, so statements have fractions of a KRW and payouts truncate.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

import batch.steps
from batch.jobs.runner import JobRunner
from domain.periods import Period, period_bounds
from services.common.auth import Principal
from services.settlement import approvals, balances, closing, repository, service
from services.settlement.tables import ledger_entries, payout_minimums, payout_profiles, payouts, tier_prices
from tests import reference
from tests.plugins.jobs import SEOUL, add_plays, add_videos, clear, random_plays

ADMIN = Principal(1, "admin", "ADMIN")
CHECKER = Principal(2, "checker", "ADMIN")  # maker-checker: approves what ADMIN closed
JAN, FEB, MAR = dt.date(2012, 1, 1), dt.date(2012, 2, 1), dt.date(2012, 3, 1)
TODAY = dt.date(2012, 4, 20)  # the batch's today; the months all ended long ago for close
VIDEOS = list(range(1, 7))
SELLERS = 3
DURATION = 1200
LEDGER_TABLES = [
    "ledger_entries",
    "payouts",
    "closed_lines",
    "frozen_daily_stats",
    "frozen_days",
    "month_closings",
    "tax_invoices",
]
TIERS = [
    *reference.DESIGN_TIERS,
    *(
        reference.TierRow(kind, JAN, bound, Decimal(price))
        for kind, bound, price in [
            ("VIEW", 0, "0.3333"),
            ("VIEW", 40, "0.1234"),
            ("AD", 0, "2.5"),
            ("AD", 25, "1.0625"),
        ]
    ),
]
MINIMUM_KRW = 30
SELLER_IDS = sorted({1_000_000 + v % SELLERS for v in VIDEOS})  # add_videos' sellers


def days_of(month: dt.date) -> list[dt.date]:
    days, day = [], month
    while day.month == month.month:
        days.append(day)
        day += dt.timedelta(days=1)
    return days


def reset_ledger(engine: sa.Engine) -> None:
    """Empties the batch's and the ledger's tables and sets this module's tiers, minimum and videos."""
    clear(engine)
    with engine.begin() as conn:
        for table in [*LEDGER_TABLES, "tier_prices", "payout_minimums", "payout_profiles"]:
            conn.execute(sa.text(f"DELETE FROM {table}"))
        conn.execute(
            sa.insert(tier_prices),
            [
                {
                    "kind": t.kind,
                    "effective_from": t.effective_from,
                    "lower_bound": t.lower_bound,
                    "unit_price": t.unit_price,
                }
                for t in TIERS
            ],
        )
        conn.execute(sa.insert(payout_minimums).values(effective_from=dt.date(1970, 1, 1), minimum_krw=MINIMUM_KRW))
        # Every seller has a complete payout profile (their payouts are PENDING, not HELD):
        # the first a BUSINESS, the others INDIVIDUAL.
        conn.execute(
            sa.insert(payout_profiles),
            [
                {
                    "seller_id": seller_id,
                    "legal_name": f"Seller {seller_id}",
                    "tax_type": "BUSINESS" if seller_id == SELLER_IDS[0] else "INDIVIDUAL",
                    "bank_code": "004",
                    "account_number": f"1102345{seller_id % 1000:03d}",
                    "business_number": "1234567891" if seller_id == SELLER_IDS[0] else None,
                    "updated_at_us": 0,
                }
                for seller_id in SELLER_IDS
            ],
        )
    add_videos(engine, VIDEOS, sellers=SELLERS, duration_sec=DURATION)


@pytest.fixture
def ledger_engine(module_engine):
    """The module's database (tests.plugins.jobs.module_engine) set by reset_ledger: emptied,
    with this world's tiers, payout minimum and videos. Named apart from the jobs plugin's
    `engine`, which only empties it."""
    reset_ledger(module_engine)
    return module_engine


class World:
    """The plays stored so far, the batch, and the independent model of the ledger."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.plays: list[dict] = []
        self.model = reference.LedgerModel(minimum_krw=MINIMUM_KRW)
        self.catalogue = [reference.Video(v, 1_000_000 + v % SELLERS, DURATION) for v in VIDEOS]

    def ingest(self, plays: list[dict]) -> None:
        add_plays(self.engine, plays)
        self.plays += plays

    def run_batch(self) -> None:
        runner = JobRunner(
            self.engine, zone=SEOUL, workers=2, steps=batch.steps, progress_interval_sec=0.2, heartbeat_interval_sec=0.2
        )
        events = list(runner.run("daily", today=TODAY))
        assert events[-1].type.name in ("JOB_FINISHED",), events[-1]

    def daily(self) -> dict:
        plays = [
            reference.Play(p["event_id"], p["video_id"], p["viewer_id"], p["started_at_us"], p["start"], p["end"])
            for p in self.plays
        ]
        return reference.compute_daily(self.catalogue, plays, SEOUL, tiers=TIERS)

    def monthly(self) -> dict:
        return reference.compute_periods(self.daily(), "MONTHLY")

    def close(self, month: dt.date) -> closing.Closing:
        result = closing.close_month(closing.sql_unit_of_work(self.engine), ADMIN, f"{month:%Y-%m}", zone=SEOUL)
        self.model.close(month, self.monthly())
        return result

    def approve(self, month: dt.date) -> closing.Closing:
        result = approvals.approve_month(closing.sql_unit_of_work(self.engine), CHECKER, f"{month:%Y-%m}")
        self.model.approve(month)
        return result

    def statement(self, seller_id: int, period: Period, day: dt.date) -> service.Statement:
        start, end = period_bounds(period, day)
        with self.engine.connect() as conn:
            return service.read_statement(repository.SqlStatementReader(conn), seller_id, period, start, end, None)

    def entries(self) -> list[tuple]:
        e = ledger_entries.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(e.seller_id, e.kind, e.posted_month, e.original_month, e.video_id, e.amount).order_by(
                    e.entry_id
                )
            )
            return [(int(r[0]), r[1], r[2], r[3], r[4], Decimal(r[5])) for r in rows]

    def check_invariants(self) -> None:
        stored = self.entries()
        model = [(s, k, p, o, v, a) for s, k, p, o, v, _payout, a in self.model.entries]
        key = lambda e: (e[1], e[2], e[3] or dt.date.min, e[0], e[4] or 0)  # noqa: E731
        assert sorted(stored, key=key) == sorted(model, key=key)
        sellers = {1_000_000 + v % SELLERS for v in VIDEOS}
        for seller_id in sellers:
            balance = balances.get_balance(balances.sql_unit_of_work(self.engine), ADMIN, seller_id, TODAY).balance
            assert balance == sum((e[5] for e in stored if e[0] == seller_id), Decimal(0))
            assert balance == self.model.balance(seller_id)
        with self.engine.connect() as conn:
            rows = list(conn.execute(sa.select(payouts)))
        amounts = [int(row.amount_krw) for row in rows]
        for row in rows:  # a payout with a profile has the reference's taxes; a HELD one none yet
            taxed = (row.income_tax_krw, row.local_income_tax_krw, row.vat_krw, row.net_krw)
            if row.status == "HELD":
                assert (row.tax_type, *taxed) == (None, None, None, None, None), row
            else:
                assert taxed == reference.payout_taxes(int(row.amount_krw), row.tax_type), row
        earned = sum((e[5] for e in stored if e[1] in ("EARNING", "ADJUSTMENT")), Decimal(0))
        returned = sum((e[5] for e in stored if e[1] == "PAYOUT_REVERSAL"), Decimal(0))
        total_balance = sum((self.model.balance(s) for s in sellers), Decimal(0))
        assert sum(amounts) + total_balance == earned + returned  # nothing lost to truncation
        with self.engine.connect() as conn:
            stored_payouts = list(conn.execute(sa.select(payouts)))
        for row in stored_payouts:
            key = (int(row.seller_id), row.month)
            assert row.status == self.model.payouts[key][1]
            # Reconciliation: what the payout pays, as the model computes it from its entries.
            paid = approvals.payout_entries(balances.sql_unit_of_work(self.engine), ADMIN, int(row.payout_id))
            assert (paid.total, paid.carried_in, paid.carried_out) == self.model.paid(key)
            assert paid.total + paid.carried_in == int(row.amount_krw) + paid.carried_out


def month_plays(month: dt.date, per_day: int, prefix: str, seed: int) -> list[dict]:
    return random_plays(days_of(month), VIDEOS, per_day, seed=seed, prefix=prefix)
