"""Two transactions storing one viewer's touching plays, racing on real MariaDB: the later
one's check sees the earlier one's play, with ingest's viewer lock (viewer_ingest_locks) and
without it (MariaDB's locking reads in triggers); different viewers do not wait for each
other (services/video/overlaps.py, "Concurrency")."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from services.common import db
from services.common.settings import Settings
from services.video import repository
from services.video.sql_play_log import SqlPlayLog
from tests.databases import fresh_database

VIEWER, VIDEO, DURATION = 77, 1, 600
START = 1_790_000_000_000_000
DAY = "2026-09-21"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with fresh_database("mariadb", "paysystem_race_", tmp_path_factory.mktemp("race")) as url:
        engine = db.make_engine(Settings(db_url=url))
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
                    " VALUES (:v, 1, 'v', :d, 0)"
                ),
                {"v": VIDEO, "d": DURATION},
            )
        yield engine
        engine.dispose()


def row(event_id: str, offset_sec: int) -> tuple:
    """A 600 s watch, running 300 s: two rows less than 300 s apart touch."""
    return (event_id, VIDEO, VIEWER, START + offset_sec * 1_000_000, DAY, 0, 600)


def copies(engine) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text("SELECT p.event_id FROM viewer_overlaps o JOIN plays p ON p.play_id = o.play_id")
            ).scalars()
        )


@pytest.fixture(autouse=True)
def empty(engine):
    with engine.begin() as conn:
        for table in ("plays", "play_event_ids", "viewer_overlaps", "viewer_busy_days", "resume_positions"):
            conn.execute(sa.text(f"DELETE FROM {table}"))


def test_without_the_viewer_lock_the_triggers_read_still_waits_for_the_racing_play(engine):
    """MariaDB runs the reads of a trigger fired by an INSERT as locking reads: the second
    transaction's check meets the first one's uncommitted play and waits for its commit, so
    the pair is marked even by writers that take no viewer lock (tests' fixtures, restore).
    The lock is what orders two ingests of one viewer before they insert (no deadlock
    between their checks), and what an engine whose trigger reads do not lock would need."""
    stored = threading.Event()
    with engine.connect() as first:
        first.begin()
        repository.insert_plays(first, [row("race-a", 0)], START)  # uncommitted

        def second() -> None:
            with engine.begin() as conn:
                repository.insert_plays(conn, [row("race-b", 100)], START)
            stored.set()

        racer = threading.Thread(target=second)
        racer.start()
        time.sleep(1.0)
        assert not stored.is_set()  # its check waits on race-a
        first.commit()
    racer.join(30)
    assert stored.is_set()
    assert copies(engine) == {"race-a", "race-b"}


def test_with_the_viewer_lock_the_second_ingest_waits_and_marks_both(engine):
    log = SqlPlayLog(engine)
    stored = threading.Event()
    with engine.connect() as first:
        first.begin()
        repository.lock_viewers(first, {VIEWER})  # what SqlPlayLog.store does first
        repository.insert_plays(first, [row("lock-a", 0)], START)
        racer = threading.Thread(
            target=lambda: (log.store([row("lock-b", 100)], {VIDEO: DURATION}, START), stored.set())
        )
        racer.start()
        time.sleep(1.0)
        assert not stored.is_set()  # it waits for our viewer row
        first.commit()
    racer.join(30)
    assert stored.is_set()
    assert copies(engine) == {"lock-a", "lock-b"}


def test_ingests_of_different_viewers_do_not_wait_for_each_other(engine):
    log = SqlPlayLog(engine)
    other = (*row("other-viewer", 0)[:2], VIEWER + 1, *row("other-viewer", 0)[3:])
    stored = threading.Event()
    with engine.connect() as first:
        first.begin()
        repository.lock_viewers(first, {VIEWER})
        racer = threading.Thread(target=lambda: (log.store([other], {VIDEO: DURATION}, START), stored.set()))
        racer.start()
        racer.join(30)
        assert stored.is_set()  # stored while our transaction still holds VIEWER's row
        first.rollback()
