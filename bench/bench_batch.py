"""Benchmark of the daily batch step on MariaDB.

Generates N synthetic playbacks straight into the database `paysystem_bench` with
LOAD DATA LOCAL INFILE, then times the daily computation end to end (days_to_compute,
watermark, partitions in parallel threads on separate connections, finish_day) and
prints rows, seconds, rows/s, data size and the machine. After each run, the floor: one
GROUP BY (video, day) over the same plays, timed in the same run, and the ratio of the
job's rate to it (the machine's load moves both alike).

    .venv/bin/python -m bench.bench_batch                       # 3,000,000 plays, 1 day
    .venv/bin/python -m bench.bench_batch --plays 1000000
    .venv/bin/python -m bench.bench_batch --plays 30000000 --days 30
    .venv/bin/python -m bench.bench_batch --reuse --runs 3      # time again on loaded data

Targets (DESIGN.md section 6 / the batch brief): 3M playbacks in one day <= 4 s;
30M over 30 days <= 60 s.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import os
import platform
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
    days_to_compute,
    finish_day,
    video_id_bounds,
)
from domain.periods import day_bounds_us
from services.common import db
from services.common.settings import Settings
from services.video import play_counts
from services.video.tables import plays

SERVER = "mysql+pymysql://root@127.0.0.1:3306"
FIRST_DAY = dt.date(2026, 11, 1)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plays", type=int, default=3_000_000, help="playbacks in total")
    p.add_argument("--days", type=int, default=1, help="local days the plays are spread over")
    p.add_argument("--videos", type=int, default=10_000)
    p.add_argument("--viewers", type=int, default=300_000)
    p.add_argument("--partitions", type=int, default=2, help="partitions run in parallel threads")
    p.add_argument("--database", default="paysystem_bench")
    p.add_argument("--server", default=SERVER, help="SQLAlchemy URL of the server (no database)")
    p.add_argument("--timezone", default="Asia/Seoul")
    p.add_argument("--seed", type=int, default=20261101)
    p.add_argument("--reuse", action="store_true", help="keep the loaded plays; recompute only")
    p.add_argument("--runs", type=int, default=1, help="timed runs (each recomputes every day)")
    p.add_argument(
        "--buffer-pool-mb",
        type=int,
        default=0,
        help="SET GLOBAL innodb_buffer_pool_size first (the server default of 128 MiB holds"
        " less than 3M plays with their indexes; production sizes it to the data)",
    )
    return p.parse_args()


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def generate_csv(path: Path, args: argparse.Namespace, zone: ZoneInfo) -> int:
    """Plays in arrival order (play_id follows time). About 5% are re-plays soon after the
    previous play (most of them overlaps, some repeats), and 0.2% belong to a few hundred
    binge pairs with about 20 well spaced plays a day each, half of them over the daily cap."""
    rng = random.Random(args.seed)
    binge_pairs = [(rng.randint(1, args.videos), rng.randint(1, args.viewers)) for _ in range(300)]
    per_day = args.plays // args.days
    play_id = 0
    with path.open("w") as out:
        for d in range(args.days):
            day = FIRST_DAY + dt.timedelta(days=d)
            start_us, end_us = day_bounds_us(day, zone)
            count = per_day if d < args.days - 1 else args.plays - per_day * (args.days - 1)
            offsets = sorted(rng.randrange(end_us - start_us - 60_000_000) for _ in range(count))
            lines = []
            previous = None
            day_text = day.isoformat()
            for offset in offsets:
                play_id += 1
                draw = rng.random()
                if previous is not None and draw < 0.05:
                    video, viewer = previous  # a re-play soon after the previous one
                elif draw < 0.052:
                    video, viewer = rng.choice(binge_pairs)
                else:
                    video, viewer = rng.randint(1, args.videos), rng.randint(1, args.viewers)
                previous = (video, viewer)
                start = rng.randrange(0, 3600)
                end = start + rng.randrange(0, 1800)
                lines.append(
                    f"{play_id}\te{play_id}\t{video}\t{viewer}\t{start_us + offset}\t{day_text}"
                    f"\t{start}\t{end}\t{start_us + offset}\n"
                )
                if len(lines) >= 100_000:
                    out.writelines(lines)
                    lines.clear()
            out.writelines(lines)
    return play_id


def load(engine: sa.Engine, args: argparse.Namespace, zone: ZoneInfo) -> None:
    rng = random.Random(args.seed + 1)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
                " VALUES (:v, :s, 'bench', :d, 0)"
            ),
            [{"v": v, "s": 1 + v % 1000, "d": rng.randrange(60, 3600)} for v in range(1, args.videos + 1)],
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plays.tsv"
        t0 = time.perf_counter()
        rows = generate_csv(path, args, zone)
        t1 = time.perf_counter()
        # Load into the bare table, then build the secondary indexes by sorting (much
        # faster than maintaining them row by row); the schema ends up as migrated.
        indexes = [ix for ix in plays.indexes] + [c for c in plays.constraints if isinstance(c, sa.UniqueConstraint)]
        with engine.begin() as conn:
            for ix in indexes:
                conn.execute(sa.text(f"ALTER TABLE plays DROP INDEX {ix.name}"))
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(
                f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE plays"
                " (play_id, event_id, video_id, viewer_id, started_at_us, local_day,"
                " start_position_sec, end_position_sec, received_at_us)"
            )
            raw.commit()
        finally:
            raw.close()
        t2 = time.perf_counter()
        with engine.begin() as conn:
            for ix in indexes:
                if isinstance(ix, sa.Index):
                    conn.execute(sa.schema.CreateIndex(ix))
                else:
                    columns = ", ".join(c.name for c in ix.columns)
                    conn.execute(sa.text(f"ALTER TABLE plays ADD CONSTRAINT {ix.name} UNIQUE ({columns})"))
            play_counts.recount(conn)  # the load bypassed ingest, which keeps the day counts
        t3 = time.perf_counter()
    print(
        f"generated {rows:,} plays in {t1 - t0:.1f} s; LOAD DATA {t2 - t1:.1f} s"
        f" ({rows / (t2 - t1):,.0f} rows/s); secondary indexes {t3 - t2:.1f} s"
    )
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE TABLE plays, videos"))


def run_day(engine: sa.Engine, day: dt.date, partitions: int, zone: ZoneInfo, pool) -> tuple[int, int]:
    with engine.connect() as conn:
        watermark = current_play_watermark(conn)
        lo, hi = video_id_bounds(conn)
    step = max(1, -(-(hi - lo) // partitions))
    with engine.begin() as conn:
        compute_stream_limit(conn, day, zone=zone)  # the viewer-keyed step, before the partitions

    def one(start: int):
        with engine.begin() as conn:
            return compute_day_partition(conn, day, start, min(hi, start + step), zone=zone)

    results = list(pool.map(one, range(lo, hi, step)))
    with engine.begin() as conn:
        finish_day(conn, day, play_id_watermark=watermark, plays_read=sum(r.rows_read for r in results))
    return sum(r.rows_read for r in results), sum(r.rows_written for r in results)


def group_by_floor(engine: sa.Engine, days: list[dt.date]) -> float:
    """Seconds of one GROUP BY (video, day) over the plays of `days`, inside the database as
    the job runs: the least any computation of per-video daily figures could cost here."""
    if not days:
        return 0.0
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT COUNT(*), SUM(n), SUM(w) FROM (SELECT video_id, local_day, COUNT(*) AS n,"
                " SUM(GREATEST(0, end_position_sec - start_position_sec)) AS w FROM plays"
                " WHERE local_day >= :first AND local_day <= :last GROUP BY video_id, local_day) g"
            ).bindparams(sa.bindparam("first", type_=sa.Date), sa.bindparam("last", type_=sa.Date)),
            {"first": min(days), "last": max(days)},
        ).one()
    return time.perf_counter() - t0


def main() -> None:
    args = parse_args()
    zone = ZoneInfo(args.timezone)
    server = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    if args.buffer_pool_mb:
        with server.connect() as conn:
            conn.execute(sa.text(f"SET GLOBAL innodb_buffer_pool_size = {args.buffer_pool_mb * 2**20}"))
    if not args.reuse:
        with server.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{args.database}`"))
            conn.execute(sa.text(f"CREATE DATABASE `{args.database}` CHARACTER SET utf8mb4"))
    # LOAD DATA LOCAL needs the client's permission: only this benchmark's engine asks for it.
    engine = db.make_engine(
        Settings(db_url=f"{args.server}/{args.database}"),
        pool_size=args.partitions + 2,
        connect_args={"local_infile": True, "connect_timeout": 5},
    )
    migrations.migrate(engine)  # a reused database may predate the newest revision
    if not args.reuse:
        load(engine, args, zone)

    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT VERSION()")).scalar_one()
        pool_mb = conn.execute(sa.text("SELECT @@innodb_buffer_pool_size")).scalar_one() // 2**20
        size = conn.execute(
            sa.text(
                "SELECT table_name, table_rows, data_length, index_length FROM information_schema.tables"
                " WHERE table_schema = :s AND table_name IN ('plays', 'daily_video_stats')"
            ),
            {"s": args.database},
        ).all()
        plays_total = conn.execute(sa.text("SELECT COUNT(*) FROM plays")).scalar_one()
    print(
        f"machine: {machine()}; MariaDB {version}, innodb_buffer_pool_size {pool_mb} MiB;"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    for name, approx_rows, data, index in size:
        print(f"table {name}: ~{approx_rows:,} rows, data {data / 2**20:.0f} MiB, indexes {index / 2**20:.0f} MiB")

    with concurrent.futures.ThreadPoolExecutor(args.partitions) as pool:
        for run in range(args.runs):
            if run > 0 or args.reuse:
                with engine.begin() as conn:
                    conn.execute(sa.text("DELETE FROM computed_days"))
            t0 = time.perf_counter()
            with engine.connect() as conn:
                days = days_to_compute(conn, through=dt.date(2100, 1, 1))
            rows_read = rows_written = 0
            for day in days:
                d0 = time.perf_counter()
                read, written = run_day(engine, day, args.partitions, zone, pool)
                rows_read += read
                rows_written += written
                if len(days) <= 3:
                    print(f"  day {day}: {read:,} plays -> {written:,} daily rows in {time.perf_counter() - d0:.2f} s")
            elapsed = time.perf_counter() - t0
            floor = group_by_floor(engine, days)
            print(
                f"run {run + 1}: {len(days)} day(s), {rows_read:,} plays read (of {plays_total:,}),"
                f" {rows_written:,} daily rows, {args.partitions} partitions: {elapsed:.2f} s,"
                f" {rows_read / elapsed:,.0f} plays/s; floor (one GROUP BY over the same plays) {floor:.2f} s,"
                f" ratio to floor {floor / elapsed:.2f}"
            )
    engine.dispose()
    server.dispose()


if __name__ == "__main__":
    main()
