"""Experiment (issue 28): the stream-limit sweep as one scan of an index by viewer, measured.

    .venv/bin/python bench/bench_batch.py --plays 3000000      # loads paysystem_bench once
    .venv/bin/python bench/bench_stream_viewer_scan.py [--runs 2] [--keep-index]

The sweep needs, per viewer in start order, only the two latest running ends of the earlier
plays: a play is over the limit when the second of them is past its start. Read in the order
of an index (local_day, viewer_id, started_at_us, positions, video_id), that is one pass with
no sort and no temporary table, if the two ends can be carried from row to row. MariaDB
carries them only in user variables assigned inside the statement, whose order of evaluation
it documents as undefined: this measures what the pass would cost, it is not a way to land.

Timed against the step as it is (batch/steps/streams.py, rolled back) and the floor
(bench_batch's one GROUP BY (video, day)), on the benchmark's first day, with and without the
join to `videos` that clamps the end position to the duration: without it, each end can only
be later, so the plays found are a superset, to be settled exactly afterwards.
docs/batch-jobs.md, "The stream limit", has the figures.
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from batch.steps import streams  # noqa: E402
from bench.bench_batch import group_by_floor  # noqa: E402

DAY = dt.date(2026, 11, 1)
ZONE = ZoneInfo("Asia/Seoul")
INDEX = "ix_plays_viewer_scan"
engine = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/paysystem_bench")


def _scan_sql(clamped: bool) -> str:
    end = "LEAST(p.end_position_sec, v.duration_sec)" if clamped else "p.end_position_sec"
    join = "LEFT JOIN videos v ON v.video_id = p.video_id" if clamped else ""
    # Each `(...) IS NOT NULL` is always true: AND evaluates them left to right, so they run
    # as statements would, row by row in the index's order. @m1 >= @m2: the two latest ends
    # (microseconds times 2) of the viewer's earlier plays; 0 is no play.
    return f"""
        SELECT COUNT(*), GROUP_CONCAT(p.play_id) FROM plays p FORCE INDEX ({INDEX}) {join}
        WHERE p.local_day = '{DAY}'
          AND (@m1 := IF(p.viewer_id = @v, @m1, 0)) IS NOT NULL
          AND (@m2 := IF(p.viewer_id = @v, @m2, 0)) IS NOT NULL
          AND (@v := p.viewer_id) IS NOT NULL
          AND (@s := p.started_at_us * 2) IS NOT NULL
          AND (@over := @m2 > @s) IS NOT NULL
          AND (@e := IF({end} > p.start_position_sec,
                        @s + ({end} - p.start_position_sec) * 1000000, 0)) IS NOT NULL
          AND (@m2 := IF(@e > @m1, @m1, GREATEST(@m2, @e))) IS NOT NULL
          AND (@m1 := GREATEST(@m1, @e)) IS NOT NULL
          AND @over = 1"""


def scan(clamped: bool) -> tuple[float, set[int]]:
    with engine.connect() as c:
        c.exec_driver_sql("SET SESSION group_concat_max_len = 100000000")
        c.exec_driver_sql("SET @v := -1, @m1 := 0, @m2 := 0")
        t = time.perf_counter()
        _, ids = c.exec_driver_sql(_scan_sql(clamped)).one()
        elapsed = time.perf_counter() - t
    return elapsed, {int(i) for i in ids.split(",")} if ids else set()


def step() -> tuple[float, set[int]]:
    t = time.perf_counter()
    with engine.connect() as c:
        tx = c.begin()
        streams.compute_stream_limit(c, DAY, zone=ZONE)
        elapsed = time.perf_counter() - t
        over = {
            play_id
            for (play_id,) in c.exec_driver_sql(
                "SELECT p.play_id FROM stream_limited_plays s JOIN plays p"
                " ON p.event_id = s.event_id AND p.local_day = s.local_day"
                f" WHERE s.local_day = '{DAY}'"
            )
        }
        tx.rollback()
    return elapsed, over


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--keep-index", action="store_true")
    args = parser.parse_args()
    with engine.connect() as c:
        if not c.exec_driver_sql(f"SHOW INDEX FROM plays WHERE Key_name = '{INDEX}'").first():
            t = time.perf_counter()
            c.exec_driver_sql(
                f"CREATE INDEX {INDEX} ON plays (local_day, viewer_id, started_at_us,"
                " start_position_sec, end_position_sec, video_id)"
            )
            print(f"index built in {time.perf_counter() - t:.1f} s")
    for _ in range(args.runs):
        floor = group_by_floor(engine, [DAY])
        exact_s, exact = step()
        clamped_s, clamped = scan(clamped=True)
        bound_s, bound = scan(clamped=False)
        floor = (floor + group_by_floor(engine, [DAY])) / 2
        print(
            f"floor {floor:.2f} s | step {exact_s:.2f} s ({exact_s / floor:.2f}x), {len(exact)} over"
            f" | scan with the clamp {clamped_s:.2f} s ({clamped_s / floor:.2f}x), same plays: {clamped == exact}"
            f" | scan without {bound_s:.2f} s ({bound_s / floor:.2f}x), {len(bound)} plays,"
            f" a superset: {exact <= bound}"
        )
    if not args.keep_index:
        with engine.connect() as c:
            c.exec_driver_sql(f"DROP INDEX {INDEX} ON plays")


if __name__ == "__main__":
    main()
