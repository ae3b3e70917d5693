"""Spark's own floor on the plays of bench_batch, beside MariaDB's (issue 30).

Before the Spark engine is measured against the SQL engine, this measures what no Spark
computation of per-video figures can beat on this machine: one `groupBy(video_id).count()`
over the plays, read through JDBC (split into video_id ranges, as the engine splits its
partitions) and over a Parquet copy of the same rows, with

  - local[*]                   threads in this process, every core of the machine;
  - a standalone cluster of 1 worker, then of 2 workers (one core and 1g each), started
    from the pyspark package by tests/spark_cluster.py on free ports, stopped afterwards;

printed as seconds, plays/s and core-seconds per million plays (the executors' cores times
the wall time: the driver and MariaDB's own work are not counted), beside the SQL floor
measured in the same run: one GROUP BY video_id over the same rows inside MariaDB (one
core). Each figure is the best of --runs after one untimed warm-up (JIT, connections).

The plays are bench_batch's (same generator, same LOAD DATA), in their own database by
default so that a smaller run does not replace bench_batch's 3M plays:

    flock /tmp/bench.lock .venv/bin/python -m bench.bench_spark_floor --plays 300000
    flock /tmp/bench.lock .venv/bin/python -m bench.bench_spark_floor --database paysystem_bench --reuse
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import migrations
from batch.spark.session import jdbc_source, spark_session
from bench.bench_batch import SERVER, load, machine
from services.common import db
from services.common.settings import Settings
from tests.spark_cluster import SparkStandalone


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plays", type=int, default=3_000_000, help="playbacks in total (bench_batch's default)")
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--videos", type=int, default=10_000)
    p.add_argument("--viewers", type=int, default=300_000)
    p.add_argument("--database", default="paysystem_bench_spark")
    p.add_argument("--server", default=SERVER, help="SQLAlchemy URL of the server (no database)")
    p.add_argument("--timezone", default="Asia/Seoul")
    p.add_argument("--seed", type=int, default=20261101)
    p.add_argument("--reuse", action="store_true", help="keep the loaded plays")
    p.add_argument("--runs", type=int, default=3, help="timed runs of each figure (the best is printed)")
    p.add_argument("--partitions", type=int, default=8, help="JDBC partitions (video_id ranges)")
    p.add_argument("--skip-cluster", action="store_true", help="local[*] only")
    return p.parse_args()


def best_of(runs: int, action: Callable[[], object]) -> float:
    action()  # warm-up: JIT, JDBC connections, file listing
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return min(times)


def sql_floor(engine: sa.Engine, runs: int) -> float:
    def one() -> None:
        with engine.connect() as conn:
            conn.execute(
                sa.text("SELECT COUNT(*), SUM(n) FROM (SELECT video_id, COUNT(*) AS n FROM plays GROUP BY video_id) g")
            ).one()

    return best_of(runs, one)


def line(name: str, seconds: float, plays: int, cores: int, floor: float) -> str:
    return (
        f"  {name:<46} {seconds:7.2f} s  {plays / seconds:>12,.0f} plays/s"
        f"  {cores * seconds / (plays / 1e6):7.2f} core-s per M plays  {seconds / floor:5.1f} x SQL floor"
    )


def wait_executors(spark, count: int, timeout: float = 180.0) -> None:
    tracker = spark.sparkContext._jsc.sc().statusTracker()
    deadline = time.monotonic() + timeout
    while len(tracker.getExecutorInfos()) - 1 < count:  # the driver counts as one
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} executors after {timeout:.0f} s")
        time.sleep(0.2)


def spark_floors(
    spark,
    url: str,
    parquet: Path | None,
    args: argparse.Namespace,
    videos: tuple[int, int],
    sources: tuple[str, ...] = ("jdbc", "parquet"),
) -> dict[str, float]:
    """The best of args.runs seconds of one groupBy(video_id).count() per source (jdbc: the
    plays table in args.partitions video_id ranges; parquet: the folder `parquet`), by name.
    bench/bench_batch.py's Spark engine runs reuse it as their floor."""
    source = jdbc_source(url)
    lo, hi = videos

    def jdbc() -> None:
        frame = spark.read.jdbc(
            source.url,
            "plays",
            column="video_id",
            lowerBound=lo,
            upperBound=hi + 1,
            numPartitions=args.partitions,
            properties=source.properties,
        )
        frame.select("video_id").groupBy("video_id").count().collect()

    def from_parquet() -> None:
        spark.read.parquet(str(parquet)).groupBy("video_id").count().collect()

    actions = {"jdbc": jdbc, "parquet": from_parquet}
    return {name: best_of(args.runs, actions[name]) for name in sources}


