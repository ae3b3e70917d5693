"""The read router: where a read service's read runs, the primary or a read replica.

The one place that chooses: `ReadSide` (readside.py) asks `candidates()` for the data
version and runs the read on the target the version came from. Every write, and every read
outside the read services (ingest, the batch, accounts, closing, payouts), uses the primary
engine and never comes here.

A replica is **in use** while its estimated lag is at most `max_lag_ms`: the lag its last
successful heartbeat check measured plus the time since that check was sent, so a replica
that stops answering (or whose check hangs) leaves use by itself within `max_lag_ms`, in
every process, with no message from anyone. Each replica has its own circuit breaker
(services/common/breakers.py): its health checks and reads count in it; a failed read moves
that request to the next target (another replica in use, then the primary), never failing
it. A replica comes back into use when a check finds it caught up; its data version is then
read afresh (a reading taken while it was behind is dropped).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Callable

import pybreaker
import sqlalchemy as sa

from services.common.breakers import DB_DOWN_ERRORS, Breaker
from services.common.metrics import DB_READS, REPLICA_IN_USE, REPLICA_LAG
from services.readpath.dataversion import DataVersionWatch
from services.readpath.replicas import HEALTH_CHECK_SEC, lag_ms, read_heartbeat

log = logging.getLogger(__name__)

PRIMARY = "primary"
# What makes a read leave its target for the next one: the target is down or its circuit open.
TARGET_DOWN_ERRORS = (*DB_DOWN_ERRORS, pybreaker.CircuitBreakerError)


@dataclasses.dataclass(eq=False)
class ReadTarget:
    """The primary or one replica: its engine, breaker and data version watch."""

    name: str
    engine: sa.Engine
    breaker: Breaker
    versions: DataVersionWatch | None = None
    replica: bool = False
    # Health (replicas): the lag measured by the last good check and when it was sent.
    lag_at_check_ms: float = float("inf")
    checked_at: float = 0.0
    in_use: bool = False
    last_error: str = ""

    def __post_init__(self) -> None:
        self.reads = DB_READS.labels(self.name)

    def lag_now_ms(self) -> float:
        if self.checked_at == 0.0:
            return float("inf")
        return self.lag_at_check_ms + (time.monotonic() - self.checked_at) * 1000


class ReadRouter:
    def __init__(
        self,
        primary: ReadTarget,
        replicas: list[ReadTarget],
        *,
        max_lag_ms: int,
        check_sec: float = HEALTH_CHECK_SEC,
    ) -> None:
        self.primary = primary
        self.replicas = replicas
        self.max_lag_ms = max_lag_ms
        self.check_sec = check_sec
        self._turn = itertools.count()
        self._closed = threading.Event()
        self._started = False
        self._lock = threading.Lock()  # in-use transitions
        self._start_lock = threading.Lock()
        for target in replicas:
            REPLICA_IN_USE.labels(target.name).set(0)

    def candidates(self) -> list[ReadTarget]:
        """The targets of a read, in order: the replicas in use (rotating), then the primary."""
        if not self.replicas:
            return [self.primary]
        if not self._started:
            self._start()
        live = [t for t in self.replicas if t.in_use and t.lag_now_ms() <= self.max_lag_ms]
        if len(live) > 1:
            turn = next(self._turn) % len(live)
            live = live[turn:] + live[:turn]
        return [*live, self.primary]

    def target(self, name: str) -> ReadTarget:
        if name == PRIMARY:
            return self.primary
        return next((t for t in self.replicas if t.name == name), self.primary)

    def failed(self, target: ReadTarget, exc: BaseException) -> None:
        """A read on `target` failed: out of use until a check finds it healthy again."""
        if target.replica:
            self._set_in_use(target, False, f"read failed: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Stops the health checks and every target's version poll."""
        self._closed.set()
        for target in (self.primary, *self.replicas):
            if target.versions is not None:
                target.versions.close()

    def status(self) -> list[dict]:
        return [
            {"replica": t.name, "in_use": t.in_use, "lag_ms": t.lag_now_ms(), "breaker": t.breaker.state}
            for t in self.replicas
        ]

    # --- health checks, one thread per replica (a hanging one delays no other) ----------

    def _start(self) -> None:
        with self._start_lock:
            if self._started:
                return
            for target in self.replicas:
                self.check(target)  # the first reads know at once whether a replica is usable
                threading.Thread(target=self._watch, args=(target,), name=f"replica:{target.name}", daemon=True).start()
            self._started = True

    def _watch(self, target: ReadTarget) -> None:
        while not self._closed.wait(self.check_sec):
            self.check(target)

    def check(self, target: ReadTarget) -> None:
        """Reads the replica's heartbeat (through its breaker) and decides whether it is in use."""
        sent = time.monotonic()

        def probe():
            with target.engine.connect() as conn:
                return read_heartbeat(conn)

        try:
            heartbeat = target.breaker.call(probe)
        except Exception as exc:  # noqa: BLE001 - any failure takes it out of use, said once
            target.last_error = f"{type(exc).__name__}: {exc}"
            REPLICA_LAG.labels(target.name).set(target.lag_now_ms() / 1000)
            self._set_in_use(target, False, f"health check failed: {target.last_error}")
            return
        target.lag_at_check_ms, target.checked_at, target.last_error = lag_ms(heartbeat), sent, ""
        REPLICA_LAG.labels(target.name).set(target.lag_at_check_ms / 1000)
        if target.lag_at_check_ms <= self.max_lag_ms:
            self._set_in_use(target, True, f"lag {target.lag_at_check_ms:.0f} ms")
        else:
            self._set_in_use(target, False, f"lag {target.lag_at_check_ms:.0f} ms > {self.max_lag_ms} ms")

    def _set_in_use(self, target: ReadTarget, in_use: bool, reason: str) -> None:
        with self._lock:
            if target.in_use == in_use:
                return
            if in_use and target.versions is not None:
                target.versions.forget()  # a version read while it was behind is not trusted
            target.in_use = in_use
        REPLICA_IN_USE.labels(target.name).set(1 if in_use else 0)
        if in_use:
            log.info("read replica %s in use (%s)", target.name, reason, extra={"replica": target.name})
        else:
            log.warning("read replica %s out of use: %s", target.name, reason, extra={"replica": target.name})


def run_on(target: ReadTarget, use_case: Callable[[sa.Connection], object]):
    """use_case(conn) on one connection of `target`, behind its breaker, counted."""

    def run():
        with target.engine.connect() as conn:
            return use_case(conn)

    result = target.breaker.call(run)
    target.reads.inc()
    return result
