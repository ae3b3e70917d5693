"""The parallel-stream attack through Envoy (DESIGN.md section 2 "Counted view" 5): a seller's
20 day-long videos, and one VIEWER that claims, with its own token in one POST /v1/plays:batch,
a full playback of each of the 20 every 12 hours over the last 6 days. Every claim passes
ingest (within the 7-day late window; each could have ended by the time it is recorded), and
no single video's rule sees anything wrong: the playbacks of a video are exactly 12 hours
apart, which is when the previous one (86,400 s at 2x) could have ended. Before the stream
limit the seller earned 689,040 KRW for it (240 views and 68,880 ad views); with it only two
streams at a time count. The seller earns exactly what tests/reference.py computes."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.periods import local_day_of
from tests import reference

VIDEOS = 20
DURATION = 86_400
SLOTS = 12  # every 12 hours over the last 6 days
HALF_DAY_US = 12 * 3600 * 1_000_000


def _months(days) -> list[dt.date]:
    return sorted({day.replace(day=1) for day in days})


def test_twenty_parallel_streams_of_one_viewer_earn_what_the_reference_says_two_at_a_time(mesh):
    zone = ZoneInfo(mesh.settings.timezone)
    seller_id, seller_token = mesh.sign_up_and_login("SELLER")
    videos = mesh.create_videos(seller_token, VIDEOS, duration_sec=DURATION)
    viewer_id, viewer_token = mesh.sign_up_and_login("VIEWER")

    # Ingest: started_at + watch_time / 2 <= received_at + 5 min. The last slot ends (12 h of
    # wall time at 2x) 4 minutes after now; the first started 6 days minus 4 minutes ago.
    now_us = time.time_ns() // 1000 // 1_000_000 * 1_000_000
    last = now_us - HALF_DAY_US + 240 * 1_000_000
    starts = [last - (SLOTS - 1 - k) * HALF_DAY_US for k in range(SLOTS)]
    plays = [
        reference.Play(f"stream-{viewer_id}-{k:02}-{n:02}", video, viewer_id, started, 0, DURATION)
        for k, started in enumerate(starts)
        for n, video in enumerate(videos)
    ]
    status, body = mesh.record_plays(plays, viewer_token)
    assert status == 200 and int(body["stored"]) == len(plays) == 240, body

    _, admin = mesh.create_admin()
    status, events = mesh.run_job({"job": "daily"}, admin)  # every day up to yesterday
    assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events
    today = local_day_of(now_us, zone)
    days = {local_day_of(p.started_at_us, zone) for p in plays}
    if today in days:  # the newest slots may be today: computed on request
        status, events = mesh.run_job({"job": "daily", "date": today.isoformat(), "rerun": True}, admin)
        assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events

    catalogue = [reference.Video(v, seller_id, DURATION) for v in videos]
    daily = reference.compute_daily(catalogue, plays, zone)
    expected = sum((r.video_revenue + r.ad_revenue for r in daily.values()), Decimal(0))
    views = sum(r.views for r in daily.values())
    # Only two of the 20 streams started at each instant count: 24 views of 287 ad views each.
    assert views == 2 * SLOTS and sum(r.excluded_stream_limit for r in daily.values()) == 18 * SLOTS
    assert expected == Decimal("68904.0") < Decimal("689040")

    earned = Decimal(0)
    for month in _months(days):
        status, statement = mesh.json(
            "GET", f"/v1/sellers/{seller_id}/settlements?period=MONTHLY&date={month}", token=seller_token
        )
        assert status == 200, statement
        earned += Decimal(statement["total"])
    assert earned == expected

    # Each video's series explains it: plays - excluded_stream_limit = views, no watch time
    # for the plays over the limit.
    first, last_day = min(days), max(days)
    for video in videos:
        status, series = mesh.json(
            "GET", f"/v1/videos/{video}/stats?period=DAILY&from={first}&to={last_day}", token=seller_token
        )
        assert status == 200, series
        got = {p["period_start"]: (int(p.get("views", 0)), int(p.get("plays", 0)),
                                   int(p.get("excluded_stream_limit", 0)), int(p.get("watch_time_sec", 0)))
               for p in series["points"] if int(p.get("plays", 0))}  # fmt: skip
        want = {r.day.isoformat(): (r.views, r.plays, r.excluded_stream_limit, r.watch_time_sec)
                for (v, _), r in daily.items() if v == video}  # fmt: skip
        assert got == want, video
