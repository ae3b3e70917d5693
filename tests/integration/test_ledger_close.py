"""Closing months with the real batch, on MariaDB and SQLite (DESIGN 2a, docs/ledger.md):
late data after a close, adjustments, payouts and their marks, refusals, concurrent and
killed closes, the CLI. World and the expected figures: tests/plugins/ledger.py."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from domain.errors import (
    ClosingNotFound,
    MonthNotReady,
    MonthOutOfOrder,
    NotAllowed,
    PayoutMarkConflict,
    PayoutNotApproved,
    SelfApproval,
)
from domain.money import to_api_string
from domain.periods import Period
from services.common.auth import Principal
from services.common.metrics import LAST_CLOSED_MONTH
from services.settlement import approvals, balances, closing, profiles, service, taxes
from services.settlement.tables import month_closings, payout_profiles, payouts
from tests import reference
from tests.plugins.jobs import play
from tests.plugins.ledger import (
    ADMIN,
    CHECKER,
    FEB,
    JAN,
    LEDGER_TABLES,
    MAR,
    MINIMUM_KRW,
    SELLER_IDS,
    SELLERS,
    SEOUL,
    TIERS,
    TODAY,
    World,
    month_plays,
)


def lines_of(statement: service.Statement) -> list[tuple]:
    return [(line.video_id, line.views, line.ad_views, line.video_revenue, line.ad_revenue) for line in statement.lines]


def test_a_late_playback_after_close_changes_no_closed_figure_and_the_next_close_posts_the_exact_adjustments(
    ledger_engine,
):
    world = World(ledger_engine)
    world.ingest(month_plays(JAN, 6, "j", 1) + month_plays(FEB, 6, "f", 2))
    # Feb 1 00:00:10: a counted view of video 1 by viewer 7, until a late play 20 s earlier.
    world.ingest([play("next-month", 1, 7, FEB, 10, 0, 400)])
    world.run_batch()

    jan = world.close(JAN)
    assert (jan.month, jan.lines, jan.adjustment_lines) == (
        JAN,
        len([e for e in world.model.entries if e[1] == "EARNING"]),
        0,
    )
    world.check_invariants()
    seller = 1_000_000 + 1 % SELLERS
    closed_month = world.statement(seller, Period.MONTHLY, JAN)
    closed_day = world.statement(seller, Period.DAILY, dt.date(2012, 1, 31))
    boundary_week = world.statement(seller, Period.WEEKLY, dt.date(2012, 1, 31))  # Mon 30 Jan .. Sun 5 Feb
    open_month = world.statement(seller, Period.MONTHLY, FEB)
    assert (closed_month.status, closed_day.status, boundary_week.status) == ("CLOSED", "CLOSED", "OPEN")
    assert closed_month.closed_at_us == jan.closed_at_us and boundary_week.closed_at_us is None
    expected_jan = sorted(
        (r.video_id, r.views, r.ad_views, r.video_revenue, r.ad_revenue)
        for (start, _), r in world.monthly().items()
        if start == JAN and r.seller_id == seller and r.video_revenue + r.ad_revenue != 0
    )
    assert lines_of(closed_month) == expected_jan

    # 23:59:50 on the closed month's last day, same viewer and video: the Feb 1 play becomes a repeat.
    world.ingest([play("late", 1, 7, dt.date(2012, 1, 31), 86_390, 0, 400)])
    with pytest.raises(MonthNotReady, match="2012-02-01"):
        closing.close_month(
            closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-02", zone=SEOUL
        )  # Jan 31 stale, so all of Feb
    world.run_batch()

    assert world.statement(seller, Period.MONTHLY, JAN) == closed_month  # frozen, whatever the batch says now
    assert world.statement(seller, Period.DAILY, dt.date(2012, 1, 31)) == closed_day
    assert world.statement(seller, Period.MONTHLY, FEB) != open_month  # the open month moved
    week = world.statement(seller, Period.WEEKLY, dt.date(2012, 1, 31))
    as_closed, now = _daily_before_late(world), world.daily()
    week_days = [dt.date(2012, 1, 30) + dt.timedelta(days=i) for i in range(7)]
    expected_week = _week_total(as_closed, now, seller, week_days)
    assert week.total == expected_week  # closed days as closed, open days as computed now
    assert week.status == "OPEN"

    pending = closing.pending_adjustments(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01")
    model_now = reference.LedgerModel(minimum_krw=MINIMUM_KRW, entries=list(world.model.entries), closed=[JAN])
    expected_pending = {}
    for (start, video_id), row in world.monthly().items():
        if start == JAN:
            diff = row.video_revenue + row.ad_revenue - model_now.held(JAN, video_id)
            if diff != 0:
                expected_pending[(row.seller_id, video_id)] = diff
    assert {(p.seller_id, p.video_id): p.difference for p in pending} == expected_pending
    assert expected_pending  # the late play changed January: there is something to post

    feb = world.close(FEB)
    assert feb.adjustment_lines == len(expected_pending)
    assert feb.adjustments == sum(expected_pending.values(), Decimal(0))
    world.check_invariants()
    feb_statement = world.statement(seller, Period.MONTHLY, FEB)
    assert feb_statement.status == "CLOSED"
    assert {(a.original_month, a.video_id): a.amount for a in feb_statement.adjustments} == {
        (JAN, v): d for (s, v), d in expected_pending.items() if s == seller
    }
    assert feb_statement.total == sum((line.amount for line in feb_statement.lines), Decimal(0)) + sum(
        (a.amount for a in feb_statement.adjustments), Decimal(0)
    )
    assert world.statement(seller, Period.MONTHLY, JAN) == closed_month
    # Every closed month's EARNING + ADJUSTMENT now equals a recomputation from the raw plays.
    for month in (JAN, FEB):
        for (start, video_id), row in world.monthly().items():
            if start == month:
                assert world.model.held(month, video_id) == row.video_revenue + row.ad_revenue
    assert closing.pending_adjustments(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01") == []


def _week_total(as_closed: dict, now: dict, seller: int, days: list[dt.date]) -> Decimal:
    total = Decimal(0)
    for day in days:
        rows = as_closed if day < FEB else now
        total += sum(
            (r.video_revenue + r.ad_revenue for (_, d), r in rows.items() if d == day and r.seller_id == seller),
            Decimal(0),
        )
    return total


def _daily_before_late(world: World) -> dict:
    plays = [
        reference.Play(p["event_id"], p["video_id"], p["viewer_id"], p["started_at_us"], p["start"], p["end"])
        for p in world.plays
        if p["event_id"] != "late"
    ]
    return reference.compute_daily(world.catalogue, plays, SEOUL, tiers=TIERS)


def test_a_seller_without_a_profile_is_held_until_their_put_releases_the_payout_taxed(ledger_engine):
    world = World(ledger_engine)
    world.ingest(month_plays(JAN, 8, "j", 3))
    world.run_batch()
    business_id, held_id = SELLER_IDS[0], SELLER_IDS[1]
    with ledger_engine.begin() as conn:
        conn.execute(sa.delete(payout_profiles).where(payout_profiles.c.seller_id == held_id))
    world.close(JAN)
    world.check_invariants()  # the ledger pays out the gross, HELD or not
    by_seller = {p.seller_id: p for p in _payouts(ledger_engine)}
    held = by_seller[held_id]
    assert (held.status, held.tax_type, held.breakdown) == ("HELD", None, None)
    with pytest.raises(PayoutNotApproved, match="payout is HELD: .*payout profile"):
        balances.mark_payout(balances.sql_unit_of_work(ledger_engine), ADMIN, held.payout_id, "PAID", "BANK-1")
    seller = Principal(held_id, "s", "SELLER")
    saved = profiles.put_profile(
        balances.sql_unit_of_work(ledger_engine), seller, held_id, "Lee Jiwoo", "INDIVIDUAL", "088", "110-234-5678", ""
    )
    assert [p.payout_id for p in saved.released] == [held.payout_id]
    released = {p.seller_id: p for p in _payouts(ledger_engine)}[held_id]
    assert released.status == "PENDING" and released.breakdown is not None
    b = released.breakdown
    assert (b.income_tax_krw, b.local_income_tax_krw, b.vat_krw, b.net_krw) == reference.payout_taxes(
        held.amount_krw, "INDIVIDUAL"
    )
    world.check_invariants()
    # The BUSINESS seller's invoice: the payout's gross is the supply; issued on February 10th.
    (invoice,) = taxes.list_tax_invoices(balances.sql_unit_of_work(ledger_engine), ADMIN, "2012-01")
    business = by_seller[business_id]
    assert (invoice.seller_id, invoice.payout_id, invoice.supply_krw, invoice.vat_krw) == (
        business_id,
        business.payout_id,
        business.amount_krw,
        reference.payout_taxes(business.amount_krw, "BUSINESS")[2],
    )
    assert (invoice.seller_business_number, invoice.issue_date) == ("1234567891", dt.date(2012, 2, 10))
    assert (
        balances.mark_payout(balances.sql_unit_of_work(ledger_engine), ADMIN, held.payout_id, "PAID", "BANK-1").status
        == "PAID"
    )


def _payouts(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        sellers = [int(s) for (s,) in conn.execute(sa.select(payouts.c.seller_id).distinct())]
    found = []
    for seller_id in sellers:
        found += balances.list_payouts(balances.sql_unit_of_work(engine), ADMIN, seller_id)
    return found


def test_payouts_are_whole_krw_marking_is_idempotent_and_a_failed_payout_returns_and_is_paid_later(ledger_engine):
    world = World(ledger_engine)
    world.ingest(month_plays(JAN, 8, "j", 3) + month_plays(FEB, 8, "f", 4) + month_plays(MAR, 2, "m", 5))
    world.run_batch()
    world.close(JAN)
    world.check_invariants()
    with ledger_engine.connect() as conn:
        created = list(conn.execute(sa.select(payouts).order_by(payouts.c.payout_id)))
    assert len(created) == len([k for k in world.model.payouts if k[1] == JAN]) >= 2
    assert any(
        balances.get_balance(balances.sql_unit_of_work(ledger_engine), ADMIN, p.seller_id, TODAY).balance % 1 != 0
        for p in created
    )

    paid, failed = created[0], created[1]
    # Maker-checker: nothing is marked before another admin approves; the closer may not approve.
    with pytest.raises(PayoutNotApproved):
        balances.mark_payout(balances.sql_unit_of_work(ledger_engine), ADMIN, paid.payout_id, "PAID", "BANK-1")
    with pytest.raises(SelfApproval):
        approvals.approve_month(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01")
    approved = world.approve(JAN)
    assert (approved.closed_by, approved.approved_by) == (ADMIN.account_id, CHECKER.account_id)
    assert approvals.approve_month(closing.sql_unit_of_work(ledger_engine), CHECKER, "2012-01") == approved
    world.check_invariants()
    done = balances.mark_payout(balances.sql_unit_of_work(ledger_engine), ADMIN, paid.payout_id, "PAID", "BANK-1")
    assert (done.status, done.reference) == ("PAID", "BANK-1")
    assert (
        balances.mark_payout(balances.sql_unit_of_work(ledger_engine), ADMIN, paid.payout_id, "PAID", "BANK-1") == done
    )  # idempotent
    with pytest.raises(PayoutMarkConflict):
        balances.mark_payout(balances.sql_unit_of_work(ledger_engine), ADMIN, paid.payout_id, "PAID", "BANK-2")
    with pytest.raises(PayoutMarkConflict):
        balances.mark_payout(balances.sql_unit_of_work(ledger_engine), ADMIN, paid.payout_id, "FAILED", "")
    world.model.mark((paid.seller_id, JAN), "PAID")
    balances.mark_payout(
        balances.sql_unit_of_work(ledger_engine), ADMIN, failed.payout_id, "FAILED", "returned by bank"
    )
    world.model.mark((failed.seller_id, JAN), "FAILED")
    world.check_invariants()
    assert (
        balances.get_balance(balances.sql_unit_of_work(ledger_engine), ADMIN, failed.seller_id, TODAY).balance
        >= failed.amount_krw
    )

    world.close(FEB)
    world.check_invariants()
    again = [
        p
        for p in balances.list_payouts(balances.sql_unit_of_work(ledger_engine), ADMIN, failed.seller_id)
        if p.month == FEB
    ]
    assert again and again[0].amount_krw >= failed.amount_krw  # the failed money is paid at the next close
    with pytest.raises(NotAllowed):
        balances.mark_payout(
            balances.sql_unit_of_work(ledger_engine),
            Principal(failed.seller_id, "s", "SELLER"),
            again[0].payout_id,
            "PAID",
            "x",
        )
    with pytest.raises(NotAllowed):
        balances.get_balance(
            balances.sql_unit_of_work(ledger_engine), Principal(paid.seller_id, "s", "SELLER"), failed.seller_id, TODAY
        )


def test_closing_is_refused_until_the_month_ended_was_computed_and_the_previous_month_closed(ledger_engine):
    world = World(ledger_engine)
    world.ingest(month_plays(JAN, 2, "j", 6) + month_plays(FEB, 2, "f", 7))
    with pytest.raises(MonthNotReady, match="2012-01-01, 2012-01-02"):
        closing.close_month(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01", zone=SEOUL)
    this_month = dt.date.today().replace(day=1)
    with pytest.raises(MonthNotReady, match="has not ended"):
        closing.close_month(closing.sql_unit_of_work(ledger_engine), ADMIN, f"{this_month:%Y-%m}", zone=SEOUL)
    world.run_batch()
    with pytest.raises(NotAllowed):
        closing.close_month(
            closing.sql_unit_of_work(ledger_engine), Principal(1_000_001, "s", "SELLER"), "2012-01", zone=SEOUL
        )
    with pytest.raises(ClosingNotFound):
        closing.pending_adjustments(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01")
    world.close(JAN)
    with pytest.raises(MonthOutOfOrder, match="2012-02"):
        closing.close_month(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-03", zone=SEOUL)
    with ledger_engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(month_closings)).scalar_one() == 1


def test_closing_twice_or_concurrently_gives_one_closing(ledger_engine):
    world = World(ledger_engine)
    world.ingest(month_plays(JAN, 4, "j", 8))
    world.run_batch()
    results, errors = [], []

    def close():
        try:
            results.append(closing.close_month(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01", zone=SEOUL))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=close) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 3
    assert results[0] == results[1] == results[2]
    assert closing.close_month(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01", zone=SEOUL) == results[0]
    world.model.close(JAN, world.monthly())
    world.check_invariants()  # one set of entries and payouts, not three


KILL_SCRIPT = """
import os, signal, sys
from zoneinfo import ZoneInfo
from services.common import db
from services.common.auth import Principal
from services.common.settings import Settings
from services.settlement import closing

