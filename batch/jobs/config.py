"""The coordination's configuration: what a run reads of its runner's settings, frozen.

`JobRunner` builds one `CoordinationConfig` when it is made; the coordinator, the per-day
execution and the partition handlers read it and nothing else of the runner. It imports
nothing of the batch, so any module of `batch/jobs/` may use it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from types import ModuleType
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.common.clock import SYSTEM_CLOCK, Clock

# Days a run computed, after their figures are visible to every read service.
AfterDaysComputed = Callable[[list[dt.date]], None]


@dataclasses.dataclass(frozen=True)
class CoordinationConfig:
    """The settings of every run of one JobRunner.

    - `steps`: the compute core (batch.steps, or a stand-in in tests);
    - `workers`: partitions in flight at once (1 on SQLite, which has one writer);
    - `owner`: `host:pid`, recorded on executions; `recover` reads it back;
    - `reader_max_age_ms`, `replicas`, `replica_wait_sec`, `after_days_computed`: the
      publication of a run's figures (batch/jobs/publication.py);
    - `partition_attempts`, `retry_backoff_sec`: a dispatched partition's fenced retries
      (batch/jobs/dispatch.py);
    - `clock`: the business clock (services/common/clock.py) whose day ends a catch-up run.
    """

    engine: sa.Engine
    steps: ModuleType
    zone: ZoneInfo
    workers: int
    owner: str
    heartbeat_interval_sec: float = 5.0
    progress_interval_sec: float = 2.0
    reader_max_age_ms: int = 0
    after_days_computed: AfterDaysComputed | None = None
    replicas: tuple[tuple[str, sa.Engine], ...] = ()
    replica_wait_sec: float = 10.0
    partition_attempts: int = 3
    retry_backoff_sec: float = 0.5
    clock: Clock = SYSTEM_CLOCK  # the business clock: "yesterday" of a catch-up run
