"""A tier table scheduled from a day D reprices only the days from D (DESIGN.md 2 "Prices",
docs/ledger.md "Tier tables"), on MariaDB and SQLite.

The table is scheduled through the use case with `today` set before the test's days (the
servicer passes the platform's today; the batch only computes days that are over, so in real
use D is in the future when it is scheduled). Expected figures come from tests/reference.py,
which prices each day with the table in force that day.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from domain.errors import BadTierTable
from domain.periods import day_bounds_us
from services.common.auth import Principal
from services.settlement import tiers
from services.settlement.tables import month_closings, tier_prices
from tests.databases import fresh_engine
from tests.integration.conftest import SEOUL
from tests.reference import DESIGN_TIERS, Play, Seed, TierRow, Video, compute_daily

ADMIN = Principal(1, "admin", "ADMIN")
D = dt.date(2026, 6, 10)  # the new table's first day
DAYS = [D - dt.timedelta(days=2), D - dt.timedelta(days=1), D, D + dt.timedelta(days=1)]
SELLER = 1000
NEW_VIDEO = [(0, "2.0"), (100_000, "0.5")]
NEW_AD = [(0, "7.25"), (100_003, "30.1234")]


@pytest.fixture
def tier_db(batch_db):
    batch_db.set_tiers(DESIGN_TIERS)
    with batch_db.engine.begin() as conn:
        conn.execute(sa.delete(month_closings))
    yield batch_db
    batch_db.set_tiers(DESIGN_TIERS)
    with batch_db.engine.begin() as conn:
        conn.execute(sa.delete(month_closings))


def at(day: dt.date, hour: int) -> int:
    return day_bounds_us(day, SEOUL)[0] + hour * 3600 * 1_000_000


def plays_on(day: dt.date, video_id: int, viewers: int) -> list[Play]:
    """`viewers` distinct viewers each watch the whole 1000 s video: one view, 3 ad views each."""
    return [Play(f"t-{video_id}-{day}-{v}", video_id, 10 + v, at(day, 9 + v), 0, 1000) for v in range(viewers)]


def test_a_table_from_d_prices_only_the_days_from_d_differently(tier_db):
    videos = [Video(1, SELLER, 1000), Video(2, SELLER, 1000)]
    seeds = {1: Seed(dt.date(2026, 1, 1), 99_998, 99_999)}  # video 1 crosses tiers on D's eve and on D
    plays = [p for day in DAYS for p in plays_on(day, 1, 3)] + [p for day in DAYS[1:3] for p in plays_on(day, 2, 2)]
    tier_db.add_videos(videos)
    tier_db.add_seeds(seeds, {1: SELLER})
    tier_db.add_plays(plays)

    scheduled = tiers.schedule_tier_table(
        tiers.sql_unit_of_work(tier_db.engine), ADMIN, D.isoformat(), NEW_VIDEO, NEW_AD, today=DAYS[0]
    )
    assert scheduled.effective_from == D
    listed = tiers.list_tier_tables(tiers.sql_unit_of_work(tier_db.engine), ADMIN)
    assert [t.effective_from for t in listed] == [dt.date(1970, 1, 1), D]
    assert listed[1].video == ((0, Decimal("2.0")), (100_000, Decimal("0.5")))
    assert listed[1].ad == ((0, Decimal("7.25")), (100_003, Decimal("30.1234")))

    assert tier_db.run_pending() == DAYS
    computed = tier_db.daily_rows(exclude_days={dt.date(2026, 1, 1)})

    new_rows = [TierRow("VIEW", D, lower, Decimal(price)) for lower, price in NEW_VIDEO] + [
        TierRow("AD", D, lower, Decimal(price)) for lower, price in NEW_AD
    ]
    expected = compute_daily(videos, plays, SEOUL, tiers=DESIGN_TIERS + new_rows, seeds=seeds)
    unchanged = compute_daily(videos, plays, SEOUL, tiers=DESIGN_TIERS, seeds=seeds)
    assert computed == expected
    assert len(computed) == 6
    for key, row in computed.items():
        before = unchanged[key]
        assert (row.views, row.ad_views, row.cum_views, row.cum_ad_views) == (
            before.views,
            before.ad_views,
            before.cum_views,
            before.cum_ad_views,
        )
        if row.day < D:
            assert (row.video_revenue, row.ad_revenue) == (before.video_revenue, before.ad_revenue)
        else:
            assert row.video_revenue != before.video_revenue and row.ad_revenue != before.ad_revenue
    # The switch written out from the two tables. Video 1 starts at 99,998 views and 99,999 ad
    # views: D-2 crosses 100,000 under the design table (1.0, 1.0, 1.1; ads 10 then 8 x 12),
    # D-1 is all design tier 2, and D (100,004 views, 100,017 ad views before it) is priced by
    # the new table's second tiers.
    assert (computed[(1, DAYS[0])].video_revenue, computed[(1, DAYS[0])].ad_revenue) == (Decimal("3.1"), 106)
    assert (computed[(1, DAYS[1])].video_revenue, computed[(1, DAYS[1])].ad_revenue) == (Decimal("3.3"), 108)
    assert (computed[(1, D)].video_revenue, computed[(1, D)].ad_revenue) == (Decimal("1.5"), Decimal("271.1106"))


def test_the_same_day_scheduled_again_replaces_its_table_and_a_closed_day_is_refused(tier_db):
    tiers.schedule_tier_table(
        tiers.sql_unit_of_work(tier_db.engine), ADMIN, D.isoformat(), NEW_VIDEO, NEW_AD, today=DAYS[0]
    )
    tiers.schedule_tier_table(
        tiers.sql_unit_of_work(tier_db.engine), ADMIN, D.isoformat(), [(0, "3")], [(0, "4")], today=DAYS[0]
    )
    listed = tiers.list_tier_tables(tiers.sql_unit_of_work(tier_db.engine), ADMIN)
    assert [(t.effective_from, t.video, t.ad) for t in listed[1:]] == [(D, ((0, Decimal(3)),), ((0, Decimal(4)),))]

    with tier_db.engine.begin() as conn:
        conn.execute(
            sa.insert(month_closings),
            {
                "month": D.replace(day=1),
                **dict.fromkeys(("closed_at_us", "closed_by", "sellers", "lines", "earnings"), 0),
                **dict.fromkeys(("adjustment_lines", "adjustments", "payouts_created", "payouts_krw"), 0),
            },
        )
    last_day = dt.date(2026, 6, 30)
    with pytest.raises(BadTierTable, match="after the last closed month"):
        tiers.schedule_tier_table(
            tiers.sql_unit_of_work(tier_db.engine), ADMIN, last_day.isoformat(), [(0, "9")], [(0, "9")], today=DAYS[0]
        )
    with pytest.raises(BadTierTable, match="after the last closed month"):
        tiers.schedule_tier_table(
            tiers.sql_unit_of_work(tier_db.engine), ADMIN, D.isoformat(), [(0, "9")], [(0, "9")], today=DAYS[0]
        )
    july = tiers.schedule_tier_table(
        tiers.sql_unit_of_work(tier_db.engine), ADMIN, "2026-07-01", [(0, "9")], [(0, "9")], today=DAYS[0]
    )
    listed = tiers.list_tier_tables(tiers.sql_unit_of_work(tier_db.engine), ADMIN)
    assert [t.effective_from for t in listed] == [dt.date(1970, 1, 1), D, july.effective_from]
    assert listed[1].video == ((0, Decimal(3)),)  # the refused calls stored nothing


def test_concurrent_replacements_of_one_day_leave_exactly_one_whole_table(tier_db):
    tables = [([(0, f"{n}.5"), (10 * n, "1")], [(0, f"{n}")]) for n in range(1, 7)]
    barrier = threading.Barrier(len(tables))
    failures: list[BaseException] = []

    def schedule(video, ad):
        barrier.wait()
        try:
            tiers.schedule_tier_table(
                tiers.sql_unit_of_work(tier_db.engine), ADMIN, D.isoformat(), video, ad, today=DAYS[0]
            )
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    threads = [threading.Thread(target=schedule, args=table) for table in tables]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    (stored,) = [
        t for t in tiers.list_tier_tables(tiers.sql_unit_of_work(tier_db.engine), ADMIN) if t.effective_from == D
    ]
    wanted = {
        (
            tuple((lower, Decimal(price)) for lower, price in video),
            tuple((lower, Decimal(price)) for lower, price in ad),
        )
        for video, ad in tables
    }
    assert (stored.video, stored.ad) in wanted


@pytest.fixture
def mariadb_engine(tmp_path):
    with fresh_engine("mariadb", "paysystem_tiers_", tmp_path) as engine:
        yield engine


def test_a_replace_that_clashes_with_a_concurrent_one_retries_and_its_table_wins(mariadb_engine):
    # The narrow race, made to happen: both transactions' DELETEs find nothing (READ COMMITTED
    # takes no gap locks), the other commits its rows, then this INSERT hits the primary key.
    # Only MariaDB can interleave so (SQLite holds its write lock from the DELETE on).
    inserts = []

    def competitor_commits_first(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("INSERT INTO tier_prices"):
            return
        inserts.append(statement)
        if len(inserts) == 1:
            with mariadb_engine.begin() as other:  # another connection, its own transaction
                other.execute(
                    sa.insert(tier_prices),
                    [{"kind": kind, "effective_from": D, "lower_bound": 0, "unit_price": 1} for kind in ("VIEW", "AD")],
                )

    sa.event.listen(mariadb_engine, "before_cursor_execute", competitor_commits_first)
    try:
        tiers.schedule_tier_table(
            tiers.sql_unit_of_work(mariadb_engine), ADMIN, D.isoformat(), NEW_VIDEO, NEW_AD, today=DAYS[0]
        )
    finally:
        sa.event.remove(mariadb_engine, "before_cursor_execute", competitor_commits_first)
    assert len(inserts) == 3  # this one's, the competitor's (same engine), this one's again
    (stored,) = [
        t for t in tiers.list_tier_tables(tiers.sql_unit_of_work(mariadb_engine), ADMIN) if t.effective_from == D
    ]
    assert stored.video == ((0, Decimal("2.0")), (100_000, Decimal("0.5")))
    assert stored.ad == ((0, Decimal("7.25")), (100_003, Decimal("30.1234")))
