"""Circuit breakers (pybreaker) around Redis and MySQL (the primary and each replica).

Why a wrapper around pybreaker: `pybreaker.CircuitBreaker.call` holds the breaker's lock
for the whole guarded call, which would serialise every request of a threaded gRPC server
behind one breaker. `Breaker.call` runs the guarded function outside the lock and only
reports its outcome to pybreaker (an instant replay under the lock), so pybreaker keeps the
state machine (closed -> open after `fail_max` consecutive system errors -> half-open after
`reset_timeout` -> closed on a successful trial), its counters and its listeners.

Open circuit: the call is refused at once with `pybreaker.CircuitBreakerError`, which
services/common/grpc_errors.py maps to UNAVAILABLE. Half-open: one trial call at a time goes
through; the others are refused until the trial has answered.

Operators see every state change in the log (a pybreaker listener, WARNING when a circuit
opens) and as the Prometheus gauge `paysystem_circuit_breaker_open{breaker=...}` declared in
services/common/metrics.py (0 closed, 0.5 half-open, 1 open).

An idle process would keep an open circuit open for ever (pybreaker leaves "open" only on
a call), and its gauge with it: an alert on the gauge would keep firing after the dependency
came back. A breaker given a `probe` (a cheap call to the dependency: Redis PING, SELECT 1)
therefore makes the trial call itself, `reset_timeout` after each opening, whether or not a
request comes.

Which errors count ("system errors"): for MySQL, SQLAlchemy's OperationalError and
InterfaceError (server gone, connection refused, lost connection); for Redis, any
redis.RedisError and the cluster client's RedisClusterException.
Everything else (a domain error, a NOT_FOUND) is the dependency answering, so it counts as a
success and never opens a circuit.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import pybreaker
import redis
import sqlalchemy.exc

from services.common.metrics import BREAKER_STATE

log = logging.getLogger(__name__)
T = TypeVar("T")

STATE_VALUES = {pybreaker.STATE_CLOSED: 0.0, pybreaker.STATE_HALF_OPEN: 0.5, pybreaker.STATE_OPEN: 1.0}

DB_DOWN_ERRORS = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)
# redis-py's cluster client raises RedisClusterException (not a RedisError) for a slot no
# node serves or a slot map it cannot read, e.g. in the middle of a failover.
REDIS_ERRORS = (redis.RedisError, redis.exceptions.RedisClusterException)


class _Observer(pybreaker.CircuitBreakerListener):
    """Logs each state change, mirrors it into the Prometheus gauge, and on an opening
    schedules the owner's probe (if it has one)."""

    def __init__(self, on_open: Callable[[], None]) -> None:
        self._on_open = on_open

    def state_change(self, cb, old_state, new_state) -> None:
        BREAKER_STATE.labels(cb.name).set(STATE_VALUES[new_state.name])
        if new_state.name == pybreaker.STATE_OPEN:
            self._on_open()
        level = logging.WARNING if new_state.name == pybreaker.STATE_OPEN else logging.INFO
        log.log(
            level,
            "circuit breaker %s: %s -> %s",
            cb.name,
            old_state.name if old_state else "none",
            new_state.name,
            extra={"breaker": cb.name, "old_state": old_state.name if old_state else None, "new_state": new_state.name},
        )


def _raise(exc: BaseException) -> None:
    raise exc


def _noop() -> None:
    return None


