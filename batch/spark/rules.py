"""The rules of DESIGN.md section 2 as Spark column expressions, one function per rule.

Each names the function of domain/counted_views.py that states its rule and takes its
constants from there (the SQL engine's batch/steps/fragments.py does the same): both
engines share one source of the 30 s window, the 2x speed, the cap of 10, the 300 s ad
marks and the limit of two streams.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

from domain import counted_views

_US_PER_SEC = 1_000_000

# Exclusion codes, strongest first (counted_views.Exclusion's attribution order).
PASSING, SELF_VIEW, OVERLAP, STREAM_LIMIT, REPEAT = 0, 1, 2, 3, 4


def watch_time(start: Column, end: Column, duration: Column) -> Column:
    # counted_views.watch_time_sec: min(end, duration) - start, never negative.
    return F.greatest(F.lit(0).cast("bigint"), F.least(end, duration) - start)


def ad_views(start: Column, end: Column, duration: Column) -> Column:
    # counted_views.ad_views: marks k*300 (k >= 1) with start < mark <= min(end, duration - 1).
    step = counted_views.AD_INTERVAL_SEC
    upper = F.least(end, duration - 1)
    marks = F.floor(upper / F.lit(step)) - F.floor(start / F.lit(step))
    return F.when(upper < step, F.lit(0)).otherwise(F.greatest(F.lit(0), marks)).cast("bigint")


def is_self_view(viewer: Column, seller: Column) -> Column:
    # counted_views.is_self_view (a missing video is no self-view: it is a bad row).
    return F.coalesce(viewer == seller, F.lit(False))


def is_overlap(started: Column, previous_started: Column, previous_watch: Column) -> Column:
    # counted_views.is_overlap: started < previous.started + watch(previous) / 2, exact.
    elapsed = started - previous_started
    return F.coalesce(
        elapsed * counted_views.MAX_PLAYBACK_SPEED < previous_watch * _US_PER_SEC,
        F.lit(False),
    )


def is_repeat(started: Column, previous_started: Column) -> Column:
    # counted_views.is_repeat: less than 30 s after the previous playback; 30 s apart counts.
    return F.coalesce(started - previous_started < counted_views.REPEAT_WINDOW_US, F.lit(False))


def running_end_scaled(started: Column, watch: Column) -> Column:
    # counted_views.running_end_scaled: started + watch / 2, times MAX_PLAYBACK_SPEED.
    return started * counted_views.MAX_PLAYBACK_SPEED + watch * _US_PER_SEC


def start_scaled(started: Column) -> Column:
    return started * counted_views.MAX_PLAYBACK_SPEED


def over_stream_limit(running_earlier: Column) -> Column:
    # counted_views.over_stream_limit: MAX_STREAMS or more earlier playbacks running.
    return running_earlier >= counted_views.MAX_STREAMS


def over_daily_cap(nth_passing: Column) -> Column:
    # counted_views.DAILY_VIEW_CAP: only the first 10 passing plays of a viewer, video and day.
    return nth_passing > counted_views.DAILY_VIEW_CAP


def tail_window_us(longest_duration_sec: int) -> int:
    """How far before midnight a playback may start and still run after it, or be the
    previous playback of a repeat or overlap: its video's duration / MAX_PLAYBACK_SPEED
    (rounded up to a microsecond); callers add the 30 s of rule 2 where it applies."""
    return -(-max(0, longest_duration_sec) * _US_PER_SEC // counted_views.MAX_PLAYBACK_SPEED)
