"""The business clock (services/common/clock.py): the clocks, the one the settings describe,
and use cases that read the day from the clock they are given, not from the machine's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from batch.published import read_data_state
from domain.errors import BadTierTable
from services.common.auth import Principal
from services.common.breakers import db_breaker
from services.common.clock import SYSTEM_CLOCK, FixedClock, SystemClock, clock_for
from services.common.server import ServiceContext
from services.common.settings import Settings
from services.readpath.cache import Cache
from services.readpath.readside import ReadSide
from services.settlement import tiers

SEOUL = ZoneInfo("Asia/Seoul")
UTC = ZoneInfo("UTC")
ADMIN = Principal(1, "admin", "ADMIN")
# 2024-02-29 15:30 UTC is already 1 March, 00:30, in Seoul.
LEAP_EVENING_UTC = dt.datetime(2024, 2, 29, 15, 30, tzinfo=dt.UTC)


class _NoDatabase:
    """An engine that fails the test if a use case reaches the database."""

    def __getattr__(self, name):
        raise AssertionError(f"the use case reached the database ({name})")


def test_a_fixed_clock_stands_still_until_moved_and_its_day_depends_on_the_zone():
    clock = FixedClock.at(LEAP_EVENING_UTC)
    assert clock.now_us() == clock.now_us() == int(LEAP_EVENING_UTC.timestamp()) * 1_000_000
    assert clock.today(UTC) == dt.date(2024, 2, 29)
    assert clock.today(SEOUL) == dt.date(2024, 3, 1)
    clock.advance(seconds=-31 * 60)  # 23:59 in Seoul
    assert clock.today(SEOUL) == dt.date(2024, 2, 29)
    clock.advance(microseconds=60_000_000)
    assert clock.today(SEOUL) == dt.date(2024, 3, 1)
    clock.set(0)
    assert clock.today(UTC) == dt.date(1970, 1, 1)
    with pytest.raises(ValueError, match="aware"):
        FixedClock.at(dt.datetime(2024, 2, 29))


def test_the_system_clock_reads_the_machines_time():
    before = dt.datetime.now(dt.UTC).timestamp() * 1_000_000
    now = SystemClock().now_us()
    assert before - 1 <= now <= dt.datetime.now(dt.UTC).timestamp() * 1_000_000 + 1
    assert SYSTEM_CLOCK.today(SEOUL) in {
        dt.datetime.fromtimestamp(now / 1_000_000, SEOUL).date(),
        dt.datetime.now(SEOUL).date(),
    }


def test_the_settings_clock_is_the_real_one_unless_a_test_sets_an_instant():
    assert clock_for(Settings()) is SYSTEM_CLOCK
    frozen = clock_for(Settings(test_mode=True, test_now="2024-03-01T00:30:00", timezone="Asia/Seoul"))
    assert isinstance(frozen, FixedClock)
    assert frozen.now_us() == FixedClock.at(LEAP_EVENING_UTC).now_us()


def test_a_service_is_given_the_settings_clock_unless_it_is_passed_one():
    engine = sa.create_engine("sqlite://")  # never connected
    assert ServiceContext(settings=Settings(), engine=engine, instance="t").clock is SYSTEM_CLOCK
    settings = Settings(test_mode=True, test_now="2024-02-29T15:30:00+00:00")
    assert ServiceContext(settings=settings, engine=engine, instance="t").clock.today(SEOUL) == dt.date(2024, 3, 1)
    given = FixedClock(0)
    assert ServiceContext(settings=settings, engine=engine, instance="t", clock=given).clock is given


def _read_side(clock) -> ReadSide:
    return ReadSide(
        engine=sa.create_engine("sqlite://"),
        db=db_breaker(),
        cache=Cache(None),
        zone=SEOUL,
        read_state=read_data_state,
        clock=clock,
    )


def test_the_read_sides_today_is_its_clocks_day_in_the_platform_zone():
    clock = FixedClock.at(LEAP_EVENING_UTC)
    read = _read_side(clock)
    assert read.today() == dt.date(2024, 3, 1)
    clock.advance(seconds=-3600)
    assert read.today() == dt.date(2024, 2, 29)


def test_a_tier_table_is_refused_for_the_clocks_today_in_seoul_while_it_is_still_yesterday_in_utc():
    read = _read_side(FixedClock.at(LEAP_EVENING_UTC))  # 1 March in Seoul, 29 February in UTC
    video, ad = [(0, "1")], [(0, "0.5")]
    with pytest.raises(BadTierTable, match=r"must be after today \(2024-03-01\)"):
        tiers.schedule_tier_table(_NoDatabase(), ADMIN, "2024-03-01", video, ad, today=read.today())
