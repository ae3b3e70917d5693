"""Money is never a float, on either storage (issue 15, item 8).

Every DECIMAL(24, 4) value (20 integer digits, 4 decimals, negatives too) round-trips through
the Money columns on MariaDB and SQLite; SQLite stores them as text, never REAL, also after the
batch ran; and sums and products in SQL are exact where a float is not (SQLite's own `+`,
`SUM` and `*` would turn 12345678901234567.8901 into 12345678901234568).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from batch.tables import daily_video_stats, period_video_stats
from domain.periods import day_bounds_us
from services.common.money_sql import money_add, money_is_nonzero, money_sum
from services.settlement.tables import tier_prices
from tests.databases import fresh_engine
from tests.integration.conftest import SEOUL, BatchData
from tests.reference import DESIGN_TIERS, DailyRow, Play, Video, compute_daily, compute_periods

MON = dt.date(2026, 11, 2)  # a Monday
SELLER = 1000

# What floats cannot hold: 21 significant digits (a double has 15 to 17).
BIG = Decimal("12345678901234567.8901")
LARGEST = Decimal("99999999999999999999.9999")  # DECIMAL(24, 4)
LARGEST_PRICE = Decimal("99999999.9999")  # tier_prices.unit_price, DECIMAL(12, 4)


def at(day: dt.date, hour: int = 12) -> int:
    return day_bounds_us(day, SEOUL)[0] + hour * 3600 * 1_000_000


def play(video: int, viewer: int, started: int, start: int, end: int) -> Play:
    return Play(f"m{video}-{viewer}-{started}", video, viewer, started, start, end)


def amounts(integer_digits: int):
    """Any DECIMAL(integer_digits + 4, 4) value: an integer count of ten-thousandths."""
    bound = 10 ** (integer_digits + 4) - 1
    return st.integers(min_value=-bound, max_value=bound).map(lambda units: Decimal(units).scaleb(-4))


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def engine(request, tmp_path_factory):
    with fresh_engine(request.param, "money_st_", tmp_path_factory.mktemp("money")) as engine:
        yield engine


def _put_daily(conn: sa.Connection, video_revenue: Decimal, ad_revenue: Decimal, video_id: int = 1, day=MON) -> None:
    conn.execute(
        sa.insert(daily_video_stats).values(
            video_id=video_id,
            day=day,
            seller_id=SELLER,
            views=0,
            watch_time_sec=0,
            ad_views=0,
            cum_views=0,
            cum_ad_views=0,
            video_revenue=video_revenue,
            ad_revenue=ad_revenue,
        )
    )


def _same(read: Decimal, written: Decimal) -> None:
    assert type(read) is Decimal
    assert read == written
    assert read.as_tuple().exponent == -4  # as MariaDB returns a DECIMAL(p, 4), on both


@settings(max_examples=150)
@given(video_revenue=amounts(20), ad_revenue=amounts(20))
@example(video_revenue=LARGEST, ad_revenue=-LARGEST)
@example(video_revenue=BIG, ad_revenue=Decimal("-12345678901234567.8902"))
@example(video_revenue=Decimal("0.0001"), ad_revenue=Decimal("-0.0001"))
@example(video_revenue=Decimal(0), ad_revenue=Decimal("-0.0000"))
def test_every_decimal_24_4_round_trips_through_the_stats_columns(engine, video_revenue, ad_revenue):
    with engine.begin() as conn:
        conn.execute(sa.delete(daily_video_stats))
        conn.execute(sa.delete(period_video_stats))
        _put_daily(conn, video_revenue, ad_revenue)
        conn.execute(
            sa.insert(period_video_stats).values(
                period="WEEKLY",
                period_start=MON,
                video_id=1,
                seller_id=SELLER,
                views=0,
                watch_time_sec=0,
                ad_views=0,
                video_revenue=ad_revenue,
                ad_revenue=video_revenue,
            )
        )
    d, p = daily_video_stats.c, period_video_stats.c
    with engine.connect() as conn:
        daily = conn.execute(sa.select(d.video_revenue, d.ad_revenue)).one()
        period = conn.execute(sa.select(p.video_revenue, p.ad_revenue)).one()
        # Arithmetic in SQL: exact on both engines (SQLite: the money_* functions).
        total, nonzero = conn.execute(
            sa.select(money_add(d.video_revenue, d.ad_revenue), money_is_nonzero(d.video_revenue, d.ad_revenue))
        ).one()
    _same(daily.video_revenue, video_revenue)
    _same(daily.ad_revenue, ad_revenue)
    _same(period.video_revenue, ad_revenue)
    _same(period.ad_revenue, video_revenue)
    assert Decimal(total) == video_revenue + ad_revenue
    assert bool(nonzero) == (video_revenue + ad_revenue != 0)


@settings(max_examples=80)
@given(price=amounts(8))
@example(price=LARGEST_PRICE)
@example(price=-LARGEST_PRICE)
def test_every_decimal_12_4_round_trips_through_the_tier_prices(engine, price):
    with engine.begin() as conn:
        conn.execute(sa.delete(tier_prices).where(tier_prices.c.kind == "TEST"))
        conn.execute(sa.insert(tier_prices).values(kind="TEST", effective_from=MON, lower_bound=0, unit_price=price))
    with engine.connect() as conn:
        read = conn.execute(sa.select(tier_prices.c.unit_price).where(tier_prices.c.kind == "TEST")).scalar_one()
    _same(read, price)


def test_a_float_is_refused_and_so_is_an_amount_beyond_decimal_24_4(engine):
    with engine.begin() as conn:
        conn.execute(sa.delete(daily_video_stats))
    with pytest.raises(sa.exc.StatementError, match="float"), engine.begin() as conn:
        _put_daily(conn, 0.1, Decimal(0))  # type: ignore[arg-type]
    with pytest.raises(sa.exc.DBAPIError if engine.dialect.name != "sqlite" else sa.exc.StatementError):
        with engine.begin() as conn:
            _put_daily(conn, LARGEST + Decimal("0.0001"), Decimal(0))
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(daily_video_stats)).scalar_one() == 0


def test_sql_sums_of_amounts_floats_cannot_hold_are_exact(engine):
    lines = [BIG, BIG, Decimal("0.0001"), -Decimal("0.0003")]
    with engine.begin() as conn:
        conn.execute(sa.delete(daily_video_stats))
        for video_id, amount in enumerate(lines, start=1):
            _put_daily(conn, amount, BIG, video_id=video_id)
    d = daily_video_stats.c
    with engine.connect() as conn:
        video, ad = conn.execute(sa.select(money_sum(d.video_revenue), money_sum(d.ad_revenue))).one()
    assert Decimal(video) == Decimal("24691357802469135.7800")
    assert Decimal(ad) == Decimal("49382715604938271.5604")


# --- SQLite: text, never REAL, and the batch's arithmetic is exact ---------------------------


@pytest.fixture(scope="module")
def sqlite_batch(tmp_path_factory):
    with fresh_engine("sqlite", "money_b_", tmp_path_factory.mktemp("money_batch")) as engine:
        yield BatchData(engine)


def _typeofs(engine: sa.Engine) -> dict[str, set[str]]:
    found = {}
    with engine.connect() as conn:
        for table, columns in {
            "daily_video_stats": ("video_revenue", "ad_revenue"),
            "period_video_stats": ("video_revenue", "ad_revenue"),
            "tier_prices": ("unit_price",),
        }.items():
            for column in columns:
                rows = conn.execute(sa.text(f"SELECT DISTINCT typeof({column}) FROM {table}")).scalars()
                found[f"{table}.{column}"] = set(rows)
    return found


def test_sqlite_money_columns_hold_text_after_the_batch_ran(sqlite_batch):
    sqlite_batch.clear()
    sqlite_batch.add_videos([Video(1, SELLER, 1000), Video(2, SELLER, 700)])
    sqlite_batch.add_plays([play(1, 7, at(MON), 0, 650), play(1, 8, at(MON), 0, 10), play(2, 7, at(MON), 0, 400)])
    sqlite_batch.run_pending()
    assert _typeofs(sqlite_batch.engine) == {
        "daily_video_stats.video_revenue": {"text"},
        "daily_video_stats.ad_revenue": {"text"},
        "period_video_stats.video_revenue": {"text"},
        "period_video_stats.ad_revenue": {"text"},
        "tier_prices.unit_price": {"text"},
    }
    with sqlite_batch.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT ad_revenue FROM daily_video_stats WHERE video_id = 1")).scalar_one()
    assert stored == "20.0000"  # canonical: two ad marks at 10 KRW (DESIGN_TIERS)


def test_sqlite_batch_sums_lines_floats_cannot_hold_exactly(sqlite_batch):
    """Monday and Tuesday were computed long ago with amounts of 21 digits; Wednesday's run
    re-sums the week and the month from the daily rows (DESIGN 2: never increments)."""
    sqlite_batch.clear()
    tue, wed = MON + dt.timedelta(days=1), MON + dt.timedelta(days=2)
    videos = [Video(1, SELLER, 1000)]
    sqlite_batch.add_videos(videos)
    old = {
        (1, day): DailyRow(1, day, SELLER, 0, 0, 0, 0, 0, BIG, amount)
        for day, amount in ((MON, BIG), (tue, Decimal("-0.0001")))
    }
    with sqlite_batch.engine.begin() as conn:
        for r in old.values():
            _put_daily(conn, r.video_revenue, r.ad_revenue, day=r.day)
    plays = [play(1, 7, at(wed), 0, 650), play(1, 8, at(wed), 0, 10)]
    sqlite_batch.add_plays(plays)
    sqlite_batch.compute_day(wed)
    expected_daily = {**old, **compute_daily(videos, plays, sqlite_batch.zone, DESIGN_TIERS)}
    for period in ("WEEKLY", "MONTHLY"):
        got = sqlite_batch.period_rows(period)
        want = compute_periods(expected_daily, period)
        assert {k: (r.video_revenue, r.ad_revenue) for k, r in got.items()} == {
            k: (r.video_revenue, r.ad_revenue) for k, r in want.items()
        }
    week = sqlite_batch.period_rows("WEEKLY")[(MON, 1)]
    assert week.video_revenue == Decimal("24691357802469137.7802")  # 2 x BIG + 2 views at 1.0
    assert week.ad_revenue == Decimal("12345678901234587.8900")  # BIG - 0.0001 + 2 ad marks at 10


def test_sqlite_money_functions_are_exact_and_refuse_floats(sqlite_batch):
    with sqlite_batch.engine.connect() as conn:

        def q(sql: str):
            return conn.execute(sa.text(f"SELECT {sql}")).scalar_one()

        # 99999999.9999 x 123456789012 = 12345678901200000000 - 12345678.9012
        assert q("money_mul('99999999.9999', 123456789012)") == "12345678901187654321.0988"
        # 999999999999 ten-thousandths x 123456789012 + 1 x 2 + 50000 x 0
        assert q("money_units_dot(999999999999, 123456789012, 1, 2, 50000, 0)") == "12345678901187654321.0990"
        assert q(f"money_add('{BIG}', '{BIG}', '-0.0001', 3)") == "24691357802469138.7801"
        assert q(f"money_sign('{BIG}', '-12345678901234567.8902')") == -1
        assert q(f"money_sign('{BIG}', '-12345678901234567.8901')") == 0
        assert q(f"money_cmp('{BIG}', '12345678901234567.8902')") == -1
        assert q("money_add('1.5', NULL)") is None
        assert q("(SELECT money_sum(x) FROM (SELECT NULL AS x))") is None
        for call in (
            "money_add('1.5', 0.5)",
            "money_mul(0.1, 3)",
            "money_sign(1e3)",
            "money_units_dot(10000, 2, 0.5, 0)",
        ):
            with pytest.raises(sa.exc.OperationalError, match="user-defined function raised exception"):
                q(call)
        # Expressions widen, as MariaDB's DECIMAL arithmetic does (up to its 65 digits).
        assert q(f"money_add('{LARGEST}', '{LARGEST}')") == "199999999999999999999.9998"
        with pytest.raises(sa.exc.OperationalError):
            q(f"money_mul('{LARGEST}', '1{'0' * 50}')")  # 74 digits
