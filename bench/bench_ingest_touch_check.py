"""Experiment (issue 28): what keeping the stream limit's touching plays at ingest costs, when
a viewer's latest start and latest running end are kept in a state row that ingest locks.

    .venv/bin/python bench/bench_ingest_touch_check.py [--rows 50000 --rounds 3]

Same data and floor as bench_ingest.py's SQL part (5,000 rows per statement, LOAD DATA as the
floor), in two arrival orders: random (the benchmark's) and in time order (playbacks posted
as they end). Paths: today's literal INSERT; the same INSERT plus the check (state rows read
FOR UPDATE, the in-order plays decided from them in Python, the rest by one join of their
(viewer, day) with plays through a viewer index, copies inserted, state rows upserted).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_ingest import BATCH, events, load_files, play_rows, populate, write_load_files  # noqa: E402
from services.common import db  # noqa: E402
from services.common.settings import Settings  # noqa: E402
from services.video import repository  # noqa: E402
from tests.databases import fresh_database  # noqa: E402

SPEED = 2
RECEIVED = 1_790_000_000_000_000
SETUP = [
    "CREATE TABLE IF NOT EXISTS viewer_stream_state (viewer_id BIGINT PRIMARY KEY,"
    " last_start_us BIGINT NOT NULL, last_end_scaled BIGINT NOT NULL) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS viewer_overlaps (local_day DATE NOT NULL, viewer_id BIGINT NOT NULL,"
    " started_at_us BIGINT NOT NULL, event_id VARBINARY(128) NOT NULL,"
    " PRIMARY KEY (local_day, viewer_id, started_at_us, event_id)) ENGINE=InnoDB",
]
VIEWER_INDEX = "CREATE INDEX ix_plays_viewer ON plays (viewer_id, local_day, started_at_us)"


def run_end_scaled(start_us: int, spos: int, epos: int, duration: int) -> int:
    watch = max(0, min(epos, duration) - spos)
    return start_us * SPEED + watch * 1_000_000


def checked_insert(conn, batch: list[tuple], durations: dict[int, int], stats: dict) -> None:
    viewers = sorted({r[2] for r in batch})
    ids = ",".join(map(str, viewers))
    # Lock (and create) the viewers' state rows in viewer order: one ingest of a viewer at a time.
    conn.exec_driver_sql(
        "INSERT INTO viewer_stream_state (viewer_id, last_start_us, last_end_scaled) VALUES "
        + ",".join(f"({v},-1,-1)" for v in viewers)
        + " ON DUPLICATE KEY UPDATE viewer_id = viewer_id"
    )
    state = {
        v: (s, e)
        for v, s, e in conn.exec_driver_sql(
            f"SELECT viewer_id, last_start_us, last_end_scaled FROM viewer_stream_state WHERE viewer_id IN ({ids})"
        )
    }
    assert repository.insert_plays(conn, batch, RECEIVED) == {r[0] for r in batch}
    per_viewer: dict[int, list[tuple]] = defaultdict(list)
    for r in batch:
        per_viewer[r[2]].append(r)
    copies: set[tuple] = set()
    to_read: list[tuple] = []
    updates = []
    for viewer, plays in per_viewer.items():
        plays.sort(key=lambda r: (r[3], r[0]))
        last_start, last_end = state[viewer]
        batch_max_end = -1
        earlier: list[tuple[tuple, int]] = []
        for r in plays:
            end = run_end_scaled(r[3], r[5], r[6], durations[r[1]])
            at = r[3] * SPEED
            if r[3] <= last_start or at < last_end:
                to_read.append(r)  # out of order, same instant, or touching a stored play
            if at < batch_max_end or (earlier and earlier[-1][0][3] == r[3]):
                copies.add((r[4], viewer, r[3], r[0]))
                for er, e in earlier:
                    if e > at or er[3] == r[3]:
                        copies.add((er[4], viewer, er[3], er[0]))
            batch_max_end = max(batch_max_end, end)
            earlier.append((r, end))
            last_start, last_end = max(last_start, r[3]), max(last_end, end)
        updates.append((viewer, last_start, last_end))
    stats["read"] += len(to_read)
    if to_read:
        # The plays of the same viewer on the day and the day before started within 12 h
        # before and running into or starting within the new play: one join over a temp table.
        conn.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS tmp_new (viewer_id BIGINT, local_day DATE,"
            " lo BIGINT, hi BIGINT, start_scaled BIGINT, end_scaled BIGINT, event_id VARBINARY(128)) ENGINE=MEMORY"
        )
        conn.exec_driver_sql("DELETE FROM tmp_new")
        values = []
        for r in to_read:
            end = run_end_scaled(r[3], r[5], r[6], durations[r[1]])
            lo = r[3] - 43_200_000_000
            hi = end // SPEED
            for day_sql in (f"'{r[4]}' - INTERVAL 1 DAY", f"'{r[4]}'", f"'{r[4]}' + INTERVAL 1 DAY"):
                values.append(f"({r[2]},{day_sql},{lo},{hi},{r[3] * SPEED},{end},'{r[0]}')")
        conn.exec_driver_sql(
            "INSERT INTO tmp_new (viewer_id, local_day, lo, hi, start_scaled, end_scaled, event_id) VALUES "
            + ",".join(values)
        )
        found = conn.exec_driver_sql(
            "SELECT o.local_day, o.viewer_id, o.started_at_us, o.event_id FROM tmp_new t"
            " JOIN plays o ON o.viewer_id = t.viewer_id AND o.local_day = t.local_day"
            " AND o.started_at_us BETWEEN t.lo AND t.hi"
            " JOIN videos v ON v.video_id = o.video_id"
            " WHERE o.event_id <> t.event_id AND ("
            "  (o.started_at_us * 2 >= t.start_scaled AND o.started_at_us * 2 < t.end_scaled) OR"
            "  (o.started_at_us * 2 <= t.start_scaled AND t.start_scaled < o.started_at_us * 2"
            "   + GREATEST(0, LEAST(o.end_position_sec, v.duration_sec) - o.start_position_sec) * 1000000))"
        ).fetchall()
        stats["found"] += len(found)
        copies.update((str(d), v, s, e) for d, v, s, e in found)
    if copies:
        conn.exec_driver_sql(
            "INSERT IGNORE INTO viewer_overlaps (local_day, viewer_id, started_at_us, event_id) VALUES "
            + ",".join(f"('{d}',{v},{s},'{e}')" for d, v, s, e in copies)
        )
    stats["copies"] += len(copies)
    conn.exec_driver_sql(
        "INSERT INTO viewer_stream_state (viewer_id, last_start_us, last_end_scaled) VALUES "
        + ",".join(f"({v},{s},{e})" for v, s, e in updates)
        + " ON DUPLICATE KEY UPDATE last_start_us = VALUES(last_start_us), last_end_scaled = VALUES(last_end_scaled)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    raw = events(random.Random(7), "sql", args.rows)
    orders = {"random order": play_rows(raw), "time order": play_rows(sorted(raw, key=lambda e: e[3]))}
    # play_rows gives one day to all rows; give each its real UTC day (the check reads days).
    import datetime as dt

    for name, rows in orders.items():
        orders[name] = [
            (r[0], r[1], r[2], r[3], dt.datetime.fromtimestamp(r[3] / 1e6, dt.UTC).date().isoformat(), r[5], r[6])
            for r in rows
        ]
    with tempfile.TemporaryDirectory() as tmp, fresh_database("mariadb", "paysystem_perf_", Path(tmp)) as url:
        populate(url)
        engine = db.make_engine(Settings(db_url=url), connect_args={"local_infile": True})
        with engine.begin() as conn:
            for sql in SETUP:
                conn.exec_driver_sql(sql)
            durations = dict(conn.exec_driver_sql("SELECT video_id, duration_sec FROM videos").fetchall())

        def reset(conn) -> None:
            for table in ("plays", "play_event_ids", "viewer_stream_state", "viewer_overlaps"):
                conn.exec_driver_sql(f"TRUNCATE TABLE {table}")

        def literal(conn, rows, stats) -> None:
            for i in range(0, len(rows), BATCH):
                assert repository.insert_plays(conn, rows[i : i + BATCH], RECEIVED)

        def checked(conn, rows, stats) -> None:
            for i in range(0, len(rows), BATCH):
                checked_insert(conn, rows[i : i + BATCH], durations, stats)

        def load_data(conn, rows, stats) -> None:
            assert load_files(conn, *files) == (len(rows), len(rows))

        def one_index_state(with_index: bool) -> None:
            with engine.begin() as conn:
                has = conn.exec_driver_sql("SHOW INDEX FROM plays WHERE Key_name = 'ix_plays_viewer'").fetchall()
                if with_index and not has:
                    conn.exec_driver_sql(VIEWER_INDEX)
                if not with_index and has:
                    conn.exec_driver_sql("DROP INDEX ix_plays_viewer ON plays")

        for order, rows in orders.items():
            files = write_load_files(rows, RECEIVED, Path(tmp))
            best: dict[str, float] = {}
            for n in range(args.rounds):
                for label, run, index in (
                    ("floor: LOAD DATA", load_data, False),
                    ("today: literal INSERT", literal, False),
                    ("literal INSERT + viewer index", literal, True),
                    ("INSERT + index + check", checked, True),
                ):
                    one_index_state(index)
                    with engine.begin() as conn:
                        reset(conn)
                    stats = defaultdict(int)
                    started = time.perf_counter()
                    with engine.begin() as conn:
                        run(conn, rows, stats)
                    rate = len(rows) / (time.perf_counter() - started)
                    best[label] = max(best.get(label, 0), rate)
                    extra = f" read {stats['read']}, found {stats['found']}, copies {stats['copies']}" if stats else ""
                    print(
                        f"  {order} round {n + 1}: {label}: {rate:,.0f} rows/s{extra} (load {os.getloadavg()[0]:.1f})"
                    )
            floor = best["floor: LOAD DATA"]
            for label, rate in best.items():
                print(f"{order}: {label}: best {rate:,.0f} rows/s = {rate / floor:.2f} of the floor")
        engine.dispose()


if __name__ == "__main__":
    main()
