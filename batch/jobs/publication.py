"""Publishing a run's figures: how read services learn them, and when the run may say so.

Read services trust a data version they read for a short window; the run publishes that
window before it commits any day (`Publication.announce`), and after its last commit waits
out the longer of the window it replaced and its own (services/common/dataversion.py says
why that is enough), then runs the `after_days_computed` hook (freeing cached read models).

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
from collections.abc import Callable

import sqlalchemy as sa

from batch.jobs.clock import now_us
from services.common.dataversion import announce_reader_max_age, publication_delay_sec
from services.common.metrics import BATCH_PUBLICATION_FAILURES

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Publication:
    wait_sec: float

    @classmethod
    def announce(cls, engine: sa.Engine, reader_max_age_ms: int) -> Publication:
        try:
            with engine.begin() as conn:
                previous = announce_reader_max_age(conn, reader_max_age_ms, now_us())
        except Exception:
            BATCH_PUBLICATION_FAILURES.labels("announce").inc()
            log.exception("could not publish the read services' trust window; nothing was computed")
            raise
        return cls(wait_sec=publication_delay_sec(max(previous, reader_max_age_ms)))

    def publish(self, days: list[dt.date], after_days_computed: Callable[[list[dt.date]], None] | None) -> str:
        """Waits until every read service sees `days`, then runs the hook; returns a note for
        the final event ("" when all went well)."""
        time.sleep(self.wait_sec)
        if after_days_computed is None:
            return ""
        try:
            after_days_computed(days)
        except Exception as exc:  # noqa: BLE001 - counted, logged and reported in the final event
            BATCH_PUBLICATION_FAILURES.labels("after_days").inc()
            log.exception("after_days_computed failed for %d day(s)", len(days))
            return f"; after the days were published: {type(exc).__name__}: {exc}"
        return ""
