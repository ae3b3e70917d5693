"""The read side fed by the real batch, through the API only: plays ingested with an INGEST
account, the batch run with RunJob, then every statement, top-5 list and series point of two
months that share an ISO week compared with tests/reference.py (on both meshes: SQLite and
MariaDB).

The plays are simple on purpose (each viewer's plays of a video are far apart, a few per
day): repeats within 30 seconds come only after a zero-length play, across midnight too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from domain.periods import day_bounds_us
from tests import reference

# 2014: before every other test's data, so the run needs no earlier day. The week of Monday
# 2014-09-29 ends on Sunday 2014-10-05: it lies in September and in October.
DAYS = [dt.date(2014, 9, 26) + dt.timedelta(days=i) for i in range(8)]  # Fri 26 Sep .. Fri 3 Oct
DURATIONS = (700, 1_300, 2_000)
METRICS = {"VIEWS": "views", "WATCH_TIME": "watch_time_sec"}


def _plays(zone: ZoneInfo, videos: list[int], viewers: list[int], tag: str) -> list[reference.Play]:
    plays = []
    for d, day in enumerate(DAYS):
        start_us, end_us = day_bounds_us(day, zone)
        for k in range(12):
            start = (k * 97 + d * 31) % 600
            plays.append(
                reference.Play(
                    f"{tag}-{day}-{k}",
                    videos[k % 3],
                    viewers[k % 4],
                    start_us + (k * 7_200 + 60 + d) * 1_000_000,
                    start,
                    start + 150 + (k * 131 + d * 17) % 1_200,
                )
            )
        # A zero-length play, then the same viewer and video 20 s later: a repeat, no overlap.
        at = start_us + 3_600 * 1_000_000 + 30 * 1_000_000
        plays.append(reference.Play(f"{tag}-{day}-z", videos[d % 3], viewers[1], at, 40, 40))
        plays.append(reference.Play(f"{tag}-{day}-r", videos[d % 3], viewers[1], at + 20_000_000, 40, 400))
        # 23:59:50 with zero length, then 00:00:05 of the next day: a repeat across midnight.
        plays.append(reference.Play(f"{tag}-{day}-m", videos[0], viewers[2], end_us - 10_000_000, 0, 0))
        plays.append(reference.Play(f"{tag}-{day}-n", videos[0], viewers[2], end_us + 5_000_000, 0, 350))
    return plays


def _get(mesh, path: str, token: str) -> dict:
    status, body = mesh.json("GET", path, token=token)
    assert status == 200, (path, body)
    return body


def test_every_figure_of_two_months_sharing_a_week_equals_the_reference_after_a_real_batch_run(mesh):
    zone = ZoneInfo(mesh.settings.timezone)
    seller_id, seller_token = mesh.sign_up_and_login("SELLER")
    videos = []
    for duration in DURATIONS:
        status, body = mesh.json(
            "POST", "/v1/videos", {"title": f"ref {duration}", "duration_sec": duration}, token=seller_token
        )
        assert status == 200, body
        videos.append(int(body["video_id"]))
    viewers = [mesh.sign_up_and_login("VIEWER")[0] for _ in range(3)] + [seller_id]  # the seller: self-views
    plays = _plays(zone, videos, viewers, f"ref-{seller_id}")
    _, ingest = mesh.create_account_directly("INGEST")
    status, body = mesh.record_plays(plays, ingest)
    assert status == 200 and int(body["stored"]) == len(plays), body

    _, admin = mesh.create_admin()
    last_day = DAYS[-1] + dt.timedelta(days=1)  # the plays just after the last midnight
    status, events = mesh.run_job(
        {"job": "daily", "date": DAYS[0].isoformat(), "to_date": last_day.isoformat(), "rerun": True}, admin
    )
    assert status == 200, events
    final = events[-1]
    assert final["type"] == "JOB_FINISHED", final

    catalogue = [reference.Video(v, seller_id, d) for v, d in zip(videos, DURATIONS, strict=True)]
    daily = reference.compute_daily(catalogue, plays, zone)
    expected = {"DAILY": {(r.day, r.video_id): r for r in daily.values()}}
    for period in ("WEEKLY", "MONTHLY"):
        expected[period] = dict(reference.compute_periods(daily, period))
    assert {day for day, _ in expected["DAILY"]} == {*DAYS, last_day}
    starts = {
        "DAILY": [*DAYS, last_day],
        "WEEKLY": [dt.date(2014, 9, 22), dt.date(2014, 9, 29)],
        "MONTHLY": [dt.date(2014, 9, 1), dt.date(2014, 10, 1)],
    }
    for period, period_starts in starts.items():
        for start in period_starts:
            rows = sorted((r for (s, _), r in expected[period].items() if s == start), key=lambda r: r.video_id)
            _check_statement(mesh, seller_id, seller_token, period, start, rows)
            for metric, field in METRICS.items():
                _check_top(mesh, seller_id, seller_token, period, start, metric, field, rows)
        for video in videos:
            series = _get(
                mesh,
                f"/v1/videos/{video}/stats?period={period}&from={period_starts[0]}&to={period_starts[-1]}",
                seller_token,
            )
            got = [
                (
                    p["period_start"],
                    int(p.get("views", 0)),
                    int(p.get("watch_time_sec", 0)),
                    int(p.get("ad_views", 0)),
                    Decimal(p.get("video_revenue", "0")),
                    Decimal(p.get("ad_revenue", "0")),
                )
                for p in series["points"]
            ]
            want = []
            for start in period_starts:
                r = expected[period].get((start, video))
                want.append(
                    (
                        start.isoformat(),
                        *(
                            (r.views, r.watch_time_sec, r.ad_views, r.video_revenue, r.ad_revenue)
                            if r
                            else (0, 0, 0, Decimal(0), Decimal(0))
                        ),
                    )
                )
            assert got == want, (period, video)


def _check_statement(mesh, seller_id: int, token: str, period: str, start: dt.date, rows: list) -> None:
    body = _get(mesh, f"/v1/sellers/{seller_id}/settlements?period={period}&date={start}", token)
    lines = [
        (
            int(line["video_id"]),
            int(line.get("views", 0)),
            int(line.get("ad_views", 0)),
            Decimal(line["video_revenue"]),
            Decimal(line["ad_revenue"]),
            Decimal(line["amount"]),
        )
        for line in body["lines"]
    ]
    want = [
        (r.video_id, r.views, r.ad_views, r.video_revenue, r.ad_revenue, r.video_revenue + r.ad_revenue)
        for r in rows
        if r.video_revenue + r.ad_revenue != 0
    ]
    assert lines == want, (period, start)
    total = sum((line[5] for line in want), Decimal(0))
    assert Decimal(body["total"]) == total and int(body["payable_krw"]) == int(total), (period, start)


def _check_top(
    mesh, seller_id: int, token: str, period: str, start: dt.date, metric: str, field: str, rows: list
) -> None:
    body = _get(mesh, f"/v1/sellers/{seller_id}/top-videos?period={period}&date={start}&metric={metric}", token)
    got = [(int(v["video_id"]), int(v.get(field, 0))) for v in body.get("videos", [])]
    ranked = sorted(
        ((r.video_id, getattr(r, field)) for r in rows if getattr(r, field) > 0), key=lambda item: (-item[1], item[0])
    )
    assert got == ranked[:5], (period, start, metric)
