"""Benchmark of batch scale-out: the daily job with 1 vs 2 batch worker instances.

    .venv/bin/python bench/bench_batch_scaleout.py [--days 10 --plays-per-day 100000
        --partitions 8 --workers 2,4 --repeat 2]

1. A fresh MariaDB database (`paysystem_scale_bench_*`, dropped at the end) with --videos
   videos and --days x --plays-per-day plays made by SQL (setup, not measured), and one
   first run of every day (so every measured run is a RERUN of the same work).
2. `local`: the job in this process, partitions in its own thread pool (no mesh, no
   dispatch): the baseline.
3. For each --workers value W (partitions in flight at once, PAYSYSTEM_BATCH_WORKERS): a
   mesh (tests/plugins/scale.py: Envoy + two dispatching batch instances, ports
   21200-21399), then RunJob(rerun) through Envoy:
   - `1 instance`: batch-2 drained (SIGUSR1: NOT_SERVING, Envoy takes it out), so batch-1
     coordinates and runs every partition itself through Envoy;
   - `2 instances`: both in rotation; batch-1 or batch-2 coordinates, partitions go round
     robin to both.
   Each --repeat times, interleaved with the local run (the machine's load drifts); the best and the median wall time of RunJob (first event to final)
   are printed, with plays/s and where the partitions ran.

The partition work is set-based SQL inside MariaDB: a worker instance mostly waits for the
database. On one small machine that runs MariaDB too, a second worker instance therefore adds
little; it adds throughput where workers, not the database, are the limit (or where the
database is larger than the machine running the workers). Prints the machine and its load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from batch.jobs.runner import JobRunner  # noqa: E402
from paysystem.v1 import batch_pb2, batch_pb2_grpc  # noqa: E402
from services.common import db  # noqa: E402
from services.common.settings import Settings  # noqa: E402
from tests.databases import fresh_database  # noqa: E402
from tests.plugins.jobs import SEOUL, add_videos, generate_plays_in_mariadb  # noqa: E402
from tests.plugins.scale import scale_mesh  # noqa: E402

FIRST_DAY = dt.date(2026, 7, 1)


def machine(engine: sa.Engine) -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT VERSION()")).scalar_one()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, MariaDB {version}, load {load}"


def run_local(engine: sa.Engine, days: list[dt.date], workers: int) -> float:
    t0 = time.monotonic()
    events = list(
        JobRunner(engine, zone=SEOUL, workers=workers).run("daily", days[0], days[-1], rerun=True, today=days[-1])
    )
    elapsed = time.monotonic() - t0
    assert events[-1].type.value == "JOB_FINISHED", events[-1].message
    return elapsed


def run_via_envoy(mesh, token: str, days: list[dt.date]) -> tuple[float, int]:
    stub = batch_pb2_grpc.BatchServiceStub(mesh.channel())
    request = batch_pb2.RunJobRequest(job="daily", date=days[0].isoformat(), to_date=days[-1].isoformat(), rerun=True)
    t0 = time.monotonic()
    events = list(stub.RunJob(request, metadata=mesh.metadata(token), timeout=3600))
    elapsed = time.monotonic() - t0
    final = events[-1]
    assert batch_pb2.JobEventType.Name(final.type) == "JOB_FINISHED", final.message
    return elapsed, final.job_execution_id


def workers_of(engine: sa.Engine, first_execution_id: int, last_execution_id: int) -> str:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT SUBSTRING_INDEX(worker, '@', 1) AS instance, COUNT(*) AS n FROM partition_execution"
                " WHERE job_execution_id BETWEEN :a AND :b AND status = 'COMPLETED' GROUP BY instance ORDER BY instance"
            ),
            {"a": first_execution_id, "b": last_execution_id},
        ).all()
    return ", ".join(f"{r.instance}: {r.n}" for r in rows)


def last_execution_id(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT COALESCE(MAX(job_execution_id), 0) FROM job_execution")).scalar_one()


def set_drained(mesh, name: str, drained: bool) -> None:
    """SIGUSR1 toggles an instance's drain; wait until Envoy agrees."""
    if (mesh.health(name) == "NOT_SERVING") != drained:
        mesh.kill(name, signal.SIGUSR1)
    mesh.wait_until(
        lambda: mesh.envoy_hosts("batch")[name].healthy is (not drained),
        30,
        f"{name} {'out of' if drained else 'back in'} Envoy's rotation",
    )


def summary(times: list[float], plays: int) -> str:
    best, median = min(times), statistics.median(times)
    return f"best {best:6.2f} s  median {median:6.2f} s  ({plays / best:9,.0f} plays/s at best)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--plays-per-day", type=int, default=100_000)
    parser.add_argument("--videos", type=int, default=2_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--workers", default="2", help="comma-separated partitions-in-flight values, e.g. 2,4")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(args.days)]
    plays = args.days * args.plays_per_day

    with (
        tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp,
        fresh_database("mariadb", "paysystem_scale_bench_", Path(tmp)) as url,
    ):
        engine = db.make_engine(Settings(data_dir=Path(tmp), db_url=url))
        t0 = time.monotonic()
        add_videos(engine, range(1, args.videos + 1))
        generate_plays_in_mariadb(engine, days, args.plays_per_day, args.videos)
        events = list(
            JobRunner(engine, zone=SEOUL, workers=2).run(
                "daily", days[0], days[-1], partitions=args.partitions, today=days[-1]
            )
        )
        assert events[-1].type.value == "JOB_FINISHED", events[-1].message
        print(f"machine: {machine(engine)}")
        print(
            f"data: {plays:,} plays over {args.days} days, {args.videos:,} videos, {args.partitions} partitions"
            f" per day (setup and first run {time.monotonic() - t0:.1f} s)"
        )
        print("every measured run recomputes every day (rerun)")

        for workers in [int(w) for w in args.workers.split(",")]:
            print(f"\n{workers} partitions in flight")
            mesh = scale_mesh(Path(tmp) / f"mesh-{workers}", url, batch_workers=workers)
            times: dict[str, list[float]] = {"local": [], "1": [], "2": []}
            spread: dict[str, str] = {}
            with mesh:
                _, token = mesh.create_admin()
                # Interleaved, so that a change of the machine's load hits every mode alike.
                for _ in range(args.repeat):
                    times["local"].append(run_local(engine, days, workers))
                    for mode in ("1", "2"):
                        set_drained(mesh, "batch-2", mode == "1")
                        first = last_execution_id(engine) + 1
                        elapsed, last = run_via_envoy(mesh, token, days)
                        times[mode].append(elapsed)
                        spread[mode] = workers_of(engine, first, last)
            print(f"  local thread pool (no mesh) : {summary(times['local'], plays)}")
            print(f"  through Envoy, 1 instance   : {summary(times['1'], plays)}  partitions ran on: {spread['1']}")
            print(f"  through Envoy, 2 instances  : {summary(times['2'], plays)}  partitions ran on: {spread['2']}")
        print(f"\nload average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        engine.dispose()


if __name__ == "__main__":
    main()
