"""What exact money costs on the embedded SQLite: the daily batch and statement reads, timed.

Builds a synthetic SQLite database (videos of a few sellers, playbacks over some days), runs
the daily step over every day (one partition per day, as the embedded mesh's batch does) and
then reads every seller's monthly statement lines repeatedly. Run it on two checkouts to
compare (docs/decisions.md has the figures of the change to exact money):

    flock /tmp/bench.lock .venv/bin/python -m bench.bench_sqlite_money
    flock /tmp/bench.lock .venv/bin/python -m bench.bench_sqlite_money --plays 400000 --days 14
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import migrations
from batch.steps import (
    compute_day_partition,
    compute_stream_limit,
    current_play_watermark,
    finish_day,
    video_id_bounds,
)
from domain.periods import Period, day_bounds_us
from services.common import db
from services.common.settings import Settings
from services.settlement.repository import statement_lines

ZONE = ZoneInfo("Asia/Seoul")
FIRST_DAY = dt.date(2026, 11, 2)


def populate(engine: sa.Engine, *, videos: int, sellers: int, plays: int, days: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
                " VALUES (:v, :s, 'video', :d, 0)"
            ),
            [{"v": v, "s": 1 + v % sellers, "d": 300 + v % 3000} for v in range(1, videos + 1)],
        )
        rows = []
        for i in range(plays):
            day = FIRST_DAY + dt.timedelta(days=i % days)
            start_us = day_bounds_us(day, ZONE)[0] + rng.randrange(86_400) * 1_000_000
            start = rng.randrange(0, 600)
            rows.append(
                {
                    "e": f"b{i}",
                    "v": rng.randrange(1, videos + 1),
                    "w": 10_000 + rng.randrange(plays // 3 + 1),
                    "t": start_us,
                    "day": day,
                    "a": start,
                    "b": start + rng.randrange(0, 1200),
                }
            )
        conn.execute(
            sa.text(
                "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
                " start_position_sec, end_position_sec, received_at_us)"
                " VALUES (:e, :v, :w, :t, :day, :a, :b, 0)"
            ).bindparams(sa.bindparam("day", type_=sa.Date)),
            rows,
        )


def run_batch(engine: sa.Engine, days: int) -> float:
    started = time.perf_counter()
    for n in range(days):
        day = FIRST_DAY + dt.timedelta(days=n)
        with engine.connect() as conn:
            watermark = current_play_watermark(conn)
            lo, hi = video_id_bounds(conn)
        with engine.begin() as conn:
            compute_stream_limit(conn, day, zone=ZONE)
        with engine.begin() as conn:
            counts = compute_day_partition(conn, day, lo, hi, zone=ZONE)
        with engine.begin() as conn:
            finish_day(conn, day, play_id_watermark=watermark, plays_read=counts.rows_read)
    return time.perf_counter() - started


def read_statements(engine: sa.Engine, sellers: int, rounds: int) -> tuple[float, int]:
    lines = 0
    started = time.perf_counter()
    with engine.connect() as conn:
        for _ in range(rounds):
            for seller in range(1, sellers + 1):
                lines += len(statement_lines(conn, seller, Period.MONTHLY, FIRST_DAY.replace(day=1)))
    return time.perf_counter() - started, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plays", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--videos", type=int, default=5_000)
    parser.add_argument("--sellers", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20, help="statement reads per seller")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="money_bench_") as tmp:
        engine = db.make_engine(Settings(db_url=f"sqlite:///{Path(tmp) / 'bench.db'}"))
        migrations.migrate(engine)
        populate(engine, videos=args.videos, sellers=args.sellers, plays=args.plays, days=args.days)
        batch_sec = run_batch(engine, args.days)
        read_sec, lines = read_statements(engine, args.sellers, args.rounds)
        with engine.connect() as conn:
            daily_rows = conn.execute(sa.text("SELECT COUNT(*) FROM daily_video_stats")).scalar_one()
            total = conn.execute(sa.text("SELECT SUM(views) FROM daily_video_stats")).scalar_one()
        engine.dispose()
    print(
        f"{args.plays:,} plays over {args.days} days, {args.videos:,} videos: batch {batch_sec:.2f} s"
        f" ({daily_rows:,} daily rows, {total:,} views); {lines:,} statement lines read in {read_sec:.2f} s"
        f" ({lines / read_sec:,.0f} lines/s)"
    )


if __name__ == "__main__":
    main()