class Breaker:
    """A named circuit breaker that never holds a lock while the guarded call runs."""

    def __init__(
        self,
        name: str,
        *,
        is_system_error: Callable[[BaseException], bool],
        fail_max: int = 5,
        reset_timeout: float = 5.0,
    ) -> None:
        self.name = name
        self._cb = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            exclude=[lambda exc: not is_system_error(exc)],
            listeners=[_Observer(self._schedule_probe)],
            name=name,
        )
        self._trial = threading.Lock()
        self._probe: Callable[[], object] | None = None
        self._probe_pending = threading.Lock()
        BREAKER_STATE.labels(name).set(0)

    def probe_when_open(self, probe: Callable[[], object]) -> None:
        """While open, call `probe` as the trial call `reset_timeout` after each opening
        (see the module's docstring): an idle process's circuit closes when the dependency
        is back."""
        self._probe = probe

    def _schedule_probe(self) -> None:
        # Called under pybreaker's lock: only start a timer (one at a time).
        if self._probe is None or not self._probe_pending.acquire(blocking=False):
            return
        timer = threading.Timer(self._cb.reset_timeout + 0.05, self._run_probe)
        timer.daemon = True
        timer.start()

    def _run_probe(self) -> None:
        self._probe_pending.release()
        if self._cb.current_state == pybreaker.STATE_CLOSED or self._probe is None:
            return
        try:
            self.call(self._probe)  # a failure opens the circuit again, which schedules anew
        except pybreaker.CircuitBreakerError:
            if self._cb.current_state == pybreaker.STATE_OPEN:  # a request's trial is deciding
                self._schedule_probe()
        except BaseException:  # noqa: BLE001 - recorded by the breaker; the log has the change
            pass

    @property
    def state(self) -> str:
        """'closed', 'open' or 'half-open'."""
        return self._cb.current_state

    @property
    def pybreaker(self) -> pybreaker.CircuitBreaker:
        return self._cb

    def _reset_elapsed(self) -> bool:
        opened_at = self._cb._state_storage.opened_at  # noqa: SLF001 - pybreaker exposes no getter
        if opened_at is None:
            return True
        return dt.datetime.now(dt.UTC) >= opened_at + dt.timedelta(seconds=self._cb.reset_timeout)

    def call(self, func: Callable[..., T], *args, **kwargs) -> T:
        state = self._cb.current_state
        if state == pybreaker.STATE_CLOSED:
            return self._run(func, args, kwargs)
        if state == pybreaker.STATE_OPEN and not self._reset_elapsed():
            raise pybreaker.CircuitBreakerError(f"{self.name}: circuit open")
        # Half-open (or open with the timeout elapsed): one trial call at a time.
        if not self._trial.acquire(blocking=False):
            raise pybreaker.CircuitBreakerError(f"{self.name}: circuit half-open, trial call in progress")
        try:
            return self._run(func, args, kwargs)
        finally:
            self._trial.release()

    def _run(self, func, args, kwargs):
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            self._report(exc)
            raise
        # A success while closed with no failure counted changes nothing in pybreaker (it
        # would reset a zero counter; our listener ignores successes): skip the replay and
        # its lock. Racing a failure, this is the order "success, then failure".
        if self._cb.fail_counter or self._cb.current_state != pybreaker.STATE_CLOSED:
            self._report(None)
        return result

    def _report(self, exc: BaseException | None) -> None:
        # pybreaker's own call() replays the outcome under its lock: counters, state
        # transitions and listeners stay pybreaker's. Whatever it raises is about the
        # replay (e.g. "threshold reached"); the caller gets the real outcome.
        try:
            if exc is None:
                self._cb.call(_noop)
            else:
                self._cb.call(_raise, exc)
        except BaseException:  # noqa: BLE001 - the replay's verdict is already recorded
            pass


def db_breaker(name: str = "mysql", *, fail_max: int = 5, reset_timeout: float = 5.0) -> Breaker:
    """Opens after `fail_max` consecutive connection-level database errors."""
    return Breaker(
        name,
        is_system_error=lambda exc: isinstance(exc, DB_DOWN_ERRORS),
        fail_max=fail_max,
        reset_timeout=reset_timeout,
    )


def redis_breaker(name: str = "redis", *, fail_max: int = 3, reset_timeout: float = 5.0) -> Breaker:
    """Opens after `fail_max` consecutive Redis errors (refused, timed out, reset)."""
    return Breaker(
        name,
        is_system_error=lambda exc: isinstance(exc, REDIS_ERRORS),
        fail_max=fail_max,
        reset_timeout=reset_timeout,
    )
