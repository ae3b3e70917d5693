"""The batch's transactions on the embedded SQLite storage take the write lock when they begin
(services/common/db.write_lock_at_begin). A batch transaction reads the history into a
temporary table, then writes; without the lock taken first, a write that another process
commits in between fails the batch's write at once with "database is locked" (the demo hit
this when the webhook dispatcher committed during a late-data run)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from batch.wiring import runner_for
from services.common import db
from services.common.settings import Settings


def _engine(path) -> sa.Engine:
    return db.make_engine(Settings(db_url=f"sqlite:///{path}"))


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "paysystem.db"
    with _engine(path).begin() as conn:
        conn.exec_driver_sql("CREATE TABLE history (x INTEGER)")
        conn.exec_driver_sql("CREATE TABLE outbox (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO history VALUES (1), (2)")
    return path


def _read_then_write(batch: sa.Engine, other_process_writes) -> None:
    """What the stream-limit step does: a snapshot of the rows into a temporary table, then a
    write to the same table, with another process's commit in between."""
    with batch.begin() as conn:
        conn.exec_driver_sql("CREATE TEMP TABLE snapshot (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO snapshot SELECT x FROM history")
        other_process_writes()
        conn.exec_driver_sql("DELETE FROM history WHERE x = 1")


def _commit_in_other_process(path) -> None:
    with _engine(path).begin() as conn:
        conn.exec_driver_sql("INSERT INTO outbox VALUES (7)")


def test_a_deferred_transaction_that_read_fails_at_once_when_another_writer_commits_first(database):
    """The hazard itself, on a plain engine: the busy timeout does not help."""
    with pytest.raises(sa.exc.OperationalError, match="database is locked"):
        _read_then_write(_engine(database), lambda: _commit_in_other_process(database))


def test_with_the_lock_taken_at_begin_the_other_writer_waits_and_both_writes_land(database):
    batch = _engine(database)
    db.write_lock_at_begin(batch)
    db.write_lock_at_begin(batch)  # idempotent: one listener
    other = threading.Thread(target=_commit_in_other_process, args=(database,))

    def start_other_writer():
        other.start()
        other.join(timeout=0.5)
        assert other.is_alive(), "the other writer should wait for the batch's lock"

    _read_then_write(batch, start_other_writer)
    other.join(timeout=30)
    assert not other.is_alive()
    with batch.connect() as conn:
        assert conn.exec_driver_sql("SELECT x FROM history").scalars().all() == [2]
        assert conn.exec_driver_sql("SELECT x FROM outbox").scalars().all() == [7]


def test_the_batch_runner_wiring_takes_the_lock_at_begin_on_sqlite(database):
    engine = _engine(database)
    runner_for(Settings(db_url=f"sqlite:///{database}"), engine)
    impatient = sa.create_engine(f"sqlite:///{database}", connect_args={"timeout": 0.2})
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT 1")  # no write yet: the lock came with the begin
        with pytest.raises(sa.exc.OperationalError, match="database is locked"), impatient.begin() as other:
            other.exec_driver_sql("INSERT INTO outbox VALUES (8)")
    impatient.dispose()


def test_a_rolled_back_batch_transaction_releases_the_lock(database):
    batch = _engine(database)
    db.write_lock_at_begin(batch)
    with pytest.raises(RuntimeError), batch.begin() as conn:
        conn.exec_driver_sql("DELETE FROM history")
        raise RuntimeError("the step failed")
    _commit_in_other_process(database)  # not blocked: the lock went with the rollback
    with batch.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM history").scalar_one() == 2
