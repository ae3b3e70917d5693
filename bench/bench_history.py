"""Does a batch run cost more when the history is larger? A catch-up run over one new day,
beside 10M and beside 100M plays of history (issue #17 item 5; target: within 20%).

Each history size lives in its own MariaDB database, prepared once (`prepare`): videos, the
history's plays made inside MariaDB (its SEQUENCE engine; 3M a day by default, the platform's
size, so 10M is 4 days and 100M 34 days), the day counts and event ids as ingest would have
kept them, then every history day computed by the real batch (the prepare prints its time; it
is not the measure). Then one new day of plays arrives.

`compare` alternates between the prepared databases, `--rounds` times: each run makes the new
day due again (its computed_days row deleted, as after its plays arrived) and times
`JobRunner.run("daily")`, the production path: which days are due (the late-data check),
launch, the day's partitions, its week and month, publication. Beside it, in the same run, the
floor: one GROUP BY (video) over the new day's plays, the same rows for both sizes. It prints
each run, then per size the median seconds and the median ratio to the floor, and the
difference between the sizes.

    .venv/bin/python -m bench.bench_history prepare --history-plays 10000000
    .venv/bin/python -m bench.bench_history prepare --history-plays 100000000
    .venv/bin/python -m bench.bench_history compare --sizes 10000000 100000000 --rounds 4
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from zoneinfo import ZoneInfo

import sqlalchemy as sa

import batch.steps
import migrations
from batch.jobs.model import EventType
from batch.jobs.runner import JobRunner
from bench.bench_batch import machine
from domain.periods import day_bounds_us
from services.common import db
from services.common.settings import Settings
from services.video import play_counts
from services.video.tables import plays

SERVER = "mysql+pymysql://root@127.0.0.1:3306"
NEW_DAY = dt.date(2026, 10, 1)  # history: the days just before it
VIDEOS = 10_000
VIEWERS = 300_000


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="make one history size's database")
    prep.add_argument("--history-plays", type=int, required=True)
    prep.add_argument("--per-day", type=int, default=3_000_000, help="history plays per local day")
    prep.add_argument("--new-day-plays", type=int, default=1_000_000)
    cmp_ = sub.add_parser("compare", help="alternate catch-up runs over the prepared sizes")
    cmp_.add_argument("--sizes", type=int, nargs="+", required=True, help="history sizes prepared before")
    cmp_.add_argument("--rounds", type=int, default=4)
    for q in (prep, cmp_):
        q.add_argument("--server", default=SERVER, help="SQLAlchemy URL of the server (no database)")
        q.add_argument("--workers", type=int, default=2, help="the batch's partition workers")
        q.add_argument("--timezone", default="Asia/Seoul")
        q.add_argument("--buffer-pool-mb", type=int, default=2048, help="SET GLOBAL innodb_buffer_pool_size")
    return p.parse_args()


def database(size: int) -> str:
    return f"paysystem_history_{size}"


def engine_for(args: argparse.Namespace, size: int) -> sa.Engine:
    return db.make_engine(Settings(db_url=f"{args.server}/{database(size)}"), pool_size=args.workers + 3)


def generate(conn: sa.Connection, day: dt.date, count: int, tag: str, zone: ZoneInfo) -> None:
    """`count` deterministic plays on `day`, made inside MariaDB; viewers repeat, some soon
    after their previous play (the repeat and overlap rules bite), every video has plays."""
    start_us, _ = day_bounds_us(day, zone)
    conn.execute(
        sa.text(
            "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
            " start_position_sec, end_position_sec, received_at_us)"
            " SELECT CONCAT(:tag, '-', seq), 1 + MOD(seq * 7919, :videos), 1 + MOD(seq * 104729, :viewers),"
            " :start_us + MOD(seq * 1000003 * 997, 86340000000), :day, MOD(seq * 13, 900),"
            f" MOD(seq * 13, 900) + MOD(seq * 17, 700), 0 FROM seq_1_to_{int(count)}"
        ).bindparams(sa.bindparam("day", type_=sa.Date)),
        {"tag": tag, "videos": VIDEOS, "viewers": VIEWERS, "start_us": start_us, "day": day},
    )


def keep_as_ingest_does(conn: sa.Connection, days: list[dt.date]) -> None:
    """What ingest keeps beside the rows, for plays loaded around it: the day counts, and the
    event ids where the schema has that table."""
    if sa.inspect(conn).has_table("play_event_ids"):
        conn.execute(
            sa.text(
                "INSERT INTO play_event_ids (event_id, local_day) SELECT event_id, local_day FROM plays"
                " WHERE local_day >= :first AND local_day <= :last"
            ).bindparams(sa.bindparam("first", type_=sa.Date), sa.bindparam("last", type_=sa.Date)),
            {"first": min(days), "last": max(days)},
        )
    play_counts.recount(conn, days)


def run_daily(engine: sa.Engine, args: argparse.Namespace, zone: ZoneInfo) -> tuple[float, list[str]]:
    runner = JobRunner(engine, zone=zone, workers=args.workers, steps=batch.steps)
    t0 = time.perf_counter()
    events = list(runner.run("daily", today=NEW_DAY + dt.timedelta(days=1)))
    elapsed = time.perf_counter() - t0
    if events[-1].type is not EventType.JOB_FINISHED:
        raise SystemExit(f"the run did not finish: {events[-1].type.name} {events[-1].message}")
    return elapsed, [e.day for e in events if e.type is EventType.JOB_STARTED]


def prepare(args: argparse.Namespace, zone: ZoneInfo) -> None:
    server = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{database(args.history_plays)}`"))
        conn.execute(sa.text(f"CREATE DATABASE `{database(args.history_plays)}` CHARACTER SET utf8mb4"))
    server.dispose()
    engine = engine_for(args, args.history_plays)
    migrations.migrate(engine)
    days = -(-args.history_plays // args.per_day)
    history = [NEW_DAY - dt.timedelta(days=days - i) for i in range(days)]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
                f" SELECT seq, 1 + MOD(seq, 1000), 'v', 60 + MOD(seq * 37, 3540), 0 FROM seq_1_to_{VIDEOS}"
            )
        )
    # Load into the bare table, then build the secondary indexes by sorting (much faster than
    # keeping them row by row); the schema ends up as migrated.
    indexes = list(plays.indexes)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for ix in indexes:
            conn.execute(sa.text(f"ALTER TABLE plays DROP INDEX {ix.name}"))
    left = args.history_plays
    for i, day in enumerate(history):
        with engine.begin() as conn:
            generate(conn, day, min(args.per_day, left), f"h{i}", zone)
        left -= args.per_day
        print(f"  history day {day}: generated ({time.perf_counter() - t0:.0f} s)", flush=True)
    with engine.begin() as conn:
        for ix in indexes:
            conn.execute(sa.schema.CreateIndex(ix))
            print(f"  index {ix.name} built ({time.perf_counter() - t0:.0f} s)", flush=True)
        keep_as_ingest_does(conn, history)
        conn.execute(sa.text("ANALYZE TABLE plays, videos"))
    print(f"history: {args.history_plays:,} plays over {days} days loaded in {time.perf_counter() - t0:.0f} s")
    elapsed, computed = run_daily(engine, args, zone)
    print(f"history computed by the batch: {len(computed)} days in {elapsed:.0f} s")
    with engine.begin() as conn:
        generate(conn, NEW_DAY, args.new_day_plays, "new", zone)
        keep_as_ingest_does(conn, [NEW_DAY])
    engine.dispose()


def floor_seconds(engine: sa.Engine) -> float:
    """One GROUP BY video over the new day's plays: the least a per-video daily figure costs."""
    t0 = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(
            sa.text(
                "SELECT COUNT(*), SUM(n), SUM(w) FROM (SELECT video_id, COUNT(*) AS n,"
                " SUM(GREATEST(0, end_position_sec - start_position_sec)) AS w FROM plays"
                " WHERE local_day = :day GROUP BY video_id) g"
            ).bindparams(sa.bindparam("day", type_=sa.Date)),
            {"day": NEW_DAY},
        ).one()
    return time.perf_counter() - t0


