"""The data version: what the batch has published, and how read services learn it cheaply.

Every cache key embeds the **data version**, a fingerprint of the `computed_days` table (row
count, latest day, latest `computed_at_us`, and a checksum of every `computed_at_us`). The
batch, when it finishes (or re-runs) a day, upserts that day's `computed_days` row with a new
`computed_at_us`, after the day's figures are committed: the fingerprint changes, so every
reader that sees it builds new keys and never reads the old entries again.

Reading the fingerprint on every request cost a MySQL round trip per cached read (about 50 us
of the service's CPU, and MySQL's own). `DataVersionWatch` reads it in the background
instead, every `poll_sec`, and trusts a reading only while it is younger than `max_age_sec`, counted from
the moment the query was *sent*. Older than that (the poll is late, or MySQL is down), the
request reads it itself, as before.

Why a job's result is never served stale once the job has finished, whatever each read
service is configured with: the trust window is published by the batch, in one row of
`data_publication`, and read with the version itself. A reading is trusted for the smaller
of the reader's own `max_age_sec` and the window read with it (no row: no trust, every
request reads the version). Before it commits new days, a job replaces the published window
W_old by its own W_new in one locked read-modify-write (`announce_reader_max_age`); it
commits the days at time C and waits `publication_delay_sec(max(W_old, W_new))` before it
reports the job finished, at F. A reading any reader still trusts at t >= F carries W_old or
W_new (or an older window, which the previous job waited out before W_old replaced it), was
sent at p > t - max(W_old, W_new) > C, and so sees the commit (reads run in autocommit: each
SELECT sees the latest committed data). Only durations are compared, each on its own host's
monotonic clock, so clock skew between hosts does not matter.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DataState:
    """What the batch has published: a version for cache keys and the last computed day."""

    version: str
    data_through: dt.date | None
    # The window published with it (0 when none is); None: not read from a database, no limit.
    reader_max_age_ms: int | None = None
    # Where it was read: "primary" or a read replica's name (services/readpath/readrouter.py);
    # the read it keys runs there too.
    source: str = dataclasses.field(default="primary", compare=False)


class DataVersionWatch:
    """The current DataState, from a background poll no older than `max_age_sec`.

    `read_state()` runs the query (through the MySQL circuit breaker) and raises when MySQL
    is down; `current()` then raises too once the last good reading is too old, so requests
    fail fast exactly as when they read the version themselves. With `max_age_sec` 0 every
    `current()` reads the version itself (no thread).
    """

    def __init__(self, read_state: Callable[[], DataState], *, poll_sec: float, max_age_sec: float) -> None:
        self._read_state = read_state
        self.poll_sec = poll_sec
        self.max_age_sec = max_age_sec if poll_sec > 0 else 0.0
        self._latest: tuple[DataState, float] | None = None  # (state, when its query was sent)
        self._not_before = 0.0  # readings sent before this (monotonic) are not kept
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def current(self) -> DataState:
        latest = self._latest
        if latest is not None and time.monotonic() - latest[1] < self._trusted_sec(latest[0]):
            return latest[0]
        if self.max_age_sec > 0 and self._thread is None:
            self._start()  # on first use: nothing connects when a service is built
        return self.refresh()

    def _trusted_sec(self, state: DataState) -> float:
        """How long a reading is trusted: never longer than the window published with it."""
        if state.reader_max_age_ms is None:
            return self.max_age_sec
        return min(self.max_age_sec, state.reader_max_age_ms / 1000)

    def refresh(self) -> DataState:
        sent = time.monotonic()
        state = self._read_state()
        with self._lock:
            if sent >= self._not_before and (self._latest is None or sent > self._latest[1]):
                self._latest = (state, sent)
        return state

    def forget(self) -> None:
        """Drops the reading: the next `current()` reads the version afresh (a read replica
        back in use after it was behind, whose last reading may predate what it applied)."""
        with self._lock:
            self._latest = None
            self._not_before = time.monotonic()

    def close(self) -> None:
        self._closed.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="data-version", daemon=True)
                self._thread.start()

    def _poll(self) -> None:
        failing = False
        while not self._closed.wait(self.poll_sec):
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - requests read it themselves meanwhile
                if not failing:
                    log.warning("data version poll failing (requests read it themselves): %s", exc)
                failing = True
                continue
            if failing:
                log.info("data version poll recovered")
            failing = False
