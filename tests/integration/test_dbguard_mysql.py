"""services/common/dbguard.py on a real MariaDB server of its own (on a free port), killed and
started again: connects fail fast once the circuit is open, and the engine recovers alone."""

from __future__ import annotations

import time

import pybreaker
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from services.common import db, dbguard
from services.common.settings import Settings
from tests.plugins.faults import own_mariadb

pytestmark = pytest.mark.faults


def _select_one(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def _gauge(name: str) -> float:
    return REGISTRY.get_sample_value("paysystem_circuit_breaker_open", {"breaker": name})


def test_connects_to_a_server_that_refuses_stop_after_three_failures_and_fail_at_once():
    engine = db.make_engine(Settings(db_url="mysql+pymysql://root@127.0.0.1:22998/nothing"))
    breaker = dbguard.guard_connections(engine, name="mysql-connect-refused", reset_timeout=60)
    try:
        for _ in range(3):
            with pytest.raises(sa.exc.OperationalError):
                _select_one(engine)
        assert breaker.state == "open" and _gauge("mysql-connect-refused") == 1
        started = time.perf_counter()
        for _ in range(100):
            with pytest.raises(pybreaker.CircuitBreakerError):
                _select_one(engine)
        # No connect, no TLS context: well under a millisecond each (a refused connect costs ~25 ms).
        assert (time.perf_counter() - started) / 100 < 0.005
    finally:
        engine.dispose()


def test_sqlite_engines_are_left_alone(tmp_path):
    engine = db.make_engine(Settings(data_dir=tmp_path))
    assert dbguard.guard_connections(engine) is None
    _select_one(engine)
    engine.dispose()


def test_a_killed_server_opens_the_circuit_and_the_engine_reconnects_alone_once_it_is_back(tmp_path):
    with own_mariadb(tmp_path / "mariadb") as server:
        engine = db.make_engine(Settings(db_url=f"{server.server_url}/mysql"))
        try:
            _trip_and_recover(server, engine)
        finally:
            engine.dispose()


def _trip_and_recover(server, engine: sa.Engine) -> None:
    breaker = dbguard.guard_connections(engine, name="mysql-connect-restart", reset_timeout=1.0)
    _select_one(engine)
    server.kill()
    errors = []
    for _ in range(6):
        try:
            _select_one(engine)
        except (sa.exc.OperationalError, pybreaker.CircuitBreakerError) as exc:
            errors.append(type(exc).__name__)
    # The pooled connection's pre-ping fails, three reconnects are refused, then the circuit is open.
    assert errors == ["OperationalError"] * 3 + ["CircuitBreakerError"] * 3
    assert breaker.state == "open"

    server.start()
    deadline = time.monotonic() + 10
    while True:
        try:
            _select_one(engine)
            break
        except pybreaker.CircuitBreakerError:
            assert time.monotonic() < deadline, "the circuit should let a trial connect through"
            time.sleep(0.1)
    assert breaker.state == "closed" and _gauge("mysql-connect-restart") == 0
