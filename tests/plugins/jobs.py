"""Fixtures for the batch-jobs tests: plain-SQL data writers and readers of the batch output."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from batch.tables import daily_video_stats, period_video_stats
from domain.periods import day_bounds_us
from services.video import play_counts
from tests import event_ids, reference
from tests.databases import fresh_engine

SEOUL = ZoneInfo("Asia/Seoul")
JOB_TABLES = ["partition_execution", "job_execution", "job_partition", "job_instance"]
DATA_TABLES = [
    "plays",
    "play_event_ids",
    "archived_months",
    "play_day_counts",
    "videos",
    "daily_video_stats",
    "period_video_stats",
    "computed_days",
    "stream_limited_plays",
    "video_daily_retention",
]


def add_videos(engine: sa.Engine, video_ids, *, sellers: int = 10, duration_sec: int = 1200) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
                " VALUES (:v, :s, 'v', :d, 0)"
            ),
            [{"v": v, "s": 1_000_000 + v % sellers, "d": duration_sec} for v in video_ids],
        )


def add_plays(engine: sa.Engine, plays: list[dict]) -> None:
    """plays: dicts with event_id, video_id, viewer_id, started_at_us, local_day, start, end."""
    stmt = sa.text(
        "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
        " start_position_sec, end_position_sec, received_at_us)"
        " VALUES (:event_id, :video_id, :viewer_id, :started_at_us, :local_day, :start, :end, 0)"
    ).bindparams(sa.bindparam("local_day", type_=sa.Date))
    with engine.begin() as conn:
        for i in range(0, len(plays), 5000):
            conn.execute(stmt, plays[i : i + 5000])
            event_ids.record(conn, plays[i : i + 5000])
        play_counts.add(conn, Counter(p["local_day"] for p in plays), slot=0)  # as ingest does


def expected_seller_total(
    plays: list[dict], video_ids, seller_id: int, day: dt.date | None = None, *, duration_sec: int = 1200
) -> Decimal:
    """tests/reference.py's money (video + ad revenue) of one seller over `plays` (of videos
    made by add_videos), on `day` or every day."""
    videos = [reference.Video(v, 1_000_000 + v % 10, duration_sec) for v in video_ids]
    rows = reference.compute_daily(
        videos,
        [
            reference.Play(p["event_id"], p["video_id"], p["viewer_id"], p["started_at_us"], p["start"], p["end"])
            for p in plays
        ],
        SEOUL,
    )
    return sum(
        (
            r.video_revenue + r.ad_revenue
            for r in rows.values()
            if r.seller_id == seller_id and (day is None or r.day == day)
        ),
        Decimal(0),
    )


def random_plays(
    days: list[dt.date], video_ids: list[int], per_day: int, *, seed: int = 7, prefix: str = "e", zone=SEOUL
) -> list[dict]:
    """Deterministic pseudo-random plays: some repeats, some self-views, some ads."""
    rng = random.Random(seed)
    out = []
    n = 0
    for day in days:
        start_us, end_us = day_bounds_us(day, zone)
        for _ in range(per_day):
            v = rng.choice(video_ids)
            viewer = rng.randrange(1, 400) if rng.random() < 0.97 else 1_000_000 + v % 10
            s = rng.randrange(0, 900)
            out.append(
                {
                    "event_id": f"{prefix}{n:08d}",
                    "video_id": v,
                    "viewer_id": viewer,
                    "started_at_us": rng.randrange(start_us, end_us),
                    "local_day": day,
                    "start": s,
                    "end": s + rng.randrange(0, 700),
                }
            )
            n += 1
    return out


def play(
    event_id: str, video_id: int, viewer_id: int, day: dt.date, second_of_day: int, start=0, end=400, zone=SEOUL
) -> dict:
    return {
        "event_id": event_id,
        "video_id": video_id,
        "viewer_id": viewer_id,
        "started_at_us": day_bounds_us(day, zone)[0] + second_of_day * 1_000_000,
        "local_day": day,
        "start": start,
        "end": end,
    }


def clear(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for table in [*JOB_TABLES, *DATA_TABLES]:
            conn.execute(sa.text(f"DELETE FROM {table}"))


# Fixtures of the job-repository, job-runner and ledger tests (a plugin: tests ask for them by
# name, without importing them): one migrated database per module and engine kind, emptied
# before each test.
@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def module_engine(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("jobs")
    with fresh_engine(request.param, "paysystem_jobs_", tmp) as engine:
        yield engine


@pytest.fixture
def engine(module_engine):
    clear(module_engine)
    return module_engine


def stats_snapshot(engine: sa.Engine) -> dict[str, list[tuple]]:
    """The batch's output (typed: dates and exact decimals on both engines), without the
    job_execution_id bookkeeping column."""
    d, p = daily_video_stats.c, period_video_stats.c
    with engine.connect() as conn:
        daily = conn.execute(
            sa.select(
                d.video_id,
                d.day,
                d.seller_id,
                d.views,
                d.watch_time_sec,
                d.ad_views,
                d.cum_views,
                d.cum_ad_views,
                d.video_revenue,
                d.ad_revenue,
            ).order_by(d.video_id, d.day)
        ).all()
        period = conn.execute(
            sa.select(
                p.period,
                p.period_start,
                p.video_id,
                p.seller_id,
                p.views,
                p.watch_time_sec,
                p.ad_views,
                p.video_revenue,
                p.ad_revenue,
            ).order_by(p.period, p.period_start, p.video_id)
        ).all()
    return {"daily": [tuple(r) for r in daily], "period": [tuple(r) for r in period]}


def reference_plays(plays: list[dict]) -> list[reference.Play]:
    """Plays as add_plays writes them, as tests/reference.py takes them."""
    return [
        reference.Play(p["event_id"], p["video_id"], p["viewer_id"], p["started_at_us"], p["start"], p["end"])
        for p in plays
    ]


def daily_tuples(rows) -> list[tuple]:
    """reference.compute_daily's rows in the shape of stats_snapshot(...)["daily"], sorted."""
    return sorted(
        (
            r.video_id,
            r.day,
            r.seller_id,
            r.views,
            r.watch_time_sec,
            r.ad_views,
            r.cum_views,
            r.cum_ad_views,
            r.video_revenue,
            r.ad_revenue,
        )
        for r in rows
    )


