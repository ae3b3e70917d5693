"""Realtime (estimated) figures, DESIGN 2c: playbacks per minute over the last 60 minutes and
per hour over the last 48 hours, per seller and per video, counted at ingest.

The bucket time is the playback's start (`started_at`), not the time it was received:
* the batch's final figures count a playback on the local day it started, so the estimate
  and the figures that replace it put a playback in the same place;
* a backfill (an INGEST account may import any past day) does not draw a spike of "now" on
  the chart: yesterday's playbacks imported today land yesterday, and a month imported
  today lands outside the window;
* the play history keeps an index on started_at (ix_plays_started), so the store without
  Redis reads a window's plays as one index range (services/video/realtime.py).
A playback reported at its end still lands within seconds in the minute it started (visible
at once in the chart, in an earlier minute). A start in the future (the ingest allows
FUTURE_ALLOWANCE_US of clock drift) is counted but shown only once its minute has come.

Only the self-view rule applies (a seller's playback of their own video is left out): the
other counted-view rules need the neighbouring playbacks (DESIGN 2), which is the batch's work.
Plain values; no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

MINUTE_US = 60 * 1_000_000
HOUR_US = 60 * MINUTE_US
MINUTES = 60
HOURS = 48


def minute_start(instant_us: int) -> int:
    """The start of the UTC minute holding `instant_us` (µs since the epoch)."""
    return instant_us - instant_us % MINUTE_US


def hour_start(instant_us: int) -> int:
    return instant_us - instant_us % HOUR_US


def window_start(now_us: int) -> int:
    """The first instant the figures at `now_us` count: the start of the oldest of the 48 hours
    (the current hour is the last). The 60 minutes lie inside it."""
    return hour_start(now_us) - (HOURS - 1) * HOUR_US


def window_end(now_us: int) -> int:
    """The first instant after the window: the end of the current minute."""
    return minute_start(now_us) + MINUTE_US


def in_window(started_at_us: int, now_us: int) -> bool:
    """Whether a playback counts in some bucket at `now_us` or later (a future start waits for
    its minute; one older than the window never counts again)."""
    return started_at_us >= window_start(now_us)


def is_counted(viewer_id: int, seller_id: int) -> bool:
    """The self-view rule (DESIGN 2, rule 1): a seller's playback of their own video is not a view."""
    return viewer_id != seller_id


@dataclasses.dataclass(frozen=True)
class Point:
    start_us: int
    playbacks: int


@dataclasses.dataclass(frozen=True)
class Realtime:
    """The figures at `now_us`: `minutes`, 60 points, the last one the current minute; `hours`,
    48 points, the last one the current hour (so far)."""

    now_us: int
    minutes: tuple[Point, ...]
    hours: tuple[Point, ...]

    @property
    def last_60_minutes(self) -> int:
        return sum(p.playbacks for p in self.minutes)

    @property
    def last_48_hours(self) -> int:
        return sum(p.playbacks for p in self.hours)


def figures(now_us: int, per_minute: Mapping[int, int]) -> Realtime:
    """The figures at `now_us` of playbacks counted per minute start (µs); minutes outside the
    window (older, or after the current minute) are left out."""
    current_minute = minute_start(now_us)
    minutes = tuple(
        Point(start, per_minute.get(start, 0))
        for start in range(current_minute - (MINUTES - 1) * MINUTE_US, current_minute + 1, MINUTE_US)
    )
    first_hour = window_start(now_us)
    hourly = dict.fromkeys(range(first_hour, first_hour + HOURS * HOUR_US, HOUR_US), 0)
    for start, count in per_minute.items():
        hour = hour_start(start)
        if hour in hourly and start <= current_minute:
            hourly[hour] += count
    hours = tuple(Point(start, count) for start, count in hourly.items())
    return Realtime(now_us, minutes, hours)


def per_minute(started_at_us: Iterable[int]) -> dict[int, int]:
    """Playbacks per minute start, from the start instants of the counted playbacks."""
    counts: dict[int, int] = {}
    for at in started_at_us:
        minute = minute_start(at)
        counts[minute] = counts.get(minute, 0) + 1
    return counts
