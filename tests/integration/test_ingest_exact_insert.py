"""The play log's exact insert on MariaDB (services/video/repository.py), both strategies:
RETURNING (MariaDB's) and SELECT_THEN_INSERT (MySQL 8's, forced here), including the race
where another transaction inserts one of our event_ids between our SELECT and our INSERT."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from services.common import db
from services.common.settings import Settings
from services.video import repository
from services.video.tables import plays
from tests import event_ids
from tests.databases import fresh_database

DB_PREFIX = "paysystem_my8_"
RECEIVED = 1_790_000_000_000_000


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with fresh_database("mariadb", DB_PREFIX, tmp_path_factory.mktemp("exact")) as url:
        engine = db.make_engine(Settings(db_url=url))
        yield engine
        engine.dispose()


_ids = iter(range(10**9))


def row(event_id: str, end: int = 10) -> tuple:
    return (event_id, 1, 2, RECEIVED, "2026-09-21", 0, end)


def fresh(name: str) -> str:
    return f"{name}-{next(_ids)}-{time.time_ns()}"


def test_mariadb_learns_which_rows_it_stored_with_returning_unless_told_otherwise(engine):
    with engine.connect() as conn:
        assert repository.exact_strategy(conn) == repository.RETURNING
        assert repository.exact_strategy(conn, repository.SELECT_THEN_INSERT) == repository.SELECT_THEN_INSERT
        with pytest.raises(ValueError, match="unknown exact insert strategy"):
            repository.exact_strategy(conn, "guess")


@pytest.mark.parametrize("strategy", [repository.RETURNING, repository.SELECT_THEN_INSERT])
def test_an_exact_insert_names_the_new_rows_and_reads_back_the_stored_ones(engine, strategy):
    old, new_1, new_2 = fresh("old"), fresh("new"), fresh("new")
    with engine.begin() as conn:
        assert repository.insert_plays_exactly(conn, [row(old, end=7)], RECEIVED, forced=strategy) == ({old}, {})
    with engine.begin() as conn:
        inserted, stored = repository.insert_plays_exactly(
            conn, [row(new_1), row(old, end=99), row(new_2)], RECEIVED, forced=strategy
        )
    assert inserted == {new_1, new_2}
    assert stored == {old: (1, 2, RECEIVED, 0, 7)}  # the stored content, not the resent one
    with engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).where(plays.c.event_id.in_([old, new_1, new_2]))).scalar()
    assert count == 3


def _wait_until_blocked(engine, outcome: dict, timeout: float = 10.0) -> None:
    """Until the thread's transaction is inside its INSERT (its SELECT is done, so the race
    is set up): seen as a row-lock wait, or as the INSERT statement running on its connection."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline and "error" not in outcome and "result" not in outcome:
            connection_id = outcome.get("connection_id")
            if connection_id:
                lock_wait = conn.execute(
                    sa.text(
                        "SELECT COUNT(*) FROM information_schema.innodb_trx "
                        "WHERE trx_state = 'LOCK WAIT' AND trx_mysql_thread_id = :id"
                    ),
                    {"id": connection_id},
                ).scalar()
                inserting = conn.execute(
                    sa.text(
                        "SELECT COUNT(*) FROM information_schema.processlist WHERE ID = :id AND INFO LIKE 'INSERT%'"
                    ),
                    {"id": connection_id},
                ).scalar()
                if lock_wait or inserting:
                    return
            time.sleep(0.02)
        diagnosis = [
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT COMMAND, STATE, LEFT(INFO, 80) FROM information_schema.processlist WHERE ID = :id"),
                {"id": outcome.get("connection_id")},
            )
        ]
    raise AssertionError(f"the insert never waited for the row lock: {outcome} {diagnosis}")


def _insert_in_thread(engine, rows) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        try:
            with engine.begin() as conn:
                outcome["connection_id"] = conn.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
                outcome["result"] = repository.insert_plays_exactly(
                    conn, rows, RECEIVED, forced=repository.SELECT_THEN_INSERT
                )
        except Exception as exc:  # noqa: BLE001 - examined by the test
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("other_commits", [True, False], ids=["other-commits", "other-rolls-back"])
def test_select_then_insert_loses_a_race_with_a_duplicate_key_and_the_retry_is_exact(engine, other_commits):
    stored, raced, mine = fresh("stored"), fresh("raced"), fresh("mine")
    with engine.begin() as conn:
        event_ids.insert_plays(conn, dict(zip(repository.PLAY_COLUMNS, (*row(stored), RECEIVED), strict=True)))
    with engine.connect() as other:
        transaction = other.begin()
        # Another client inserts `raced`, not yet committed: our SELECT does not see it
        # (READ COMMITTED), our INSERT of it waits for the other transaction's end.
        event_ids.insert_plays(other, dict(zip(repository.PLAY_COLUMNS, (*row(raced), RECEIVED), strict=True)))
        thread, outcome = _insert_in_thread(engine, [row(stored), row(raced), row(mine)])
        _wait_until_blocked(engine, outcome)
        transaction.commit() if other_commits else transaction.rollback()
        thread.join(30)
    if not other_commits:
        assert outcome["result"] == ({raced, mine}, {stored: (1, 2, RECEIVED, 0, 10)})
        return
    assert repository.mysql_error_code(outcome["error"]) == repository.DUPLICATE_KEY
    with engine.connect() as conn:  # the failed attempt left nothing behind
        assert conn.execute(sa.select(sa.func.count()).where(plays.c.event_id == mine)).scalar() == 0
    # The whole call again (what the ingest's retry does): the raced event is now stored.
    with engine.begin() as conn:
        inserted, found = repository.insert_plays_exactly(
            conn, [row(stored), row(raced), row(mine)], RECEIVED, forced=repository.SELECT_THEN_INSERT
        )
    assert inserted == {mine} and set(found) == {stored, raced}
