"""Circuit breakers (services/common/breakers.py): states, what counts, concurrency, gauge."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pybreaker
import pytest
import redis
import sqlalchemy.exc
from prometheus_client import REGISTRY

from services.common.breakers import Breaker, db_breaker, redis_breaker


def _name() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


def _gauge(name: str) -> float | None:
    return REGISTRY.get_sample_value("paysystem_circuit_breaker_open", {"breaker": name})


def _db_down():
    raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("Can't connect to MySQL server"))


def test_a_breaker_opens_after_fail_max_consecutive_system_errors_and_refuses_calls():
    breaker = db_breaker(_name(), fail_max=3, reset_timeout=60)
    for _ in range(3):
        with pytest.raises(sqlalchemy.exc.OperationalError):
            breaker.call(_db_down)
    assert breaker.state == "open"
    called = []
    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(lambda: called.append(1))
    assert called == []


def test_a_success_resets_the_count_of_consecutive_failures():
    breaker = db_breaker(_name(), fail_max=2, reset_timeout=60)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        breaker.call(_db_down)
    breaker.call(lambda: None)
    with pytest.raises(sqlalchemy.exc.OperationalError):
        breaker.call(_db_down)
    assert breaker.state == "closed"


def test_domain_errors_are_the_dependency_answering_and_never_open_the_circuit():
    breaker = db_breaker(_name(), fail_max=1, reset_timeout=60)
    for _ in range(5):
        with pytest.raises(ValueError):
            breaker.call(lambda: (_ for _ in ()).throw(ValueError("bad date")))
    assert breaker.state == "closed"


def test_after_the_reset_timeout_one_trial_call_closes_the_circuit():
    breaker = redis_breaker(_name(), fail_max=1, reset_timeout=0.05)
    with pytest.raises(redis.ConnectionError):
        breaker.call(lambda: (_ for _ in ()).throw(redis.ConnectionError("refused")))
    assert breaker.state == "open"
    time.sleep(0.06)
    assert breaker.call(lambda: "pong") == "pong"
    assert breaker.state == "closed"


def test_a_failed_trial_call_opens_the_circuit_again():
    breaker = redis_breaker(_name(), fail_max=1, reset_timeout=0.05)
    down = lambda: (_ for _ in ()).throw(redis.TimeoutError("timed out"))  # noqa: E731
    with pytest.raises(redis.TimeoutError):
        breaker.call(down)
    time.sleep(0.06)
    with pytest.raises(redis.TimeoutError):
        breaker.call(down)
    assert breaker.state == "open"
    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(lambda: "not called")


def test_while_a_trial_call_runs_other_calls_are_refused():
    breaker = redis_breaker(_name(), fail_max=1, reset_timeout=0.01)
    with pytest.raises(redis.ConnectionError):
        breaker.call(lambda: (_ for _ in ()).throw(redis.ConnectionError("refused")))
    time.sleep(0.02)
    entered, release = threading.Event(), threading.Event()

    def trial():
        entered.set()
        release.wait(5)
        return "ok"

    thread = threading.Thread(target=breaker.call, args=(trial,))
    thread.start()
    entered.wait(5)
    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(lambda: "second")
    release.set()
    thread.join()
    assert breaker.state == "closed"


def test_guarded_calls_run_in_parallel_not_one_at_a_time():
    breaker = db_breaker(_name())
    threads = [threading.Thread(target=breaker.call, args=(time.sleep, 0.2)) for _ in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert time.monotonic() - started < 0.6  # serialised it would take 1.6 s


def test_state_changes_are_logged_and_exported_as_a_gauge(caplog):
    name = _name()
    breaker = db_breaker(name, fail_max=1, reset_timeout=0.05)
    assert _gauge(name) == 0.0
    with caplog.at_level(logging.INFO, logger="services.common.breakers"):
        with pytest.raises(sqlalchemy.exc.OperationalError):
            breaker.call(_db_down)
        assert _gauge(name) == 1.0
        time.sleep(0.06)
        breaker.call(lambda: None)
    assert _gauge(name) == 0.0
    messages = [r.getMessage() for r in caplog.records]
    assert f"circuit breaker {name}: closed -> open" in messages
    assert f"circuit breaker {name}: half-open -> closed" in messages


def test_a_breaker_is_a_pybreaker_underneath():
    breaker = Breaker(_name(), is_system_error=lambda exc: True, fail_max=2)
    assert isinstance(breaker.pybreaker, pybreaker.CircuitBreaker)
    assert breaker.pybreaker.fail_max == 2


def test_an_idle_breaker_with_a_probe_closes_by_itself_when_the_dependency_is_back():
    """No request comes after the circuit opened: the probe is the trial call, retried after
    each failed trial, and the gauge follows (an alert on it resolves on an idle instance)."""
    name = _name()
    breaker = redis_breaker(name, fail_max=1, reset_timeout=0.1)
    probes = []

    def ping():
        probes.append(time.monotonic())
        if len(probes) < 3:
            raise redis.ConnectionError("still down")
        return True

    breaker.probe_when_open(ping)
    with pytest.raises(redis.ConnectionError):
        breaker.call(lambda: (_ for _ in ()).throw(redis.ConnectionError("refused")))
    assert _gauge(name) == 1.0
    deadline = time.monotonic() + 5
    while breaker.state != "closed" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert breaker.state == "closed" and _gauge(name) == 0.0
    assert len(probes) == 3
    assert all(b - a >= 0.1 for a, b in zip(probes, probes[1:], strict=False))  # one per reset_timeout


def test_a_breaker_without_a_probe_stays_open_while_idle():
    breaker = redis_breaker(_name(), fail_max=1, reset_timeout=0.05)
    with pytest.raises(redis.ConnectionError):
        breaker.call(lambda: (_ for _ in ()).throw(redis.ConnectionError("refused")))
    time.sleep(0.3)
    assert breaker.state == "open"
