"""The Spark half of bench/bench_batch.py (`--engine spark`, issue 30): the Spark engine
(batch.spark.steps, as batch/jobs/worker.py's load_steps configures it) timed on the plays
bench_batch loaded, through bench_batch's own day loop, on each master and source asked for.

Per master (local[*], or a standalone cluster of N one-core, 1g workers started here by
tests/spark_cluster.py and stopped afterwards): the session is started and its executors
awaited (untimed: a batch process keeps its session from one day to the next), Spark's floor
is measured on each source (bench/bench_spark_floor.py's spark_floors: one untimed warm-up,
which also warms the JVM for the engine's run, then the best of --floor-runs), then the
engine computes every day from nothing on each source, timed, and its outputs' checksum is
compared with the SQL engine's. The Parquet source is the plays exported once, untimed, by
services/video/parquet_history.py (what `paysystem plays export` runs) into a temporary
folder, laid out as PAYSYSTEM_SPARK_PLAYS=parquet:URI reads it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.jobs.worker import load_steps
from batch.spark.session import spark_session
from bench.bench_batch import Figure, compute_days, outputs_checksum, reset_outputs
from bench.bench_spark_floor import spark_floors, wait_executors
from services.common.settings import Settings
from services.video import parquet_history
from tests.spark_cluster import SparkStandalone

# Rows per page of the export (its default is 50,000): a row group is a page, and Spark reads a
# row group per task, so a 3M-play day in 1,000,000-row pages is 3 tasks for the read (the
# shuffles keep their partitions). (Each page used to re-read the day from its start on
# MariaDB, which larger pages only hid; fixed in parquet_history.page_query.)
EXPORT_PAGE_ROWS = 1_000_000


def export_plays(engine: sa.Engine, folder: Path) -> Path:
    """Every day of the plays into a Parquet history at `folder` (untimed by the benchmark)."""
    with engine.connect() as conn:
        first, last = conn.execute(sa.text("SELECT MIN(local_day), MAX(local_day) FROM plays")).one()
    t0 = time.perf_counter()
    digests = parquet_history.export_days(engine, first, last, folder, batch_rows=EXPORT_PAGE_ROWS)
    size = sum(f.stat().st_size for f in folder.rglob("*.parquet"))
    print(
        f"exported {sum(d.rows for d in digests):,} plays ({first}..{last}) to Parquet with"
        f" services/video/parquet_history.py in {time.perf_counter() - t0:.1f} s (untimed), {size / 2**20:.0f} MiB"
    )
    return folder


@contextlib.contextmanager
def spark_master(master: str, workdir: Path) -> Iterator[tuple[str, int, int]]:
    """(master URL, executor cores, workers to await) for `master`: local[*] or clusterN."""
    if master == "local[*]":
        yield master, os.cpu_count() or 1, 0
        return
    workers = int(master.removeprefix("cluster"))
    t0 = time.perf_counter()
    with SparkStandalone(workdir / master, workers=workers) as cluster:
        print(f"{master}: standalone master and {workers} one-core worker(s) up in {time.perf_counter() - t0:.1f} s")
        yield cluster.master_url, workers, workers


def spark_runs(
    engine: sa.Engine, args: argparse.Namespace, zone: ZoneInfo, pool, reference: tuple | None
) -> list[Figure]:
    """The Spark engine on every master and source of `args`; `reference` is the SQL engine's
    outputs_checksum (None when the SQL engine did not run: no equality check then)."""
    url = f"{args.server}/{args.database}"
    with engine.connect() as conn:
        lo, hi = (int(x) for x in conn.execute(sa.text("SELECT MIN(video_id), MAX(video_id) FROM plays")).one())
    floor_args = argparse.Namespace(partitions=args.spark_partitions, runs=args.floor_runs)
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-batch-spark-") as tmp:
        parquet = None
        if "parquet" in args.spark_sources:
            parquet = Path(args.parquet_dir or Path(tmp) / "history")
            if (parquet / parquet_history.MANIFEST).is_file():
                print(f"Parquet history reused from {parquet} (exported earlier; not checked against the table)")
            else:
                export_plays(engine, parquet)
        for master in args.spark_masters:
            with spark_master(master, Path(tmp)) as (master_url, cores, workers):
                base = Settings(
                    db_url=url, batch_engine="spark", spark_master=master_url, spark_partitions=args.spark_partitions
                )
                t0 = time.perf_counter()
                spark = spark_session(base)
                if workers:
                    wait_executors(spark, workers)
                print(f"{master}: Spark session and executors ready in {time.perf_counter() - t0:.1f} s (untimed)")
                floors = spark_floors(spark, url, parquet, floor_args, (lo, hi), tuple(args.spark_sources))
                for source in args.spark_sources:
                    plays = "jdbc" if source == "jdbc" else f"parquet:{parquet}"
                    steps = load_steps(base.model_copy(update={"spark_plays": plays}))
                    reset_outputs(engine)
                    load_before = os.getloadavg()[0]
                    timed = compute_days(engine, steps, args.partitions, zone, pool)
                    load_after = os.getloadavg()[0]
                    equal = None if reference is None else outputs_checksum(engine) == reference
                    figure = Figure(
                        "spark",
                        f"{master} {source}, {args.partitions}x{args.spark_partitions} part.",
                        timed.plays_read,
                        timed.seconds,
                        cores,
                        floors[source],
                        (load_before, load_after),
                        equal,
                    )
                    print(
                        f"{len(timed.days)} day(s), {timed.rows_written:,} daily rows;"
                        f" figures equal: {'n/a (no SQL run)' if equal is None else 'yes' if equal else 'no'}"
                    )
                    print("  " + figure.line())
                    figures.append(figure)
                spark.stop()
    return figures
