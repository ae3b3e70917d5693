"""Benchmark of the daily batch step: the SQL engine on MariaDB, and the Spark engine beside it.

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

`--engine sql,spark` times the Spark engine (batch.spark.steps, issue 30) on the same loaded
plays after the SQL engine, on each `--spark-master` (local[*]; cluster1 and cluster2: a
standalone cluster of one, then two one-core workers started by tests/spark_cluster.py) and
each `--spark-plays` source (jdbc; parquet: the plays exported once, untimed, by the project's
exporter services/video/parquet_history.py into a temporary folder). Each engine's figures
come with its own floor measured in the same run on the same source: the SQL engine's one
GROUP BY inside MariaDB; Spark's one groupBy(video_id).count() (bench/bench_spark_floor.py's).
After each Spark run its daily rows are checked against the SQL engine's (a checksum query);
bench/batch_spark.py has the Spark half.

    flock /tmp/bench.lock flock /tmp/spark.lock .venv/bin/python -m bench.bench_batch \\
        --engine sql,spark --workers 1,2 --spark-plays jdbc,parquet --plays 300000

Core-seconds per million plays = cores used x wall seconds / millions of plays read. The SQL
engine counts one MariaDB core per partition connection (--partitions; the Python driver
mostly waits on the server and is not counted); Spark counts its executors' cores (local[*]:
every core of the machine; clusterN: N one-core workers; the driver and MariaDB serving the
JDBC reads are not counted).
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
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import batch.steps
import migrations
from batch.tables import (
    computed_days,
    daily_video_stats,
    period_video_stats,
    stream_limited_plays,
    video_daily_retention,
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
    p.add_argument("--engine", default="sql", help="engines timed one after the other: sql, spark or sql,spark")
    p.add_argument(
        "--spark-master",
        default="",
        help="Spark configurations, comma-separated: local[*], cluster1, cluster2 (a standalone cluster"
        " of that many one-core workers, tests/spark_cluster.py); default local[*]",
    )
    p.add_argument("--workers", default="", help="shorthand: --workers 1,2 adds cluster1,cluster2")
    p.add_argument("--spark-plays", default="jdbc", help="the Spark engine's sources: jdbc, parquet or jdbc,parquet")
    p.add_argument(
        "--parquet-dir",
        default="",
        help="the Parquet history of the plays: exported there when it has no manifest yet, else reused"
        " (default: exported into a temporary folder, removed afterwards)",
    )
    p.add_argument("--spark-partitions", type=int, default=8, help="PAYSYSTEM_SPARK_PARTITIONS (JDBC ranges, shuffle)")
    p.add_argument("--floor-runs", type=int, default=1, help="timed runs of Spark's floor (best), after a warm-up")
    args = p.parse_args()
    args.engines = _choices(args.engine, ("sql", "spark"), "--engine")
    masters = [m for m in args.spark_master.split(",") if m] + [f"cluster{w}" for w in args.workers.split(",") if w]
    args.spark_masters = masters or ["local[*]"]
    for master in args.spark_masters:
        if master != "local[*]" and not (master.startswith("cluster") and master[7:].isdigit()):
            p.error(f"--spark-master: local[*] or clusterN, not {master!r}")
    args.spark_sources = _choices(args.spark_plays, ("jdbc", "parquet"), "--spark-plays")
    return args


def _choices(text: str, allowed: tuple[str, ...], option: str) -> list[str]:
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    wrong = [c for c in chosen if c not in allowed]
    if wrong or not chosen:
        raise SystemExit(f"{option}: one or more of {', '.join(allowed)}, comma-separated, not {text!r}")
    return chosen


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


def run_day(
    engine: sa.Engine, day: dt.date, partitions: int, zone: ZoneInfo, pool, steps: ModuleType = batch.steps
) -> tuple[int, int, float]:
    """One day as the job computes it, with the engine's `steps` (batch.steps, or
    batch.spark.steps: same API): plays read, rows written, the stream-limit step's seconds."""
    with engine.connect() as conn:
        watermark = steps.current_play_watermark(conn)
        lo, hi = steps.video_id_bounds(conn)
    step = max(1, -(-(hi - lo) // partitions))
    s0 = time.perf_counter()
    with engine.begin() as conn:
        steps.compute_stream_limit(conn, day, zone=zone)  # the viewer-keyed step, before the partitions
    stream_seconds = time.perf_counter() - s0

    def one(start: int):
        with engine.begin() as conn:
            return steps.compute_day_partition(conn, day, start, min(hi, start + step), zone=zone)

    results = list(pool.map(one, range(lo, hi, step)))
    with engine.begin() as conn:
        steps.finish_day(conn, day, play_id_watermark=watermark, plays_read=sum(r.rows_read for r in results))
    return sum(r.rows_read for r in results), sum(r.rows_written for r in results), stream_seconds


@dataclass(frozen=True)
class Timed:
    days: list[dt.date]
    plays_read: int
    rows_written: int
    seconds: float
    stream_seconds: float = 0.0  # of which the stream-limit step


def compute_days(engine: sa.Engine, steps: ModuleType, partitions: int, zone: ZoneInfo, pool) -> Timed:
    """Every day to compute, timed end to end (days_to_compute, watermark, the stream step,
    the partitions in parallel threads, finish_day)."""
    t0 = time.perf_counter()
    with engine.connect() as conn:
        days = steps.days_to_compute(conn, through=dt.date(2100, 1, 1))
    rows_read = rows_written = 0
    stream_seconds = 0.0
    for day in days:
        d0 = time.perf_counter()
        read, written, stream = run_day(engine, day, partitions, zone, pool, steps)
        rows_read += read
        rows_written += written
        stream_seconds += stream
        if len(days) <= 3:
            print(f"  day {day}: {read:,} plays -> {written:,} daily rows in {time.perf_counter() - d0:.2f} s")
    return Timed(days, rows_read, rows_written, time.perf_counter() - t0, stream_seconds)


def reset_outputs(engine: sa.Engine) -> None:
    """Forgets every computed day and its rows, so that the next run computes (and writes)
    everything again from nothing, running totals included: an engine that wrote nothing
    cannot pass the equality check on rows left by another."""
    with engine.begin() as conn:
        for table in (
            computed_days,
            stream_limited_plays,
            period_video_stats,
            daily_video_stats,
            video_daily_retention,
        ):
            conn.execute(table.delete())


def outputs_checksum(engine: sa.Engine) -> tuple:
    """A checksum of the daily rows (every column but job_execution_id), the weekly and
    monthly rows, and the stream-limited plays: row count, sum of CRC32 and XOR of 60 bits
    of MD5 of each row's text, per table. Equal tuples: the same rows (up to a hash collision)."""
    out: list = []
    with engine.connect() as conn:
        for table in (daily_video_stats, period_video_stats, stream_limited_plays):
            columns = ", ".join(f"COALESCE({c.name}, '~')" for c in table.columns if c.name != "job_execution_id")
            row = f"CONCAT_WS('|', {columns})"
            out.append(
                tuple(
                    conn.execute(
                        sa.text(
                            f"SELECT COUNT(*), COALESCE(SUM(CRC32({row})), 0),"
                            f" COALESCE(BIT_XOR(CONV(LEFT(MD5({row}), 15), 16, 10)), 0) FROM {table.name}"
                        )
                    ).one()
                )
            )
    return tuple(out)


@dataclass(frozen=True)
class Figure:
    """One engine and configuration's timed run, beside its floor on the same source."""

    engine: str
    config: str
    plays: int
    seconds: float
    cores: int
    floor: float
    load: tuple[float, float]  # 1-minute load average before and after the run
    equal: bool | None = None  # its rows equal the SQL engine's (Spark only)

    @property
    def core_seconds_per_mplays(self) -> float:
        return self.cores * self.seconds / (self.plays / 1e6)

    def line(self) -> str:
        equal = "" if self.equal is None else f"; figures equal: {'yes' if self.equal else 'no'}"
        return (
            f"{self.engine:<5} {self.config:<34} {self.seconds:8.2f} s {self.plays / self.seconds:>10,.0f} plays/s"
            f" {self.core_seconds_per_mplays:7.1f} core-s/Mplays ({self.cores} cores);"
            f" floor {self.floor:6.2f} s, job = {self.seconds / self.floor:5.1f} x floor;"
            f" load avg {self.load[0]:.1f} -> {self.load[1]:.1f}{equal}"
        )


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

    figures: list[Figure] = []
    with concurrent.futures.ThreadPoolExecutor(args.partitions) as pool:
        reference = None
        if "sql" in args.engines:
            best = None
            for run in range(args.runs):
                reset_outputs(engine)
                load_before = os.getloadavg()[0]
                timed = compute_days(engine, batch.steps, args.partitions, zone, pool)
                floor = group_by_floor(engine, timed.days)
                figure = Figure(
                    "sql",
                    f"{args.partitions} partitions",
                    timed.plays_read,
                    timed.seconds,
                    args.partitions,
                    floor,
                    (load_before, os.getloadavg()[0]),
                )
                print(
                    f"run {run + 1}: {len(timed.days)} day(s), {timed.plays_read:,} plays read (of {plays_total:,}),"
                    f" {timed.rows_written:,} daily rows, {args.partitions} partitions: {timed.seconds:.2f} s,"
                    f" {timed.plays_read / timed.seconds:,.0f} plays/s; floor (one GROUP BY over the same plays)"
                    f" {floor:.2f} s, ratio to floor {floor / timed.seconds:.2f}"
                )
                print("  " + figure.line())
                rest = timed.seconds - timed.stream_seconds
                print(
                    f"  of which the stream-limit step {timed.stream_seconds:.2f} s = {timed.stream_seconds / floor:.2f}"
                    f" x floor, the rest (partitions, finish) {rest:.2f} s = {rest / floor:.2f} x floor"
                )
                best = figure if best is None or figure.seconds < best.seconds else best
            figures.append(best)
            reference = outputs_checksum(engine)
        if "spark" in args.engines:
            from bench.batch_spark import spark_runs  # pyspark is imported only when asked for

            figures += spark_runs(engine, args, zone, pool, reference)
    print_summary(figures)
    engine.dispose()
    server.dispose()


def print_summary(figures: list[Figure]) -> None:
    """Every figure again, then the issue's two targets where the run measured them."""
    print(f"summary ({machine()}; load average now {os.getloadavg()[0]:.1f}):")
    for figure in figures:
        print("  " + figure.line())
    sql = next((f for f in figures if f.engine == "sql"), None)
    for source in ("jdbc", "parquet"):
        one = next((f for f in figures if f.config.startswith(f"cluster1 {source}")), None)
        two = next((f for f in figures if f.config.startswith(f"cluster2 {source}")), None)
        if one and two:
            speedup = one.seconds / two.seconds
            print(
                f"target: 2 workers >= 1.6x 1 worker ({source}): {speedup:.2f}x,"
                f" {'met' if speedup >= 1.6 else 'NOT met'}"
            )
    for f in figures:
        if sql is not None and f.engine == "spark":
            ratio = f.core_seconds_per_mplays / sql.core_seconds_per_mplays
            print(
                f"target: Spark core-s/Mplays <= 3x SQL's ({f.config}): {ratio:.1f}x, {'met' if ratio <= 3 else 'NOT met'}"
            )


if __name__ == "__main__":
    main()
