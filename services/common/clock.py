"""The platform's business clock: the instant that money dates are measured against.

"Now" decides which local day is today: which days the batch may compute (up to yesterday),
which months may be closed (those that have ended), which tier tables may still be
scheduled, when a playback was received (the ingest timing rules) and when a video, an
account, a closing, a payout's mark or an archive was recorded. Every such read asks a
`Clock` (`now_us()`, `today(zone)`) that the use case was given: a service's clock is
`ServiceContext.clock` (services/common/server.py), made from the settings at start-up by
`clock_for(settings)`; a CLI command makes its own the same way; tests pass a `FixedClock`.
Use cases default to `SYSTEM_CLOCK`, the real clock, so a composition root passes the
settings' clock explicitly.

Tests that must run the whole platform on a chosen day (the demo on the 1st of a month, on
29 February, ...) set PAYSYSTEM_TEST_NOW to an instant (`2024-02-29T12:00:00`, local to
PAYSYSTEM_TIMEZONE unless it carries an offset): `clock_for` then returns a `FixedClock` at
that instant in every process of the mesh, which inherit the variable. It moves real money
dates, so settings refuse it unless PAYSYSTEM_TEST_MODE=1 is set too
(services/common/settings.py), and every process that honours it logs a warning.

Not business time, and so never frozen nor read through a Clock: token expiry (Envoy checks
it against the real clock), job heartbeats and timings, circuit breakers, replica lag,
throttles and timeouts. Durations, deadlines and timeouts use the monotonic timers
(`time.monotonic`, `time.perf_counter`) where they are measured: they are intervals, not
instants of the calendar, and a frozen business clock must not stop them.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from typing import Protocol
from zoneinfo import ZoneInfo

from services.common.settings import Settings

log = logging.getLogger(__name__)


class Clock(Protocol):
    """What a use case asks about the business time."""

    def now_us(self) -> int:
        """The instant, µs since the epoch."""
        ...

    def today(self, zone: ZoneInfo) -> dt.date:
        """The local day of `now_us()` in `zone`."""
        ...


def _day_of(instant_us: int, zone: ZoneInfo) -> dt.date:
    return dt.datetime.fromtimestamp(instant_us / 1_000_000, zone).date()


class SystemClock:
    """The real clock."""

    def now_us(self) -> int:
        return time.time_ns() // 1000

    def today(self, zone: ZoneInfo) -> dt.date:
        return _day_of(self.now_us(), zone)

    def __repr__(self) -> str:
        return "SystemClock()"


class FixedClock:
    """A clock that stands still at an instant until moved (tests, PAYSYSTEM_TEST_NOW)."""

    def __init__(self, instant_us: int) -> None:
        self.instant_us = instant_us

    @classmethod
    def at(cls, instant: dt.datetime) -> FixedClock:
        """At an aware datetime."""
        if instant.tzinfo is None:
            raise ValueError(f"FixedClock.at needs an aware datetime, got {instant!r}")
        return cls(int(instant.timestamp()) * 1_000_000 + instant.microsecond)

    def now_us(self) -> int:
        return self.instant_us

    def today(self, zone: ZoneInfo) -> dt.date:
        return _day_of(self.instant_us, zone)

    def set(self, instant_us: int) -> None:
        self.instant_us = instant_us

    def advance(self, *, seconds: float = 0, microseconds: int = 0) -> None:
        self.instant_us += round(seconds * 1_000_000) + microseconds

    def __repr__(self) -> str:
        return f"FixedClock({self.instant_us})"


SYSTEM_CLOCK: Clock = SystemClock()


def clock_for(settings: Settings) -> Clock:
    """The business clock the settings describe: the real one, or a FixedClock at
    PAYSYSTEM_TEST_NOW (a test setting, logged as a warning once per process)."""
    frozen = settings.test_now_us
    if frozen is None:
        return SYSTEM_CLOCK
    _warn_frozen(frozen)
    return FixedClock(frozen)


@functools.cache
def _warn_frozen(instant_us: int) -> None:
    log.warning(
        "PAYSYSTEM_TEST_NOW: the business clock stands still at %s (a test setting; never in production)",
        dt.datetime.fromtimestamp(instant_us / 1_000_000, dt.UTC).isoformat(),
    )