def die(step, steps, what):
    if step == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)

engine = db.make_engine(Settings(db_url=sys.argv[1]))
closing.close_month(closing.sql_unit_of_work(engine), Principal(1, "admin", "ADMIN"), "2012-01", zone=ZoneInfo("Asia/Seoul"), progress=die)
"""


@pytest.mark.parametrize("step", [3, 5])
def test_a_close_killed_halfway_leaves_nothing_and_closing_again_succeeds(ledger_engine, step):
    world = World(ledger_engine)
    world.ingest(month_plays(JAN, 4, "j", 9))
    world.run_batch()
    url = ledger_engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, url, str(step)], check=False, timeout=120, env=os.environ.copy()
    )
    assert done.returncode == -signal.SIGKILL
    with ledger_engine.connect() as conn:
        for table in LEDGER_TABLES:
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0, table
    world.close(JAN)
    world.check_invariants()


def test_the_cli_closes_a_month_with_progress_and_refuses_clearly(ledger_engine, tmp_path):
    world = World(ledger_engine)
    world.ingest(month_plays(JAN, 3, "j", 10))
    world.run_batch()
    url = ledger_engine.url.render_as_string(hide_password=False)
    env = {
        **os.environ,
        "PAYSYSTEM_DB_URL": url,
        "PAYSYSTEM_DATA_DIR": str(tmp_path),
        "PAYSYSTEM_TIMEZONE": "Asia/Seoul",
    }
    command = [str(Path(sys.executable).parent / "paysystem"), "close", "--month"]

    def cli(month: str) -> subprocess.CompletedProcess:
        return subprocess.run([*command, month], capture_output=True, text=True, check=False, env=env, timeout=120)

    this_month = dt.date.today().replace(day=1)
    refused = cli(f"{this_month:%Y-%m}")
    assert refused.returncode == 1 and "has not ended" in refused.stderr
    bad = cli("2012-13")
    assert bad.returncode == 1 and "not a real month" in bad.stderr
    done = cli("2012-01")
    assert done.returncode == 0, done.stderr
    world.model.close(JAN, world.monthly())
    earnings = sum((e[6] for e in world.model.entries if e[1] == "EARNING"), Decimal(0))
    assert "2012-01 closed" in done.stdout and "5/5" in done.stdout
    assert f"earnings {to_api_string(earnings)} KRW" in done.stdout.replace(",", "")
    world.check_invariants()


def test_the_last_closed_month_gauge_is_set_by_a_close_and_read_back_at_a_start(ledger_engine):
    def gauge() -> float | None:
        return REGISTRY.get_sample_value("paysystem_settlement_last_closed_month")

    world = World(ledger_engine)
    world.ingest(month_plays(JAN, 4, "g", 8))
    world.run_batch()
    LAST_CLOSED_MONTH.set(0)
    with ledger_engine.connect() as conn:  # nothing closed yet: the gauge stays 0 (the alert ignores 0)
        closing.show_last_closed_month(conn)
    assert gauge() == 0
    closing.close_month(closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01", zone=SEOUL)
    assert gauge() == 201201
    LAST_CLOSED_MONTH.set(0)  # another instance, or this one restarted: read from the database
    closing.close_month(
        closing.sql_unit_of_work(ledger_engine), ADMIN, "2012-01", zone=SEOUL
    )  # closing a closed month sets it too
    assert gauge() == 201201
    LAST_CLOSED_MONTH.set(0)
    with ledger_engine.connect() as conn:
        closing.show_last_closed_month(conn)
    assert gauge() == 201201
