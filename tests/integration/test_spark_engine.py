"""The Spark engine (batch/spark/steps.py) against the SQL engine (batch/steps) on real MariaDB
and a real local[2] Spark session: on the same database state both engines write the same
daily, weekly and monthly rows, the same stream_limited_plays and the same audience
retention rows, equal to tests/reference.py's; the plays read through JDBC or from a Parquet history (the midnight,
late-data and DST cases from both, the history written by the project's export); a job run
end to end with the Spark engine, its partitions and its stream-limit step streaming Spark's
progress."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batch.spark.steps
import batch.steps
from batch.jobs.model import EventType
from batch.jobs.runner import JobRunner
from batch.jobs.worker import load_steps
from batch.steps import video_id_bounds
from domain.periods import day_bounds_us
from services.common.settings import Settings
from services.video import parquet_history
from tests.databases import fresh_database
from tests.integration.conftest import SEOUL, BatchData
from tests.integration.test_daily_step_property import plays_strategy
from tests.reference import (
    DESIGN_TIERS,
    Play,
    Seed,
    TierRow,
    Video,
    compute_daily,
    compute_periods,
    compute_retention,
)

NEW_YORK = ZoneInfo("America/New_York")
SUN, MON, TUE = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
S = 1_000_000
SELLER = 1000
# A partition's PARTITION_PROGRESS message on the Spark engine (batch/spark/progress.py).
SPARK_PROGRESS = re.compile(r"spark: (\d+)/(\d+) tasks, (\d+)/(\d+) stages of \d+ jobs?, ([\d,]+) rows read")


@pytest.fixture(scope="module")
def spark_db(tmp_path_factory, spark_local, spark_settings):
    """A fresh MariaDB database and the Spark steps configured to read it."""
    with fresh_database("mariadb", "paysystem_spark_engine_", tmp_path_factory.mktemp("spark")) as url:
        engine = sa.create_engine(url)
        settings = spark_settings.model_copy(update={"db_url": url, "spark_partitions": 2})
        batch.spark.steps.configure(settings)
        yield engine, settings
        engine.dispose()


def at(day: dt.date, hh: int = 12, mm: int = 0, ss: float = 0, zone: ZoneInfo = SEOUL) -> int:
    return day_bounds_us(day, zone)[0] + int((hh * 3600 + mm * 60 + ss) * S)


def p(eid: str, video: int, viewer: int, started: int, start: int = 0, end: int = 10) -> Play:
    return Play(eid, video, viewer, started, start, end)


def both_engines(
    engine: sa.Engine,
    videos: list[Video],
    arrivals: list[list[Play]],
    *,
    zone: ZoneInfo = SEOUL,
    seeds: dict[int, Seed] | None = None,
    tiers: list[TierRow] = DESIGN_TIERS,
    partitions: int = 1,
    parquet: tuple[Settings, Path] | None = None,
) -> dict:
    """Runs the arrivals (each followed by a run of every pending day, so a later arrival is
    late data) once per engine from the same empty state; asserts both engines' rows equal
    and equal to the reference. With `parquet` (the Spark settings and a folder), the Spark
    engine runs once more reading the plays from a Parquet history that the project's export
    (services/video/parquet_history.py) rewrites after each arrival. Returns the daily rows."""
    runs: list[tuple[ModuleType, Path | None]] = [(batch.steps, None), (batch.spark.steps, None)]
    if parquet is not None:
        runs.append((batch.spark.steps, parquet[1]))
    results = []
    for steps, history in runs:
        data = BatchData(engine, zone, steps=steps)
        data.clear()
        data.set_tiers(tiers)
        data.add_videos(videos)
        if seeds:
            data.add_seeds(seeds, {v.video_id: v.seller_id for v in videos})
        with reading_plays_from(parquet[0] if parquet else None, history):
            for arrival in arrivals:
                data.add_plays(arrival)
                if history is not None:
                    with engine.connect() as conn:
                        first, last = conn.execute(sa.text("SELECT MIN(local_day), MAX(local_day) FROM plays")).one()
                    parquet_history.export_days(engine, first, last, history)
                for day in data.days_to_compute(dt.date(2100, 1, 1)):
                    data.compute_day(day, partitions=partitions)
        assert data.days_to_compute(dt.date(2100, 1, 1)) == []
        results.append(
            (
                data.daily_rows(),
                data.period_rows("WEEKLY"),
                data.period_rows("MONTHLY"),
                data.table_snapshot("stream_limited_plays"),
                data.retention_rows(),
            )
        )
    sql, *spark = results
    for other in spark:
        assert other == sql
    plays = [play for arrival in arrivals for play in arrival]
    expected = compute_daily(videos, plays, zone, tiers=tiers, seeds=seeds)
    seeded = {(v, s.day) for v, s in (seeds or {}).items()}
    assert {k: r for k, r in sql[0].items() if k not in seeded} == expected
    assert sql[4] == compute_retention(videos, plays, zone)
    if not seeds:  # a seed's daily row is not the reference's
        assert sql[1] == compute_periods(expected, "WEEKLY")
        assert sql[2] == compute_periods(expected, "MONTHLY")
    return sql[0]


@contextlib.contextmanager
def reading_plays_from(settings: Settings | None, history: Path | None) -> Iterator[None]:
    """The Spark steps reading the plays from the Parquet history `history` meanwhile."""
    if settings is None or history is None:
        yield
        return
    batch.spark.steps.configure(settings.model_copy(update={"spark_plays": f"parquet:{history}"}))
    try:
        yield
    finally:
        batch.spark.steps.configure(settings)


def test_rule_boundaries_ties_and_ads(spark_db):
    engine, _ = spark_db
    videos = [Video(1, SELLER, 1000), Video(2, SELLER, 601), Video(3, SELLER, 0)]
    day = [
        # 29, 30 and 31 s repeats
        p("r1", 1, 7, at(MON, 9)),
        p("r2", 1, 7, at(MON, 9, 0, 29.999999)),
        p("r3", 1, 7, at(MON, 9, 1)),
        p("r4", 1, 7, at(MON, 9, 1, 31)),
        # overlap exactly at and just before half the previous watch time (601 s runs 300.5 s)
        p("o1", 2, 8, at(MON, 10), 0, 601),
        p("o2", 2, 8, at(MON, 10, 5, 0.499999), 0, 10),
        p("o3", 2, 8, at(MON, 11), 0, 601),
        p("o4", 2, 8, at(MON, 11, 5, 0.5), 0, 900),
        # ties on started_at by event_id byte-wise ('a' < 'a\t' < 'b'; 'B' < 'a')
        p("a", 1, 9, at(MON, 13)),
        p("a\t", 1, 9, at(MON, 13)),
        p("B", 1, 9, at(MON, 13)),
        # self-views, clamped positions, start == end, ad marks at the edges
        p("s1", 1, SELLER, at(MON, 14), 0, 900),
        p("c1", 1, 11, at(MON, 15), 299, 5000),
        p("c2", 1, 12, at(MON, 15), 300, 300),
        p("c3", 1, 13, at(MON, 15), 0, 300),
        p("c4", 2, 13, at(MON, 15), 0, 600),
        p("z1", 3, 14, at(MON, 15), 0, 0),
    ]
    both_engines(engine, videos, [day], partitions=2)


def test_cap_stream_limit_and_midnight_with_late_data(spark_db, tmp_path):
    engine, settings = spark_db
    videos = [Video(v, SELLER, 1000) for v in (1, 2, 3)] + [Video(4, 7, 1000)]
    first = [p(f"cap{i:02d}", 1, 7, at(MON, 8, i)) for i in range(12)]  # 12 plays a minute apart
    first += [
        p("t1", 2, 7, at(MON, 8, 3, 30), 0, 600),  # two long streams ...
        p("t2", 3, 7, at(MON, 8, 3, 30), 0, 600),
        p("t3", 4, 7, at(MON, 8, 4, 10), 0, 600),  # ... a self-view runs too
        p("m1", 2, 8, at(TUE, 0, 0, 10)),
        p("m2", 3, 8, at(TUE, 0, 1), 0, 1000),
    ]
    late = [
        p("late1", 2, 8, at(MON, 23, 59, 50), 0, 100),  # makes m1 a repeat across midnight
        p("late2", 1, 8, at(MON, 23, 55), 0, 1000),  # streams across midnight ...
        p("late3", 3, 8, at(MON, 23, 56), 0, 1000),  # ... so m2 is over the limit
        p("late4", 1, 7, at(MON, 7, 59, 59)),  # pushes the 10th view of MON to 11th
    ]
    both_engines(engine, videos, [first, late], parquet=(settings, tmp_path))


def test_tier_crossings_from_seeds_and_a_rerun(spark_db):
    engine, _ = spark_db
    videos = [Video(1, SELLER, 1000), Video(2, SELLER, 1000), Video(3, 1001, 1000)]
    seeds = {
        1: Seed(dt.date(2026, 10, 1), 99_998, 499_998),
        2: Seed(dt.date(2026, 10, 1), 499_999, 999_999),
        3: Seed(dt.date(2026, 10, 1), 999_998, 5),
    }
    plays = [
        p(f"v{v}-{n}-{day.day}", v, 100 + n, at(day, 12, n), 0, 900)
        for v in (1, 2, 3)
        for n in range(3)
        for day in (MON, TUE)
    ]
    both_engines(engine, videos, [plays], seeds=seeds)
    # A rerun with the Spark engine changes no row.
    data = BatchData(engine, SEOUL, steps=batch.spark.steps)
    before = data.table_snapshot("daily_video_stats")
    data.compute_day(MON, partitions=1)
    assert data.table_snapshot("daily_video_stats") == before
    # The partition's Spark jobs, as its PARTITION_PROGRESS message reports them.
    with engine.connect() as conn:
        lo, hi = video_id_bounds(conn)
    done, total, _, _, _ = SPARK_PROGRESS.fullmatch(batch.spark.steps.progress(MON, lo, hi)).groups()
    assert 0 < int(done) <= int(total)  # a stage that AQE skipped keeps its tasks in the total


def test_the_dst_days_of_new_york(spark_db, tmp_path):
    engine, settings = spark_db
    videos = [Video(1, SELLER, 1200), Video(2, SELLER, 1200)]
    fall_back = dt.date(2026, 11, 1)  # 25 hours
    plays = [
        p(f"h{h}", 1 + h % 2, 7 + h % 3, at(fall_back, 0, 0, 0, NEW_YORK) + h * 3600 * S, 0, 700) for h in range(26)
    ]
    plays += [p("mid-a", 1, 50, at(fall_back, 23, 59, 50, NEW_YORK)), p("mid-b", 1, 50, at(MON, 0, 0, 5, NEW_YORK))]
    both_engines(engine, videos, [plays], zone=NEW_YORK, parquet=(settings, tmp_path))


def test_a_bad_row_fails_the_partition_the_same_way(spark_db):
    engine, _ = spark_db
    errors = []
    for steps in (batch.steps, batch.spark.steps):
        data = BatchData(engine, SEOUL, steps=steps)
        data.clear()
        data.add_videos([Video(1, SELLER, 100)])
        data.add_plays([p("ok", 1, 7, at(MON, 9)), p("bad", 1, 8, at(MON, 10), 50, 40)])
        with pytest.raises(steps.BadPlayRow) as caught:
            data.compute_day(MON)
        errors.append((caught.value.event_id, caught.value.reason))
    assert errors[0] == errors[1] == ("bad", "end position 40 before start position 50")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    durations=st.tuples(*[st.sampled_from([0, 1, 300, 601, 1000]) for _ in range(3)]),
    plays=plays_strategy(),
    split=st.integers(0, 40),
)
def test_property_both_engines_write_the_same_rows(spark_db, durations, plays, split):
    engine, _ = spark_db
    sellers = {1: 500, 2: 500, 3: 501}
    videos = [Video(v, sellers[v], d) for v, d in zip(sellers, durations, strict=True)]
    both_engines(engine, videos, [plays[:split], plays[split:]])


def test_parquet_history_gives_the_same_rows(spark_db, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    engine, settings = spark_db
    videos = [Video(1, SELLER, 1000), Video(2, SELLER, 1000)]
    plays = [p(f"q{n}", 1 + n % 2, 7 + n % 2, at(MON, 23, 59, 40) + n * 7 * S, 0, 500) for n in range(8)]
    data = BatchData(engine, SEOUL, steps=batch.steps)
    data.clear()
    data.add_videos(videos)
    data.add_plays(plays)
    data.run_pending()
    expected = data.daily_rows(), data.table_snapshot("stream_limited_plays")
    columns = ["play_id", "event_id", "video_id", "viewer_id", "started_at_us", "start_position_sec"]
    columns += ["end_position_sec", "received_at_us"]
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT local_day, {', '.join(columns)} FROM plays")).all()
    for day in {r[0] for r in rows}:
        folder = tmp_path / f"local_day={day.isoformat()}"
        folder.mkdir()
        mine = [r[1:] for r in rows if r[0] == day]
        table = pa.table(
            {c: [r[i] for r in mine] for i, c in enumerate(columns)},
            schema=pa.schema([(c, pa.string() if c == "event_id" else pa.int64()) for c in columns]),
        )
        pq.write_table(table, folder / "part-0.parquet")
    batch.spark.steps.configure(settings.model_copy(update={"spark_plays": f"parquet:{tmp_path}"}))
    try:
        spark = BatchData(engine, SEOUL, steps=batch.spark.steps)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM daily_video_stats"))
            conn.execute(sa.text("DELETE FROM stream_limited_plays"))
            conn.execute(sa.text("DELETE FROM computed_days"))
        spark.run_pending()
        assert (spark.daily_rows(), spark.table_snapshot("stream_limited_plays")) == expected
    finally:
        batch.spark.steps.configure(settings)


def test_a_job_runs_end_to_end_on_the_spark_engine_with_its_progress(spark_db):
    engine, settings = spark_db
    steps = load_steps(settings)
    assert steps is batch.spark.steps
    videos = [Video(v, SELLER + v % 2, 1000) for v in range(1, 6)]
    plays = [p(f"j{n}", 1 + n % 5, 7 + n % 3, at(SUN if n % 2 else MON, 10, n), 0, 400) for n in range(20)]
    data = BatchData(engine, SEOUL)
    data.clear()
    with engine.begin() as conn:
        for table in ("partition_execution", "job_execution", "job_partition", "job_instance"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    data.add_videos(videos)
    data.add_plays(plays)
    runner = JobRunner(engine, zone=SEOUL, workers=2, steps=steps, progress_interval_sec=0.2)
    events = list(runner.run("daily", today=TUE))
    assert events[-1].type is EventType.JOB_FINISHED, events[-1]
    finished = [e for e in events if e.type is EventType.PARTITION_FINISHED]
    assert finished and sum(e.rows_read for e in finished) == len(plays)
    assert data.daily_rows() == compute_daily(videos, plays, SEOUL)
    assert data.days_to_compute(TUE) == []
    assert Decimal(0) <= sum((r.video_revenue for r in data.daily_rows().values()), Decimal(0))
    # The local pool's partitions stream Spark's progress: before each outcome, at least its
    # last counts (batch/jobs/handlers.py's Tracker reads them as the partition ends, so this
    # does not depend on a tick falling inside the computation).
    for outcome in finished:
        mine = [
            SPARK_PROGRESS.fullmatch(e.message)
            for e in events[: events.index(outcome)]
            if e.type is EventType.PARTITION_PROGRESS
            and (e.day, e.partition_key) == (outcome.day, outcome.partition_key)
        ]
        counts = [m.groups() for m in mine if m]
        assert counts, f"no Spark progress for {outcome.day} {outcome.partition_key}: {mine}"
        tasks_done, tasks, stages_done, stages, rows_read = counts[-1]
        assert 0 < int(tasks_done) <= int(tasks) and 0 < int(stages_done) <= int(stages)
        # Spark's scan of the plays: the day's plays of the range and the previous evening's.
        assert int(rows_read.replace(",", "")) >= outcome.rows_read
    # Each day's stream-limit step streams Spark's progress too, before the day's partitions:
    # at least its last counts (batch/jobs/day.py's StreamLimitTicks reads them as it ends).
    days = [e.day for e in events if e.type is EventType.JOB_STARTED]
    assert days == [SUN.isoformat(), MON.isoformat()]
    for day in days:
        first_partition = next(
            i for i, e in enumerate(events) if e.type is EventType.PARTITION_STARTED and e.day == day
        )
        stream = [e for e in events if e.is_stream_limit_progress and e.day == day]
        assert stream and all(events.index(e) < first_partition for e in stream)
        counts = [m.groups() for m in (SPARK_PROGRESS.fullmatch(e.message) for e in stream) if m]
        assert counts, f"no Spark progress for the stream step of {day}: {[e.message for e in stream]}"
        tasks_done, tasks, stages_done, stages, rows_read = counts[-1]
        assert 0 < int(tasks_done) <= int(tasks) and 0 < int(stages_done) <= int(stages)
        # Spark's scan of the plays: at least the day's 10 (odd n on SUN, even on MON).
        assert int(rows_read.replace(",", "")) >= 10