def main() -> None:
    args = parse_args()
    zone = ZoneInfo(args.timezone)
    server = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with server.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{args.database}`"))
            conn.execute(sa.text(f"CREATE DATABASE `{args.database}` CHARACTER SET utf8mb4"))
    url = f"{args.server}/{args.database}"
    engine = db.make_engine(Settings(db_url=url), connect_args={"local_infile": True, "connect_timeout": 5})
    migrations.migrate(engine)
    if not args.reuse:
        load(engine, args, zone)
    with engine.connect() as conn:
        plays = conn.execute(sa.text("SELECT COUNT(*) FROM plays")).scalar_one()
        lo, hi = conn.execute(sa.text("SELECT MIN(video_id), MAX(video_id) FROM plays")).one()
        version = conn.execute(sa.text("SELECT VERSION()")).scalar_one()
    print(f"machine: {machine()}; MariaDB {version}; load average {os.getloadavg()[0]:.1f}")
    print(f"{plays:,} plays over videos {lo}..{hi}; JDBC partitions {args.partitions}; best of {args.runs} runs")

    floor = sql_floor(engine, args.runs)
    print("one GROUP BY video_id over the plays:")
    print(line("SQL floor (MariaDB, 1 core)", floor, plays, 1, floor))

    settings = Settings(batch_engine="spark", spark_master="local[*]", spark_partitions=args.partitions)
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        parquet = Path(tmp) / "plays.parquet"
        spark = spark_session(settings)
        source = jdbc_source(url)
        t0 = time.perf_counter()
        spark.read.jdbc(
            source.url,
            "plays",
            column="video_id",
            lowerBound=lo,
            upperBound=hi + 1,
            numPartitions=args.partitions,
            properties=source.properties,
        ).write.parquet(str(parquet))
        size = sum(f.stat().st_size for f in parquet.rglob("*.parquet"))
        print(f"  (Parquet copy written by local[*] in {time.perf_counter() - t0:.1f} s, {size / 2**20:.0f} MiB)")
        cores = os.cpu_count() or 1
        figures = spark_floors(spark, url, parquet, args, (lo, hi))
        spark.stop()
        print(line(f"Spark local[*] ({cores} cores), JDBC", figures["jdbc"], plays, cores, floor))
        print(line(f"Spark local[*] ({cores} cores), Parquet", figures["parquet"], plays, cores, floor))
        if not args.skip_cluster:
            for workers in (1, 2):
                with SparkStandalone(Path(tmp) / f"cluster-{workers}", workers=workers) as cluster:
                    spark = spark_session(settings.model_copy(update={"spark_master": cluster.master_url}))
                    wait_executors(spark, workers)
                    figures = spark_floors(spark, url, parquet, args, (lo, hi))
                    spark.stop()
                name = f"standalone, {workers} worker(s) x 1 core"
                print(line(f"{name}, JDBC", figures["jdbc"], plays, workers, floor))
                print(line(f"{name}, Parquet", figures["parquet"], plays, workers, floor))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    engine.dispose()
    server.dispose()


if __name__ == "__main__":
    main()
