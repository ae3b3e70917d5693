"""Audience retention (DESIGN.md section 2c): per video and local day, for each 1% of the
video's duration, how many counted views covered that point. Pure rules, no I/O;
docs/statistics_settlement.md ("Audience retention") states them.

* Point k (k = 0..99) is at second k * duration / 100, an exact rational: a play covers it
  when start * 100 <= k * duration < end * 100 (integers, no floats). The points a play
  covers are therefore one run [first_point, end_point): the batch counts a +1 at its first
  point and a -1 at its end, and a point's count is the running sum up to it.
* Only counted views (the plays the five rules keep, those in the day's views); a video of
  duration 0 has every point at second 0: a play covers them all when start = 0 < end.
* Stored per day as the 100 counts in decimal joined by commas (`encode_points`); a range
  is the day rows summed point by point, with the views summed too.
"""

from __future__ import annotations

from collections.abc import Iterable

POINTS = 100


def first_point(start_sec: int, end_sec: int, duration_sec: int) -> int:
    """The first point a play covers (POINTS: none): the least k with k * duration >= start * 100."""
    if duration_sec == 0:
        return 0 if start_sec == 0 < end_sec else POINTS
    return min(POINTS, -(-start_sec * POINTS // duration_sec))


def end_point(end_sec: int, duration_sec: int) -> int:
    """One past the last point a play covers: the least k with k * duration >= end * 100."""
    if duration_sec == 0:
        return POINTS
    return min(POINTS, -(-end_sec * POINTS // duration_sec))


def encode_points(counts: Iterable[int]) -> str:
    values = [int(c) for c in counts]
    if len(values) != POINTS:
        raise ValueError(f"retention has {POINTS} points, got {len(values)}")
    return ",".join(str(v) for v in values)


def decode_points(text: str) -> tuple[int, ...]:
    values = tuple(int(part) for part in text.split(","))
    if len(values) != POINTS:
        raise ValueError(f"retention has {POINTS} points, got {len(values)}")
    return values


def sum_points(rows: Iterable[tuple[int, ...]]) -> tuple[int, ...]:
    """The days' points summed point by point (all zeros for no day)."""
    total = [0] * POINTS
    for row in rows:
        for k, count in enumerate(row):
            total[k] += count
    return tuple(total)
