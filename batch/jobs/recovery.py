"""Recovery of crashed executions: FAILED (restartable), launch guard released, so the next
launch restarts only the partitions that did not complete."""

from __future__ import annotations

import dataclasses
import logging
import socket

import sqlalchemy as sa

from batch.jobs import repository as repo
from batch.jobs.clock import now_us
from batch.jobs.model import JobParameters
from services.common.processes import pid_alive

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Recovered:
    job_execution_id: int
    job_name: str
    parameters: JobParameters
    owner: str
    reason: str
    partitions_failed: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class StillRunning:
    job_execution_id: int
    owner: str
    heartbeat_age_sec: float
    reason: str


def recover(
    engine: sa.Engine, *, stale_after_sec: float = 60.0, host: str | None = None
) -> tuple[list[Recovered], list[StillRunning]]:
    """Declares crashed executions FAILED (restartable) and releases their launch guard.

    An execution is crashed when its owner ran on this host and that process is gone (known
    at once, whatever the heartbeat), or when its heartbeat is older than `stale_after_sec`
    (an owner on another host, or a live process that stopped beating). Keep the threshold
    well above the heartbeat interval (5 s; on SQLite a beat can wait up to the 30 s busy
    timeout behind a long partition). Declaring a live execution crashed is safe: its next
    update fails and no partition commits after it, but it wastes that work.
    """
    host = host or socket.gethostname()
    now = now_us()
    recovered, alive = [], []
    with engine.begin() as conn:
        candidates = repo.running_executions(conn)
    for e in candidates:
        age = (now - (e.heartbeat_at_us or e.created_at_us)) / 1e6
        owner_host, _, pid = e.owner.rpartition(":")
        local = owner_host == host and pid.isdigit()
        if local and not pid_alive(int(pid)):
            reason = f"owner process {e.owner} is gone (last heartbeat {age:.1f} s ago)"
        elif age > stale_after_sec:
            reason = f"heartbeat stale for {age:.1f} s (> {stale_after_sec:g} s), owner {e.owner}"
        else:
            why = "owner process is alive on this host" if local else "heartbeat is fresh"
            alive.append(StillRunning(e.job_execution_id, e.owner, age, why))
            continue
        try:
            with engine.begin() as conn:
                keys = repo.mark_crashed(conn, e, f"crashed: {reason}", now_us())
        except repo.LostUpdate:
            continue  # it moved on (ended, or recovered by someone else) meanwhile
        log.warning("recovered execution %s: %s", e.job_execution_id, reason)
        recovered.append(Recovered(e.job_execution_id, e.job_name, e.parameters, e.owner, reason, tuple(keys)))
    return recovered, alive
