"""The wiring of the job runner that the batch's server (entrypoints/servers/batch.py) and the
CLI share, and the gauges a batch process shows from its start."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any

import sqlalchemy as sa

from batch.jobs import repository
from batch.jobs.runner import JobRunner
from batch.jobs.worker import load_steps
from services.common import db
from services.common.clock import clock_for
from services.common.metrics import BATCH_LAST_SUCCESS
from services.common.settings import Settings
from services.readpath.replicas import min_wait_sec, replica_engine, replica_name

log = logging.getLogger(__name__)


def runner_for(settings: Settings, engine: sa.Engine, *, workers: int | None = None, **options: Any) -> JobRunner:
    """A runner wired the way the service and the CLI run it: the platform zone, the
    configured worker count, the read services' trust window to publish and wait out before
    a job reports its end (batch/jobs/publication.py) and the read replicas to wait for,
    then the read-model cache freed (unless `options` name another `after_days_computed`)."""

    def free_cached_read_models(days: list[dt.date]) -> None:
        if not settings.redis_url:
            return
        # Cache entries are keyed by the data version, so this only frees memory early
        # (see services/readpath/cache.py); correctness does not depend on it.
        from services.readpath.cache import invalidate_after_batch

        deleted = invalidate_after_batch(settings.redis_url)
        log.info("recomputed %d day(s); freed %d cached read models", len(days), deleted)

    db.write_lock_at_begin(engine)  # SQLite: read-then-write transactions wait, never fail
    options.setdefault("after_days_computed", free_cached_read_models)
    options.setdefault("steps", load_steps(settings))  # the engine: sql or spark
    options.setdefault("clock", clock_for(settings))
    options.setdefault("partition_attempts", settings.batch_partition_attempts)
    options.setdefault("replicas", replica_engines(settings))
    options.setdefault(
        "replica_wait_sec", max(settings.db_replica_wait_sec, min_wait_sec(settings.db_replica_max_lag_ms))
    )
    return JobRunner(
        engine,
        zone=settings.zone,
        workers=workers or settings.batch_workers,
        reader_max_age_ms=settings.data_version_max_age_ms,
        **options,
    )


@functools.cache
def replica_engines(settings: Settings) -> tuple[tuple[str, sa.Engine], ...]:
    """(name, engine) of each read replica, made once per process (the runner is made per job)."""
    return tuple((replica_name(url), replica_engine(settings, url)) for url in settings.read_urls)


def show_last_successes(engine: sa.Engine) -> None:
    """The last-success gauge from the job repository, so that a restarted instance (or a
    run made by the CLI) is not mistaken for a job that never ran. Best effort: with the
    database down at start, the gauge waits for this process's first successful run."""
    try:
        with engine.connect() as conn:
            ended = repository.last_success_us(conn)
    except Exception:  # noqa: BLE001 - a start with the database down is logged, not fatal
        log.warning("could not read the jobs' last successes for the metrics", exc_info=True)
        return
    for job, ended_us in ended.items():
        BATCH_LAST_SUCCESS.labels(job).set(ended_us / 1e6)
