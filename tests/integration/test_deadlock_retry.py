"""A transaction MariaDB rolls back as a deadlock's victim is run again
(services/common/db.retried_after_deadlock, used by each batch partition's transaction: the
partitions of one day upsert neighbouring keys of the same tables at once). A real deadlock:
two transactions lock two rows in opposite orders."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from services.common import db
from tests.databases import fresh_engine


@pytest.fixture
def engine(tmp_path):
    with fresh_engine("mariadb", "deadlock_", tmp_path) as engine:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE pair (id INT PRIMARY KEY, v INT NOT NULL)")
            conn.exec_driver_sql("INSERT INTO pair VALUES (1, 0), (2, 0)")
        yield engine


def _crossed_transactions(engine: sa.Engine, run) -> tuple[list[int], list[BaseException]]:
    """Two threads each add 1 to both rows, locking them in opposite orders; on their first
    attempt both hold their first row before either asks for its second. Returns the attempts
    made and the errors that escaped `run`."""
    both_hold_one = threading.Barrier(2, timeout=10)
    attempts: list[int] = []
    errors: list[BaseException] = []

    def transaction(first: int, second: int) -> None:
        attempts.append(first)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE pair SET v = v + 1 WHERE id = :id"), {"id": first})
            if attempts.count(first) == 1:
                both_hold_one.wait()
            conn.execute(sa.text("UPDATE pair SET v = v + 1 WHERE id = :id"), {"id": second})

    def thread(first: int, second: int) -> None:
        try:
            run(lambda: transaction(first, second))
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(error)

    threads = [threading.Thread(target=thread, args=order) for order in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return attempts, errors


def test_without_the_retry_one_transaction_is_a_deadlock_victim(engine):
    _, errors = _crossed_transactions(engine, lambda transaction: transaction())
    assert len(errors) == 1 and isinstance(errors[0], sa.exc.OperationalError), errors
    assert errors[0].orig.args[0] == 1213  # ER_LOCK_DEADLOCK


def test_the_victim_runs_again_and_both_transactions_land(engine):
    attempts, errors = _crossed_transactions(engine, db.retried_after_deadlock)
    assert errors == []
    assert len(attempts) == 3  # two first attempts and the victim's second
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id, v FROM pair ORDER BY id").all() == [(1, 2), (2, 2)]


def test_other_errors_are_not_retried(engine):
    calls = []

    def failing():
        calls.append(1)
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_table")

    with pytest.raises(sa.exc.ProgrammingError):
        db.retried_after_deadlock(failing)
    assert len(calls) == 1
