"""The heartbeat of a running job execution: what `recover` reads to tell a crash."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from batch.jobs import repository as repo
from batch.jobs.clock import now_us

log = logging.getLogger(__name__)


class Heartbeat:
    """Refreshes a running execution's heartbeat; sets `lost` if the execution stopped
    being running under us (recover declared it crashed): no new partition starts then."""

    def __init__(self, engine: sa.Engine, job_execution_id: int, interval_sec: float) -> None:
        self.engine = engine
        self.job_execution_id = job_execution_id
        self.interval_sec = interval_sec
        self.lost = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{job_execution_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval_sec):
            try:
                with self.engine.begin() as conn:
                    if not repo.heartbeat(conn, self.job_execution_id, now_us()):
                        log.error("execution %s is no longer running (recovered?)", self.job_execution_id)
                        self.lost.set()
                        return
            except Exception:  # noqa: BLE001 - a missed beat is not fatal; a stale one is recovered
                log.exception("heartbeat of execution %s failed", self.job_execution_id)
