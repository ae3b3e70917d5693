"""The platform's business clock: the instant that money dates are measured against.

"Now" decides which local day is today: which days the batch may compute (up to yesterday),
which months may be closed (those that have ended), which tier tables may still be
scheduled, when a playback was received (the ingest timing rules) and when a video was
created or a month closed. Every such read goes through `now_us()` or `today(zone)` here.

Tests that must run the whole platform on a chosen day (the demo on the 1st of a month, on
29 February, ...) set PAYSYSTEM_TEST_NOW to an instant (`2024-02-29T12:00:00`, local to
PAYSYSTEM_TIMEZONE unless it carries an offset): the clock then stands still at that instant
in every process of the mesh, which inherit the variable. It moves real money dates, so
settings refuse it unless PAYSYSTEM_TEST_MODE=1 is set too (services/common/settings.py),
and every process that honours it logs a warning at start-up.

Not business time, and so never frozen: token expiry (Envoy checks it against the real
clock), job heartbeats and timings, circuit breakers, replica lag, throttles and timeouts.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from zoneinfo import ZoneInfo

from services.common.settings import get_settings

log = logging.getLogger(__name__)


@functools.cache
def _frozen_us() -> int | None:
    """The test instant in µs since the epoch, or None for the real clock (read once)."""
    frozen = get_settings().test_now_us
    if frozen is not None:
        log.warning(
            "PAYSYSTEM_TEST_NOW: the business clock stands still at %s (a test setting; never in production)",
            dt.datetime.fromtimestamp(frozen / 1_000_000, dt.UTC).isoformat(),
        )
    return frozen


def now_us() -> int:
    """The business clock's instant, µs since the epoch."""
    frozen = _frozen_us()
    return time.time_ns() // 1000 if frozen is None else frozen


def today(zone: ZoneInfo) -> dt.date:
    """The local day of `now_us()` in `zone`."""
    return dt.datetime.fromtimestamp(now_us() / 1_000_000, zone).date()
