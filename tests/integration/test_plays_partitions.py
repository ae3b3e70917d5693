"""Monthly partitions of plays on MariaDB (migration 0014, services/video/partitions.py):
made ahead by ensure_partitions (and so by every batch run), idempotent, and a playback of a
far-future day lands in pmax through the real ingest, without error."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from domain.periods import day_bounds_us
from domain.plays import Outcome, PlayEvent
from services.account.tables import accounts
from services.common.auth import Principal
from services.video import partitions as plays_partitions
from services.video import repository
from services.video.ingest import Ingest, sql_play_log
from services.video.tables import videos
from tests.databases import fresh_engine
from tests.plugins.jobs import SEOUL


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with fresh_engine("mariadb", "paysystem_parts_", tmp_path_factory.mktemp("parts")) as engine:
        yield engine


def partition_of(engine, day: dt.date) -> str:
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.text("EXPLAIN PARTITIONS SELECT * FROM plays WHERE local_day = :d").bindparams(
                    sa.bindparam("d", type_=sa.Date)
                ),
                {"d": day},
            )
            .mappings()
            .one()["partitions"]
        )


def test_the_migration_partitions_by_month_up_to_three_months_ahead_with_a_catch_all(engine):
    today = dt.datetime.now(dt.UTC).date()
    with engine.connect() as conn:
        names = plays_partitions.existing_partitions(conn)
    assert names[-1] == "pmax"
    months = [plays_partitions.month_of_partition(n) for n in names[:-1]]
    assert today.replace(day=1) in months and len(months) >= 4
    assert plays_partitions.partitions_to_add(names, today) == []


def test_ensure_partitions_creates_the_months_ahead_once(engine):
    with engine.connect() as conn:
        newest = plays_partitions.month_of_partition(plays_partitions.existing_partitions(conn)[-2])
    later = newest
    for _ in range(2):
        later = plays_partitions.next_month(later)
    added = plays_partitions.ensure_partitions(engine, later, ahead=1)
    expected = plays_partitions.months_between(plays_partitions.next_month(newest), plays_partitions.next_month(later))
    assert added == [plays_partitions.partition_name(m) for m in expected]
    assert plays_partitions.ensure_partitions(engine, later, ahead=1) == []
    with engine.connect() as conn:
        names = plays_partitions.existing_partitions(conn)
    assert names[-1] == "pmax" and names[-1 - len(added) : -1] == added
    assert partition_of(engine, later) == plays_partitions.partition_name(later)


def test_a_playback_of_a_far_future_day_lands_in_pmax_and_one_of_today_in_its_month(engine):
    with engine.begin() as conn:
        conn.execute(
            sa.insert(accounts).values(account_id=42, username="v42", password_hash="x", role="VIEWER", created_at_us=0)
        )
        conn.execute(sa.insert(videos).values(video_id=7, seller_id=99, title="t", duration_sec=600, created_at_us=0))
    far = dt.date(2090, 6, 1)
    assert partition_of(engine, far) == "pmax"
    # A far-future playback is refused by the clock rules at ingest; an INGEST backfill of the
    # same day through the play log's insert shows the catch-all takes it.
    with engine.begin() as conn:
        started = day_bounds_us(far, SEOUL)[0]
        inserted = repository.insert_plays(conn, [("far-1", 7, 42, started, far.isoformat(), 0, 10)], started)
    assert inserted == {"far-1"}
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT COUNT(*) FROM plays PARTITION (pmax)")).scalar_one()
    assert rows == 1
    # And a present-day playback through the real ingest lands in its month's partition.
    ingest = Ingest(sql_play_log(engine), SEOUL)
    now = ingest_now_us()
    results = ingest.record_plays(Principal(42, "v42", "VIEWER"), [PlayEvent("now-1", 7, 42, now - 600_000_000, 0, 60)])
    assert [r.outcome for r in results] == [Outcome.STORED]


def ingest_now_us() -> int:
    import time

    return time.time_ns() // 1000
