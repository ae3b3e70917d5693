"""Audience retention (DESIGN.md section 2c): per video and local day, for each 1% of the
video's duration, how many counted views covered that point. Pure rules, no I/O;
docs/statistics_settlement.md ("Audience retention") states them.

* Point k (k = 0..99) is at second k * duration / 100, an exact rational: a play covers it
  when start * 100 <= k * duration < end * 100 (integers, no floats). The points a play
  covers are therefore one run [first_point, end_point): the batch counts a +1 at its first
  point and a -1 at its end, and a point's count is the running sum up to it.
* Only counted views (the plays the five rules keep, those in the day's views); a video of
  duration 0 has every point at second 0: a play covers them all when start = 0 < end.
* Stored per day as those +1/-1 sums, `point:delta` pairs joined by commas (`encode_deltas`,
  at most 100 pairs, in any order: the database builds them with GROUP_CONCAT, which has no
  portable order, and never has to pivot 100 running sums); `decode_points` gives the 100
  counts. A range is the days' counts summed point by point, with the views summed too.
"""

from __future__ import annotations

import itertools
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


def encode_deltas(deltas: dict[int, int]) -> str:
    """The stored form of a day's retention: `point:delta` pairs joined by commas, in any
    order, zeros left out; a point's count is the sum of the deltas at or before it."""
    return ",".join(f"{k}:{d}" for k, d in sorted(deltas.items()) if d)


def deltas_of(counts: Iterable[int]) -> dict[int, int]:
    """The deltas of 100 counts: each point's count minus the previous point's."""
    values = [int(c) for c in counts]
    if len(values) != POINTS:
        raise ValueError(f"retention has {POINTS} points, got {len(values)}")
    return {k: c - (values[k - 1] if k else 0) for k, c in enumerate(values)}


def decode_points(text: str) -> tuple[int, ...]:
    """The 100 counts of a stored day (encode_deltas; "" is no view)."""
    steps = [0] * POINTS
    for pair in filter(None, text.split(",")):
        point, _, delta = pair.partition(":")
        k = int(point)
        if not 0 <= k < POINTS:
            raise ValueError(f"retention point {k} outside 0..{POINTS - 1}")
        steps[k] += int(delta)
    return tuple(itertools.accumulate(steps))


def sum_points(rows: Iterable[tuple[int, ...]]) -> tuple[int, ...]:
    """The days' points summed point by point (all zeros for no day)."""
    total = [0] * POINTS
    for row in rows:
        for k, count in enumerate(row):
            total[k] += count
    return tuple(total)
