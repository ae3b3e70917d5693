"""Idempotency-Key storage (services/settlement/idempotency.KeyStore) on MariaDB and SQLite:
replay without a second effect, another request refused, a failure releasing the key,
concurrent twins running once, the 7-day purge and the take-over of a key whose holder died.
The effect here is a counter that is NOT idempotent by itself, so any second run shows."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from domain.errors import BadInput, IdempotencyKeyReused
from paysystem.v1 import settlement_pb2
from services.settlement import idempotency
from services.settlement.idempotency import RETENTION_US, RUNNING_LEASE_US, KeyStore
from services.settlement.tables import idempotency_keys
from tests.databases import fresh_engine

NOW = int(time.time() * 1e6)


class Counter:
    def __init__(self, delay_sec: float = 0.0) -> None:
        self.runs = 0
        self.delay_sec = delay_sec
        self._lock = threading.Lock()

    def __call__(self) -> settlement_pb2.Payout:
        with self._lock:
            self.runs += 1
            run = self.runs
        time.sleep(self.delay_sec)
        return settlement_pb2.Payout(payout_id=run, reference=f"run {run}")


def _run(store: KeyStore, call, *, account: int = 1, key: str = "k-1", method: str = "MarkPayout", sha: str = "a"):
    return store.run(account, key, method, sha, call, settlement_pb2.Payout.FromString)


@pytest.fixture(params=["mariadb", "sqlite"], scope="module")
def engine(request, tmp_path_factory):
    with fresh_engine(request.param, "paysystem_idem_", tmp_path_factory.mktemp("idem")) as engine:
        yield engine


@pytest.fixture
def store(engine):
    with engine.begin() as conn:
        conn.execute(sa.delete(idempotency_keys))
    return KeyStore(engine)


def test_a_replay_gives_the_stored_answer_and_no_second_effect(store):
    counter = Counter()
    first = _run(store, counter)
    assert _run(store, counter).SerializeToString() == first.SerializeToString()
    assert counter.runs == 1
    # Keys are per caller and compared byte by byte: these are other keys, and run again.
    _run(store, counter, account=2)
    _run(store, counter, key="K-1")
    _run(store, counter, key="k-1 ")
    assert counter.runs == 4


def test_the_same_key_with_another_request_or_method_is_refused(store):
    counter = Counter()
    _run(store, counter)
    for other in ({"sha": "b"}, {"method": "ApproveMonth"}):
        with pytest.raises(IdempotencyKeyReused, match="'k-1' was already used with another request"):
            _run(store, counter, **other)
    assert counter.runs == 1


def test_a_failed_call_keeps_nothing_and_the_key_can_be_used_again(store, engine):
    def refuse():
        raise BadInput("no")

    with pytest.raises(BadInput):
        _run(store, refuse)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(idempotency_keys)).scalar_one() == 0
    counter = Counter()
    _run(store, counter)
    assert counter.runs == 1


def test_concurrent_identical_requests_run_once_and_all_get_its_answer(store):
    counter = Counter(delay_sec=0.3)  # the first is still running when the others arrive
    barrier, answers = threading.Barrier(8), []

    def request():
        barrier.wait(10)
        answers.append(_run(store, counter).SerializeToString())

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert counter.runs == 1
    assert len(answers) == 8 and len(set(answers)) == 1


def test_keys_older_than_seven_days_are_purged_and_a_dead_holders_key_is_taken_over(store, engine):
    rows = [
        {"idem_key": "old", "created_at_us": NOW - RETENTION_US - 1, "response": b""},
        {"idem_key": "week", "created_at_us": NOW - RETENTION_US, "response": b""},
        {"idem_key": "dead", "created_at_us": NOW - RUNNING_LEASE_US - 1, "response": None},
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(idempotency_keys),
            [{"account_id": 1, "method": "MarkPayout", "request_sha256": "a", **row} for row in rows],
        )
    assert store.purge(NOW) == 1
    with engine.connect() as conn:
        kept = set(conn.execute(sa.select(idempotency_keys.c.idem_key)).scalars())
    assert kept == {"week", "dead"}
    counter = Counter()
    assert _run(store, counter, key="dead").reference == "run 1"  # its holder never answered
    assert counter.runs == 1


def test_a_request_waiting_too_long_for_a_running_twin_is_told_to_retry(store, engine, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SEC", 0.2)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(idempotency_keys).values(
                account_id=1,
                idem_key="busy",
                method="MarkPayout",
                request_sha256="a",
                response=None,
                created_at_us=int(time.time() * 1e6),
            )
        )
    counter = Counter()
    with pytest.raises(IdempotencyKeyReused, match="still running; retry it later"):
        _run(store, counter, key="busy")
    assert counter.runs == 0