def period_tuples(rows) -> list[tuple]:
    """reference.compute_periods's rows in the shape of stats_snapshot(...)["period"], sorted."""
    return sorted(
        (
            r.period,
            r.period_start,
            r.video_id,
            r.seller_id,
            r.views,
            r.watch_time_sec,
            r.ad_views,
            r.video_revenue,
            r.ad_revenue,
        )
        for r in rows
    )


def partition_rows(engine: sa.Engine, job_execution_id: int) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT partition_key, status FROM partition_execution WHERE job_execution_id = :id"),
            {"id": job_execution_id},
        ).all()
    return {r.partition_key: r.status for r in rows}


def executions(engine: sa.Engine) -> list:
    """(execution id, day, run_kind, status) of every execution, oldest first."""
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT e.job_execution_id, i.parameters, e.run_kind, e.status, e.exit_message"
                " FROM job_execution e JOIN job_instance i ON i.job_instance_id = e.job_instance_id"
                " ORDER BY e.job_execution_id"
            )
        ).all()


def generate_plays_in_mariadb(
    engine: sa.Engine, days: list[dt.date], per_day: int, videos: int, *, prefix: str = "k", zone=SEOUL
) -> None:
    """Deterministic plays made inside MariaDB (its SEQUENCE engine): fast, and identical in
    every database they are generated in. Viewers repeat (the 30-second rule bites), videos
    1..`videos` (add them first with add_videos)."""
    with engine.begin() as conn:
        for index, day in enumerate(days):
            start_us, _ = day_bounds_us(day, zone)
            conn.execute(
                sa.text(
                    "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
                    " start_position_sec, end_position_sec, received_at_us)"
                    " SELECT CONCAT(:prefix, :index, '-', seq), 1 + MOD(seq * 7919, :videos),"
                    " 1 + MOD(seq * 104729, 3000), :start_us + MOD(seq * 1000003 * 997, 86400000000),"
                    " :day, MOD(seq * 13, 900), MOD(seq * 13, 900) + MOD(seq * 17, 700), 0"
                    f" FROM seq_1_to_{int(per_day)}"
                ).bindparams(sa.bindparam("day", type_=sa.Date)),
                {"prefix": prefix, "index": index, "videos": videos, "start_us": start_us, "day": day},
            )
        play_counts.recount(conn, days)
