"""The batch in a time zone with daylight saving time (America/New_York), on MariaDB and
SQLite, against tests/reference.py: the 23-hour day of 2026-03-08 and the 25-hour day of
2026-11-01, with plays in the hour before and after each clock change, in the repeated hour,
and a 30-second repeat across each of those midnights."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import batch.steps
from batch.jobs.model import EventType
from batch.jobs.runner import JobRunner
from domain.periods import day_bounds_us, local_day_of
from tests import reference
from tests.plugins.jobs import (
    add_plays,
    add_videos,
    daily_tuples,
    period_tuples,
    reference_plays,
    stats_snapshot,
)

NEW_YORK = ZoneInfo("America/New_York")
SHORT, LONG = dt.date(2026, 3, 8), dt.date(2026, 11, 1)
DAYS = [
    SHORT - dt.timedelta(days=1),
    SHORT,
    SHORT + dt.timedelta(days=1),
    LONG - dt.timedelta(days=1),
    LONG,
    LONG + dt.timedelta(days=1),
]
VIDEOS = [1, 2, 3, 4]
DURATION = 1_200


def _utc_us(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1_000_000)


def _plays() -> list[dict]:
    """Sequential plays: each viewer's plays of a video far apart, except a zero-length play
    followed 20 s later by another (a repeat, never an overlap)."""
    instants = []
    for day in DAYS:
        start, end = day_bounds_us(day, NEW_YORK)
        hours = (end - start) // 3_600_000_000
        instants += [start + h * 3_600_000_000 + 120_000_000 for h in range(hours)]  # one play an hour
    instants += [
        _utc_us("2026-03-08T06:59:59+00:00"),  # 01:59:59 EST, the last second before the jump
        _utc_us("2026-03-08T07:00:01+00:00"),  # 03:00:01 EDT
        _utc_us("2026-11-01T05:30:00+00:00"),  # 01:30 EDT, the first time
        _utc_us("2026-11-01T06:30:00+00:00"),  # 01:30 EST, the second time
    ]
    plays = []
    for n, at in enumerate(sorted(instants)):
        start = (n * 37) % 600
        plays.append(
            {
                "event_id": f"dst{n:04d}",
                "video_id": VIDEOS[n % 4],
                "viewer_id": 10 + n % 7,
                "started_at_us": at,
                "local_day": local_day_of(at, NEW_YORK),
                "start": start,
                "end": start + (n * 53) % 900,
            }
        )
    for day in (SHORT, LONG, LONG + dt.timedelta(days=1)):
        midnight = day_bounds_us(day, NEW_YORK)[0]
        for suffix, at, end in (("a", midnight - 10_000_000, 0), ("b", midnight + 10_000_000, 500)):
            plays.append(
                {
                    "event_id": f"mid{day}{suffix}",
                    "video_id": 1,
                    "viewer_id": 99,
                    "started_at_us": at,
                    "local_day": local_day_of(at, NEW_YORK),
                    "start": 0,
                    "end": end,
                }
            )
    return plays


def test_the_23_and_25_hour_days_of_new_york_match_the_reference(engine):
    add_videos(engine, VIDEOS, duration_sec=DURATION)
    plays = _plays()
    add_plays(engine, plays)
    assert {p["local_day"] for p in plays} == set(DAYS)
    per_day = {day: sum(1 for p in plays if p["local_day"] == day) for day in DAYS}
    assert per_day[SHORT] == 23 + 2 + 1 and per_day[LONG] == 25 + 2 + 2  # the hours each day has

    runner = JobRunner(
        engine, zone=NEW_YORK, workers=2, steps=batch.steps, progress_interval_sec=0.2, heartbeat_interval_sec=0.2
    )
    events = list(runner.run("daily", today=LONG + dt.timedelta(days=5)))
    assert events[-1].type is EventType.JOB_FINISHED, events[-1]

    videos = [reference.Video(v, 1_000_000 + v % 10, DURATION) for v in VIDEOS]
    rows = reference.compute_daily(videos, reference_plays(plays), NEW_YORK)
    expected_daily = daily_tuples(rows.values())
    expected_periods = period_tuples(
        [*reference.compute_periods(rows, "WEEKLY").values(), *reference.compute_periods(rows, "MONTHLY").values()]
    )
    snapshot = stats_snapshot(engine)
    assert snapshot["daily"] == expected_daily
    assert sorted(snapshot["period"]) == expected_periods
    # The midnight repeats: the second play of each pair is no view.
    flags = reference.classify({v.video_id: v for v in videos}, reference_plays(plays), NEW_YORK)
    assert [flags[f"mid{day}b"][0] for day in (SHORT, LONG)] == [False, False]
