"""Publishing a run's figures: how read services learn them, and when the run may say so.

Read services trust a data version they read for a short window; the run publishes that
window before it commits any day (`Publication.announce`), and after its last commit waits
out the longer of the window it replaced and its own (services/readpath/dataversion.py says
why that is enough), then runs the `after_days_computed` hook (freeing cached read models). With read replicas,
it first waits until each has applied the run's commits, or for `replica_wait_sec`: a replica
that has not by then is out of use in every read service (services/readpath/replicas.py), and
the final event and the log say so.

Nothing here is swallowed: a failed announce fails the run before anything is computed; a
failed hook is logged, counted in paysystem_batch_publication_failures_total and named in
the run's final event (the figures are committed and visible: the cache is keyed by the
data version, so freeing it is only memory).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from batch.data_state import announce_reader_max_age, publication_delay_sec
from batch.jobs.clock import now_us
from services.common.metrics import BATCH_PUBLICATION_FAILURES, REPLICA_CATCH_UP
from services.readpath.replicas import wait_for_replicas

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Publication:
    wait_sec: float
    engine: sa.Engine | None = None
    # Read replicas (name, engine) and how long to wait for each to apply the run's commits.
    replicas: Sequence[tuple[str, sa.Engine]] = ()
    replica_wait_sec: float = 0.0

    @classmethod
    def announce(
        cls,
        engine: sa.Engine,
        reader_max_age_ms: int,
        *,
        replicas: Sequence[tuple[str, sa.Engine]] = (),
        replica_wait_sec: float = 0.0,
    ) -> Publication:
        try:
            with engine.begin() as conn:
                previous = announce_reader_max_age(conn, reader_max_age_ms, now_us())
        except Exception:
            BATCH_PUBLICATION_FAILURES.labels("announce").inc()
            log.exception("could not publish the read services' trust window; nothing was computed")
            raise
        wait_sec = publication_delay_sec(max(previous, reader_max_age_ms))
        return cls(wait_sec, engine, tuple(replicas), replica_wait_sec)

    def publish(self, days: list[dt.date], after_days_computed: Callable[[list[dt.date]], None] | None) -> str:
        """Waits until every read service sees `days` (every replica in use has applied
        them, then the trust window), then runs the hook; returns a note for the final
        event ("" when all went well)."""
        note = self._wait_for_replicas()
        time.sleep(self.wait_sec)
        if after_days_computed is None:
            return note
        try:
            after_days_computed(days)
        except Exception as exc:  # noqa: BLE001 - counted, logged and reported in the final event
            BATCH_PUBLICATION_FAILURES.labels("after_days").inc()
            log.exception("after_days_computed failed for %d day(s)", len(days))
            return f"{note}; after the days were published: {type(exc).__name__}: {exc}"
        return note

    def _wait_for_replicas(self) -> str:
        """services/readpath/replicas.py: a replica that has not applied the run's commits within
        replica_wait_sec is out of use in every read service by then; said here and in the log."""
        if not self.replicas or self.engine is None:
            return ""
        answers = wait_for_replicas(self.engine, self.replicas, self.replica_wait_sec)
        for answer in answers:
            REPLICA_CATCH_UP.labels(answer.name, "applied" if answer.applied else "out_of_use").inc()
            if answer.applied:
                log.info("the figures are on read %s", answer.describe(), extra={"replica": answer.name})
            else:
                log.warning("the figures are not on read %s", answer.describe(), extra={"replica": answer.name})
        return "; read " + "; ".join(answer.describe() for answer in answers)
