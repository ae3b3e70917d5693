"""A batch process killed with SIGKILL mid-run, on MariaDB: `paysystem batch recover`, then
the same command again runs only the partitions that had not completed, and the figures
equal those of a clean run on a fresh database with the same plays."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from batch.jobs.runner import JobRunner
from domain.periods import day_bounds_us
from services.common import db
from services.common.settings import Settings
from services.video import play_counts
from tests import event_ids
from tests.databases import fresh_database
from tests.plugins.jobs import SEOUL, add_videos, executions, partition_rows, stats_snapshot

pytestmark = pytest.mark.faults

DAYS = [dt.date(2026, 9, 26) + dt.timedelta(days=i) for i in range(6)]  # crosses a month and a week
PLAYS_PER_DAY = 60_000
VIDEOS = 400
PARTITIONS = 8
PAYSYSTEM = Path(sys.executable).parent / "paysystem"


def _generate_plays(engine: sa.Engine) -> None:
    """Deterministic plays made inside MariaDB (its SEQUENCE engine): fast and identical on
    every database they are generated in. Viewers repeat (the 30-second rule bites)."""
    with engine.begin() as conn:
        for index, day in enumerate(DAYS):
            start_us, _ = day_bounds_us(day, SEOUL)
            conn.execute(
                sa.text(
                    "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day,"
                    " start_position_sec, end_position_sec, received_at_us)"
                    " SELECT CONCAT('k', :index, '-', seq), 1 + MOD(seq * 7919, :videos),"
                    " 1 + MOD(seq * 104729, 3000), :start_us + MOD(seq * 1000003 * 997, 86400000000),"
                    " :day, MOD(seq * 13, 900), MOD(seq * 13, 900) + MOD(seq * 17, 700), 0"
                    f" FROM seq_1_to_{PLAYS_PER_DAY}"
                ).bindparams(sa.bindparam("day", type_=sa.Date)),
                {"index": index, "videos": VIDEOS, "start_us": start_us, "day": day},
            )
        event_ids.copy_event_ids(conn)
        play_counts.recount(conn, DAYS)


@pytest.fixture
def databases(tmp_path):
    with (
        fresh_database("mariadb", "paysystem_jobs_", tmp_path) as killed_url,
        fresh_database("mariadb", "paysystem_jobs_", tmp_path) as clean_url,
    ):
        engines = []
        for url in (killed_url, clean_url):
            engine = db.make_engine(Settings(data_dir=tmp_path, db_url=url))
            add_videos(engine, range(1, VIDEOS + 1))
            _generate_plays(engine)
            engines.append(engine)
        yield killed_url, engines[0], engines[1]
        for engine in engines:
            engine.dispose()


def _cli(tmp_path: Path, url: str, *args: str, **popen) -> subprocess.Popen:
    env = {
        **os.environ,
        "PAYSYSTEM_DB_URL": url,
        "PAYSYSTEM_DATA_DIR": str(tmp_path / "data"),
        "PAYSYSTEM_BATCH_WORKERS": "2",
        "PAYSYSTEM_TIMEZONE": "Asia/Seoul",
    }
    return subprocess.Popen(
        [str(PAYSYSTEM), "batch", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen
    )


def _progress(engine: sa.Engine) -> tuple[int, int | None, int]:
    """(completed executions, the running execution, its completed partitions)."""
    with engine.connect() as conn:
        completed = conn.execute(sa.text("SELECT COUNT(*) FROM job_execution WHERE status = 'COMPLETED'")).scalar_one()
        running = conn.execute(
            sa.text(
                "SELECT e.job_execution_id, SUM(p.status = 'COMPLETED') FROM job_execution e"
                " JOIN partition_execution p ON p.job_execution_id = e.job_execution_id"
                " WHERE e.status = 'STARTED' GROUP BY e.job_execution_id"
            )
        ).one_or_none()
    if running is None:
        return completed, None, 0
    return completed, running[0], int(running[1] or 0)


def test_a_killed_batch_is_recovered_and_restarted_with_only_its_unfinished_partitions(tmp_path, databases):
    url, engine, clean_engine = databases
    run_args = ("run", "--date", DAYS[0].isoformat(), "--to", DAYS[-1].isoformat(), "--partitions", str(PARTITIONS))

    # 1. Run, and SIGKILL the process once a day has completed and the next is half done.
    started = time.monotonic()
    proc = _cli(tmp_path, url, *run_args)
    victim = None
    while proc.poll() is None and time.monotonic() - started < 120:
        completed, running, done = _progress(engine)
        if completed >= 1 and running is not None and 1 <= done <= PARTITIONS - 2:
            proc.send_signal(signal.SIGKILL)
            victim = running
            break
        time.sleep(0.01)
    output = proc.communicate(timeout=30)[0]
    assert victim is not None, f"the run ended before it could be killed mid-day:\n{output}"
    assert proc.returncode == -signal.SIGKILL
    days_done_before = completed

    # 2. The crash left the execution STARTED with a live-looking guard; recover fails it.
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status FROM job_execution WHERE job_execution_id = :id"), {"id": victim}
        ).scalar_one()
    assert status == "STARTED"
    completed_keys = {k for k, s in partition_rows(engine, victim).items() if s == "COMPLETED"}
    assert 1 <= len(completed_keys) <= PARTITIONS - 1

    recovered = _cli(tmp_path, url, "recover")
    out = recovered.communicate(timeout=60)[0]
    assert recovered.returncode == 0, out
    assert f"recovered execution {victim}" in out and "is gone" in out
    after_recover = partition_rows(engine, victim)
    assert {k for k, s in after_recover.items() if s == "COMPLETED"} == completed_keys
    assert {s for k, s in after_recover.items() if k not in completed_keys} == {"FAILED"}

    # 3. The same command again: completed days are skipped, the killed day restarts with
    #    only its unfinished partitions, the remaining days run in full.
    before_restart = {row.job_execution_id for row in executions(engine)}
    rerun = _cli(tmp_path, url, *run_args)
    out = rerun.communicate(timeout=300)[0]
    assert rerun.returncode == 0, out
    assert out.count("JOB_SKIPPED") == days_done_before

    new = [row for row in executions(engine) if row.job_execution_id not in before_restart]
    assert [row.status for row in new] == ["COMPLETED"] * len(new)
    restart = new[0]
    assert restart.run_kind == "RESTART"
    with engine.connect() as conn:
        all_keys = set(
            conn.execute(
                sa.text(
                    "SELECT p.partition_key FROM job_partition p JOIN job_execution e"
                    " ON e.job_instance_id = p.job_instance_id WHERE e.job_execution_id = :id"
                ),
                {"id": victim},
            ).scalars()
        )
    assert len(all_keys) == PARTITIONS
    assert set(partition_rows(engine, restart.job_execution_id)) == all_keys - completed_keys
    assert [row.run_kind for row in new[1:]] == ["FIRST"] * (len(DAYS) - days_done_before - 1)

    # 4. The figures equal a clean run's on a fresh database with the same plays.
    clean = JobRunner(clean_engine, zone=SEOUL, workers=2)
    events = list(clean.run("daily", DAYS[0], DAYS[-1], partitions=PARTITIONS, today=DAYS[-1]))
    assert events[-1].type.value == "JOB_FINISHED", events[-1].message
    assert stats_snapshot(engine) == stats_snapshot(clean_engine)
    assert len(stats_snapshot(engine)["daily"]) > len(DAYS) * 300
