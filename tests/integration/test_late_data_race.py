"""Late-data detection whatever the commit order, on real MariaDB (InnoDB allocates an
auto-increment play_id at insert time; the row becomes visible at commit).

The race, reproduced with two connections: T1 inserts a play for an already computed day
and holds its transaction open; T2 inserts a play for the same day and commits (a higher
play_id, visible first); the batch recomputes the day (T2's play made it stale), reading
MAX(play_id) = T2's id as its watermark and not seeing T1's uncommitted play; T1 commits.
T1's play_id is below the watermark, so only the count of plays read finds the day stale.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

import batch.steps
from batch.jobs.model import EventType
from batch.jobs.runner import JobRunner
from services.video import play_counts
from tests import event_ids
from tests.databases import fresh_engine
from tests.integration.conftest import BatchData
from tests.plugins.jobs import SEOUL, add_plays, add_videos, clear, play

MON = dt.date(2026, 11, 2)
TODAY = MON + dt.timedelta(days=1)
INSERT_PLAY = sa.text(
    "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
    " start_position_sec, end_position_sec, received_at_us)"
    " VALUES (:event_id, :video_id, :viewer_id, :started_at_us, :local_day, :start, :end, 0)"
).bindparams(sa.bindparam("local_day", type_=sa.Date))


@pytest.fixture(scope="module")
def module_engine(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("late_race")
    with fresh_engine("mariadb", "paysystem_late_", tmp) as engine:
        yield engine


@pytest.fixture
def engine(module_engine):
    clear(module_engine)
    add_videos(module_engine, [1])
    add_plays(module_engine, [play("early", 1, 10, MON, 3600)])
    return module_engine


def play_id(engine, event_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT play_id FROM plays WHERE event_id = :e"), {"e": event_id}).scalar_one()


def invisible_to_the_watermark(engine, watermark: int) -> bool:
    """T1's play is below the watermark and no play of the day is above it: the
    watermark check alone (the rule before migration 0004) would call the day up to date."""
    with engine.connect() as conn:
        newest = conn.execute(sa.text("SELECT MAX(play_id) FROM plays")).scalar_one()
    return play_id(engine, "late-t1") < watermark and newest == watermark


def computed(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT play_id_watermark, plays_read FROM computed_days WHERE day = :d").bindparams(
                sa.bindparam("d", type_=sa.Date)
            ),
            {"d": MON},
        ).one()
    return int(row.play_id_watermark), int(row.plays_read)


def views(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT views FROM daily_video_stats WHERE video_id = 1 AND day = :d").bindparams(
                sa.bindparam("d", type_=sa.Date)
            ),
            {"d": MON},
        ).scalar_one()


def race(engine, recompute) -> None:
    """T1 holds a late play uncommitted while T2's later play commits and `recompute` runs."""
    with engine.connect() as t1:
        t1.begin()
        late = play("late-t1", 1, 11, MON, 7200)
        t1.execute(INSERT_PLAY, late)  # play_id allocated now
        event_ids.record(t1, [late])
        play_counts.add(t1, {MON: 1}, slot=1)  # as ingest does; add_plays (T2) writes slot 0
        add_plays(engine, [play("late-t2", 1, 12, MON, 10800)])  # T2: a higher id, committed first
        with engine.connect() as conn:
            assert batch.steps.days_to_compute(conn, through=MON) == [MON]  # T2's play is late
        recompute()
        with engine.connect() as conn:
            assert batch.steps.days_to_compute(conn, through=MON) == []  # all it can see was read
        t1.commit()


def test_a_late_play_committed_after_a_higher_play_id_was_read_still_makes_its_day_stale(engine):
    data = BatchData(engine, SEOUL)
    assert data.run_pending(through=MON) == [MON]

    race(engine, lambda: data.run_pending(through=MON))

    watermark, plays_read = computed(engine)
    assert invisible_to_the_watermark(engine, watermark)
    assert plays_read == 2
    assert data.days_to_compute(MON) == [MON]
    assert data.run_pending(through=MON) == [MON]
    assert views(engine) == 3
    assert computed(engine)[1] == 3
    assert data.days_to_compute(MON) == []


def test_the_job_runner_recomputes_a_day_whose_late_play_committed_after_its_watermark(engine):
    def run() -> list:
        runner = JobRunner(
            engine, zone=SEOUL, workers=2, steps=batch.steps, progress_interval_sec=0.2, heartbeat_interval_sec=0.2
        )
        events = list(runner.run("daily", today=TODAY))
        assert events[-1].type is EventType.JOB_FINISHED, events[-1].message
        return [e.day for e in events if e.type is EventType.JOB_STARTED]

    assert run() == [MON.isoformat()]

    race(engine, lambda: run() == [MON.isoformat()] or pytest.fail("the stale day was not recomputed"))

    watermark, plays_read = computed(engine)
    assert invisible_to_the_watermark(engine, watermark)
    assert plays_read == 2
    assert run() == [MON.isoformat()]
    assert views(engine) == 3
    assert computed(engine)[1] == 3
    assert run() == []