def catch_up(engine: sa.Engine, args: argparse.Namespace, zone: ZoneInfo) -> tuple[float, float, float]:
    """(run seconds, of which the late-data check, floor seconds) for one catch-up run."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM computed_days WHERE day = :day").bindparams(sa.bindparam("day", type_=sa.Date)),
            {"day": NEW_DAY},
        )
    with engine.connect() as conn:
        c0 = time.perf_counter()
        due = batch.steps.days_to_compute(conn, through=NEW_DAY)
        check = time.perf_counter() - c0
    if due != [NEW_DAY]:
        raise SystemExit(f"expected only {NEW_DAY} due, got {due}: prepare again")
    elapsed, days = run_daily(engine, args, zone)
    if days != [NEW_DAY.isoformat()]:
        raise SystemExit(f"the run computed {days}, not only {NEW_DAY}")
    return elapsed, check, floor_seconds(engine)


def compare(args: argparse.Namespace, zone: ZoneInfo) -> None:
    engines = {size: engine_for(args, size) for size in args.sizes}
    with engines[args.sizes[0]].connect() as conn:
        version = conn.execute(sa.text("SELECT VERSION()")).scalar_one()
        pool_mb = conn.execute(sa.text("SELECT @@innodb_buffer_pool_size")).scalar_one() // 2**20
    print(f"machine: {machine()}; MariaDB {version}, buffer pool {pool_mb} MiB; load {os.getloadavg()[0]:.1f}")
    for size, engine in engines.items():
        with engine.connect() as conn:
            total = conn.execute(sa.text("SELECT COUNT(*) FROM plays")).scalar_one()
            new = conn.execute(
                sa.text("SELECT COUNT(*) FROM plays WHERE local_day = :d").bindparams(sa.bindparam("d", type_=sa.Date)),
                {"d": NEW_DAY},
            ).scalar_one()
        print(f"history {size:,}: {total:,} plays stored, {new:,} of them on the new day {NEW_DAY}")
        catch_up(engine, args, zone)  # warm-up, not counted
    results: dict[int, list[tuple[float, float, float]]] = {size: [] for size in args.sizes}
    for r in range(args.rounds):
        order = args.sizes if r % 2 == 0 else list(reversed(args.sizes))
        for size in order:
            run, check, floor = catch_up(engines[size], args, zone)
            results[size].append((run, check, floor))
            print(
                f"round {r + 1}, history {size:,}: run {run:.2f} s (late-data check {check * 1000:.1f} ms);"
                f" floor {floor:.2f} s; ratio run/floor {run / floor:.2f}; load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    medians = {}
    for size, rows in results.items():
        run = statistics.median(r[0] for r in rows)
        ratio = statistics.median(r[0] / r[2] for r in rows)
        check = statistics.median(r[1] for r in rows)
        medians[size] = (run, ratio)
        print(f"history {size:,}: median run {run:.2f} s, late-data check {check * 1000:.1f} ms, run/floor {ratio:.2f}")
    small, large = min(args.sizes), max(args.sizes)
    print(
        f"history {large:,} against {small:,}: run {100 * (medians[large][0] / medians[small][0] - 1):+.1f}%,"
        f" run/floor {100 * (medians[large][1] / medians[small][1] - 1):+.1f}% (target: within 20%)"
    )
    for engine in engines.values():
        engine.dispose()


def main() -> None:
    args = parse_args()
    zone = ZoneInfo(args.timezone)
    if args.buffer_pool_mb:
        server = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(sa.text(f"SET GLOBAL innodb_buffer_pool_size = {args.buffer_pool_mb * 2**20}"))
        server.dispose()
    prepare(args, zone) if args.command == "prepare" else compare(args, zone)


if __name__ == "__main__":
    main()
