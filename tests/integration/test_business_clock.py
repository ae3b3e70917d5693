"""Use cases read the business time from the clock they are given (services/common/clock.py):
a FixedClock in 2012 decides which month has ended, when a playback was received and what
every record is dated, whatever the machine's clock says. On the embedded SQLite database."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from domain.errors import MonthNotReady
from domain.plays import Outcome, PlayEvent, too_late_reason
from services.account import service as accounts
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.settlement import closing
from services.video import service as videos
from services.video.ingest import Ingest, sql_play_log
from services.video.tables import plays
from tests.databases import fresh_engine

SEOUL = ZoneInfo("Asia/Seoul")
ADMIN = Principal(1, "admin", "ADMIN")
WEEK_US = 7 * 86_400 * 1_000_000


def _seoul(*args) -> FixedClock:
    return FixedClock.at(dt.datetime(*args, tzinfo=SEOUL))


@pytest.fixture
def engine(tmp_path):
    with fresh_engine("sqlite", "clock_", tmp_path) as engine:
        yield engine


def test_a_month_closes_once_the_clocks_day_is_after_it_and_the_closing_is_dated_by_the_clock(engine):
    clock = _seoul(2012, 1, 31, 23, 59, 59)
    with pytest.raises(MonthNotReady, match="2012-01 has not ended"):
        closing.close_month(closing.sql_unit_of_work(engine), ADMIN, "2012-01", zone=SEOUL, clock=clock)
    clock.advance(seconds=1)  # 1 February, 00:00 in Seoul (still 31 January in UTC)
    closed = closing.close_month(closing.sql_unit_of_work(engine), ADMIN, "2012-01", zone=SEOUL, clock=clock)
    assert (closed.month, closed.closed_at_us) == (dt.date(2012, 1, 1), clock.now_us())


def test_records_are_dated_by_the_clock(engine):
    clock = _seoul(2012, 3, 4, 5, 6, 7)
    seller = accounts.create_account(
        accounts.sql_unit_of_work(engine), f"s{uuid.uuid4().hex[:8]}", "password1", "SELLER", clock=clock
    )
    assert seller.created_at_us == clock.now_us()
    clock.advance(seconds=60)
    principal = Principal(seller.account_id, seller.username, "SELLER")
    assert (
        videos.create_video(videos.sql_unit_of_work(engine), principal, "clip", 600, clock=clock).created_at_us
        == clock.now_us()
    )
    clock.advance(seconds=60)
    _, disabled_at = accounts.disable_account(accounts.sql_unit_of_work(engine), seller.username, clock=clock)
    assert disabled_at == clock.now_us()


def test_ingest_receives_playbacks_at_the_clocks_instant(engine):
    clock = _seoul(2012, 1, 20, 12, 0, 0)
    seller = accounts.create_account(
        accounts.sql_unit_of_work(engine), f"s{uuid.uuid4().hex[:8]}", "password1", "SELLER", clock=clock
    )
    viewer = accounts.create_account(
        accounts.sql_unit_of_work(engine), f"v{uuid.uuid4().hex[:8]}", "password1", "VIEWER", clock=clock
    )
    video = videos.create_video(
        videos.sql_unit_of_work(engine),
        Principal(seller.account_id, seller.username, "SELLER"),
        "clip",
        600,
        clock=clock,
    )
    ingest = Ingest(sql_play_log(engine), SEOUL, clock=clock)
    now = clock.now_us()

    def event(name: str, started_at_us: int) -> PlayEvent:
        return PlayEvent(name, video.video_id, viewer.account_id, started_at_us, 0, 300)

    # A viewer's own playbacks are taken up to 7 days after they started, by the clock's
    # instant: 2012 is long past by the machine's clock, which would refuse both.
    within, too_old = event("within", now - WEEK_US), event("too-old", now - WEEK_US - 1)
    results = ingest.record_plays(Principal(viewer.account_id, viewer.username, "VIEWER"), [within, too_old])
    assert [(r.outcome, r.reason) for r in results] == [
        (Outcome.STORED, ""),
        (Outcome.REJECTED, too_late_reason(WEEK_US)),
    ]
    with engine.connect() as conn:
        row = conn.execute(sa.select(plays.c.received_at_us, plays.c.local_day).where(plays.c.event_id == "within"))
        assert tuple(row.one()) == (now, dt.date(2012, 1, 13))
