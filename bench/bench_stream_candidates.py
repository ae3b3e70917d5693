"""Experiment (issue 28): a cheap exact pre-filter for the stream-limit step, measured.

    .venv/bin/python bench/bench_batch.py --plays 3000000      # loads paysystem_bench once
    .venv/bin/python bench/bench_stream_candidates.py [--runs 2]

Three plays running at one instant all cover that instant's time bucket, so only the plays
in a (viewer, bucket) cell holding three or more can be over the limit or count towards it:
one GROUP BY (viewer, bucket) over the day and its tail (each play in every bucket its running
time covers, up to 7) would narrow the sweep to those. Timed here against the step as it is
(batch/steps/streams.py, rolled back) and the floor (bench_batch's one GROUP BY (video, day)),
on the benchmark's first day. docs/batch-jobs.md, "The stream limit", has the figures.
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
from domain.periods import day_bounds_us  # noqa: E402

DAY = dt.date(2026, 11, 1)
ZONE = ZoneInfo("Asia/Seoul")
engine = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/paysystem_bench")
day_start, _ = day_bounds_us(DAY, ZONE)


def floor() -> float:
    return group_by_floor(engine, [DAY])


def sweep() -> tuple[float, int]:
    t = time.perf_counter()
    with engine.connect() as c:
        tx = c.begin()
        r = streams.compute_stream_limit(c, DAY, zone=ZONE)
        tx.rollback()
    return time.perf_counter() - t, r.over_limit


def cells(width_sec: int) -> tuple[float, int, int]:
    w = 2 * width_sec * 1_000_000
    with engine.connect() as c:
        longest = c.exec_driver_sql("SELECT MAX(duration_sec) FROM videos").scalar()
        tail_start = day_start - (longest * 1_000_000 + 1) // 2
        for name, value in streams.MYSQL_SESSION_SETTINGS.items():
            c.exec_driver_sql(f"SET SESSION {name} = {int(value)}")
        c.exec_driver_sql("SET SESSION group_concat_max_len = 1000000")
        t = time.perf_counter()
        watch = "GREATEST(0, LEAST(p.end_position_sec, v.duration_sec) - p.start_position_sec)"
        plays_of = f"""SELECT p.viewer_id, p.play_id, p.started_at_us * 2 DIV {w} AS b0,
                   (p.started_at_us * 2 + {watch} * 1000000) DIV {w} AS b1
            FROM plays p LEFT JOIN videos v ON v.video_id = p.video_id WHERE """
        rows = c.exec_driver_sql(
            f"""SELECT GROUP_CONCAT(q.play_id) FROM (
                {plays_of} p.local_day = '2026-11-01'
                UNION ALL
                {plays_of} p.started_at_us >= {tail_start} AND p.started_at_us < {day_start}
            ) q JOIN (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3
                      UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6) n
              ON n.k <= q.b1 - q.b0
            GROUP BY q.viewer_id, q.b0 + n.k HAVING COUNT(*) >= 3"""
        ).fetchall()
        elapsed = time.perf_counter() - t
    ids = {int(x) for (s,) in rows for x in s.split(",")}
    return elapsed, len(rows), len(ids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    for _ in range(parser.parse_args().runs):
        print(f"floor {floor():.2f} s")
        for width in (300, 900):
            e, n, m = cells(width)
            print(f"cells W={width}s: {e:.2f} s, {n} cells, {m} candidate plays")
        e, over = sweep()
        print(f"sweep (compute_stream_limit) {e:.2f} s, {over} over")


if __name__ == "__main__":
    main()
