"""The job runner with the real daily steps, on MariaDB and SQLite: order of days, skip and
re-run of completed instances, the launch guard, bad rows, restarts and late data."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

import batch.steps
from batch.jobs import repository as repo
from batch.jobs.launch import JobAlreadyRunning
from batch.jobs.model import BatchStatus, EventType
from batch.jobs.runner import JobRunner
from domain.errors import BadInput, NotReady
from tests import reference
from tests.plugins.jobs import (
    SEOUL,
    add_plays,
    add_videos,
    daily_tuples,
    executions,
    partition_rows,
    play,
    random_plays,
    reference_plays,
    stats_snapshot,
)

DAYS = [dt.date(2026, 10, 30) + dt.timedelta(days=i) for i in range(4)]  # crosses a month end
VIDEOS = list(range(1, 41))
TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def data(engine):
    add_videos(engine, VIDEOS)
    plays = random_plays(DAYS, VIDEOS, 300)
    add_plays(engine, plays)
    return plays


def runner(engine, steps=batch.steps, workers=3) -> JobRunner:
    return JobRunner(
        engine, zone=SEOUL, workers=workers, steps=steps, progress_interval_sec=0.2, heartbeat_interval_sec=0.2
    )


def run(engine, *args, steps=batch.steps, **kwargs) -> list:
    kwargs.setdefault("today", TODAY)
    return list(runner(engine, steps).run("daily", *args, **kwargs))


def final(events):
    assert events[-1].final and all(not e.final for e in events[:-1])
    return events[-1]


def oracle_daily(plays) -> list[tuple]:
    videos = [reference.Video(v, 1_000_000 + v % 10, 1200) for v in VIDEOS]
    rows = reference.compute_daily(videos, reference_plays(plays), SEOUL)
    return daily_tuples(rows.values())


class GatedSteps:
    """The real steps, with each partition held at a gate (before its SQL) until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def __getattr__(self, name):
        return getattr(batch.steps, name)

    def compute_day_partition(self, *args, **kwargs):
        self.entered.set()
        assert self.release.wait(30), "the test never released the gate"
        return batch.steps.compute_day_partition(*args, **kwargs)


def test_a_run_computes_every_day_in_order_with_every_partition_and_matches_the_oracle(engine, data):
    events = run(engine, DAYS[0], DAYS[-1], partitions=3)

    assert final(events).type is EventType.JOB_FINISHED
    assert [e.day for e in events if e.type is EventType.JOB_FINISHED][:-1] == [d.isoformat() for d in DAYS]
    assert stats_snapshot(engine)["daily"] == oracle_daily(data)
    for execution_id, _params, kind, status, _ in executions(engine):
        assert (kind, status) == ("FIRST", "COMPLETED")
        assert partition_rows(engine, execution_id) == {"p0": "COMPLETED", "p1": "COMPLETED", "p2": "COMPLETED"}
    finished = [e for e in events if e.type is EventType.PARTITION_FINISHED]
    assert sum(e.rows_read for e in finished) == len(data) == final(events).rows_read
    with engine.connect() as conn:
        assert batch.steps.days_to_compute(conn, through=TODAY) == []


def test_a_completed_instance_is_skipped_unless_rerun_and_a_rerun_gives_identical_rows(engine, data):
    run(engine, DAYS[0], DAYS[-1])
    before = stats_snapshot(engine)
    count = len(executions(engine))

    again = run(engine, DAYS[1])
    assert [e.type for e in again] == [EventType.JOB_SKIPPED, EventType.JOB_FINISHED]
    assert "rerun" in again[0].message
    assert len(executions(engine)) == count

    rerun = run(engine, DAYS[0], DAYS[-1], rerun=True)
    assert final(rerun).type is EventType.JOB_FINISHED
    assert [row.run_kind for row in executions(engine)[count:]] == ["RERUN"] * len(DAYS)
    assert stats_snapshot(engine) == before


def test_two_concurrent_launches_of_the_same_instance_one_runs_and_the_other_is_refused(engine, data):
    gated = GatedSteps()
    first = runner(engine, gated).run("daily", DAYS[0], today=TODAY)
    assert next(first).type is EventType.JOB_STARTED
    assert gated.entered.wait(10)

    with pytest.raises(JobAlreadyRunning, match="already running: execution"):
        list(runner(engine).run("daily", DAYS[0], today=TODAY))

    gated.release.set()
    assert final(list(first)).type is EventType.JOB_FINISHED
    assert [(r.run_kind, r.status) for r in executions(engine)] == [("FIRST", "COMPLETED")]


def test_a_bad_row_fails_its_partition_and_the_job_with_that_error_and_a_restart_runs_only_that_partition(engine, data):
    # Videos 1..40 split into [0, 14), [14, 27), [27, ...): video 20 is missing from videos.
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM videos WHERE video_id = 20"))
    events = run(engine, DAYS[0], DAYS[1], partitions=3)

    last = final(events)
    assert last.type is EventType.JOB_FAILED and last.status == "FAILED"
    assert "video 20 does not exist" in last.message and DAYS[0].isoformat() in last.message
    failed = [e for e in events if e.type is EventType.PARTITION_FAILED]
    assert [e.partition_key for e in failed] == ["p1"] and "video 20 does not exist" in failed[0].message
    assert not any(e.day == DAYS[1].isoformat() for e in events[:-1])  # later days wait for it
    ((execution_id, _, _, status, message),) = executions(engine)
    assert status == "FAILED" and "partition p1 failed" in message and "video 20 does not exist" in message
    assert partition_rows(engine, execution_id) == {"p0": "COMPLETED", "p1": "FAILED", "p2": "COMPLETED"}

    add_videos(engine, [20])  # the operator repairs the data, then restarts
    restarted = run(engine, DAYS[0], DAYS[1])

    assert final(restarted).type is EventType.JOB_FINISHED
    restart_id, _, kind, status, _ = executions(engine)[1]
    assert (kind, status) == ("RESTART", "COMPLETED")
    assert partition_rows(engine, restart_id) == {"p1": "COMPLETED"}
    started = next(e for e in restarted if e.type is EventType.JOB_STARTED)
    assert (started.partitions_done, started.partitions_total) == (2, 3)
    assert stats_snapshot(engine)["daily"] == oracle_daily([p for p in data if p["local_day"] <= DAYS[1]])
    # The day's plays_read adds the restarted partition's count to those the failed run
    # completed: the day is up to date (a missing or wrong count would make it stale).
    with engine.connect() as conn:
        assert batch.steps.days_to_compute(conn, through=DAYS[1]) == []


def test_a_late_play_makes_its_day_and_later_days_stale_and_a_run_without_a_date_recomputes_them(engine, data):
    run(engine, DAYS[0], DAYS[-1])
    late = play("late-1", 5, 77, DAYS[1], 86_390, 0, 900)  # 23:59:50 on the second day
    add_plays(engine, [late])

    events = run(engine)

    assert final(events).type is EventType.JOB_FINISHED
    recomputed = [e.day for e in events if e.type is EventType.JOB_STARTED]
    assert recomputed == [d.isoformat() for d in DAYS[1:]]
    assert [r.run_kind for r in executions(engine)[len(DAYS) :]] == ["STALE"] * 3
    assert stats_snapshot(engine)["daily"] == oracle_daily([*data, late])
    assert run(engine)[-1].message.startswith("0 day(s): nothing to compute")


def test_a_date_after_days_that_are_not_computed_is_refused_before_anything_runs(engine, data):
    with pytest.raises(NotReady, match="not computed or are stale"):
        runner(engine).run("daily", DAYS[2], today=TODAY)
    assert executions(engine) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (("weekly", DAYS[0]), "unknown job"),
        (("daily", DAYS[1], DAYS[0]), "before date"),
        (("daily", DAYS[0], DAYS[0] + dt.timedelta(days=400)), "at most 366 days"),
        (("daily", TODAY + dt.timedelta(days=1)), "^date: .* is after today"),  # to_date left empty: date named
        (("daily", DAYS[0], TODAY + dt.timedelta(days=1)), "^to_date: .* is after today"),
    ],
)
def test_bad_run_parameters_are_refused(engine, args, message):
    with pytest.raises(BadInput, match=message):
        runner(engine).run(*args, today=TODAY)


def test_a_stop_request_lets_running_partitions_finish_and_a_restart_completes_the_rest(engine, data):
    gated = GatedSteps()
    job = JobRunner(engine, zone=SEOUL, workers=1, steps=gated, progress_interval_sec=0.2)
    events = job.run("daily", DAYS[0], DAYS[1], partitions=3, today=TODAY)
    assert next(events).type is EventType.JOB_STARTED
    assert gated.entered.wait(10)
    job.request_stop()
    gated.release.set()

    last = final([*events])
    assert last.type is EventType.JOB_FAILED and last.status == "STOPPED"
    ((execution_id, _, _, status, _),) = executions(engine)
    assert status == "STOPPED"
    assert partition_rows(engine, execution_id) == {"p0": "COMPLETED", "p1": "STOPPED", "p2": "STOPPED"}

    assert final(run(engine, DAYS[0], DAYS[1])).type is EventType.JOB_FINISHED
    assert partition_rows(engine, executions(engine)[1].job_execution_id) == {"p1": "COMPLETED", "p2": "COMPLETED"}
    assert stats_snapshot(engine)["daily"] == oracle_daily([p for p in data if p["local_day"] <= DAYS[1]])


def test_an_execution_declared_crashed_while_running_fails_instead_of_completing(engine, data):
    gated = GatedSteps()
    events = runner(engine, gated).run("daily", DAYS[0], today=TODAY)
    started = next(events)
    assert gated.entered.wait(10)
    with engine.begin() as conn:  # what `recover` does to an execution it believes crashed
        repo.mark_crashed(conn, repo.get_execution(conn, started.job_execution_id), "crashed: test", 0)
    gated.release.set()

    last = final(list(events))
    assert last.type is EventType.JOB_FAILED
    with engine.connect() as conn:
        execution = repo.get_execution(conn, started.job_execution_id)
        assert execution.status is BatchStatus.FAILED and execution.exit_message == "crashed: test"
        assert {p.status for p in execution.partitions} == {BatchStatus.FAILED}
        assert conn.execute(sa.text("SELECT COUNT(*) FROM daily_video_stats")).scalar_one() == 0


def test_a_day_already_running_elsewhere_ends_a_multi_day_run_after_the_days_before_it(engine, data):
    with engine.begin() as conn:
        instance = repo.insert_instance(conn, "daily", {"date": DAYS[1].isoformat()}, 0)
        blocker = repo.insert_execution(conn, instance.job_instance_id, owner="other-host:1", now_us=0)

    events = run(engine, DAYS[0], DAYS[2])

    last = final(events)
    assert last.type is EventType.JOB_FAILED and last.status == "REFUSED"
    assert f"execution {blocker}" in last.message and "batch recover" in last.message
    assert [(r.parameters, r.status) for r in executions(engine) if r.job_execution_id != blocker] == [
        (f'{{"date":"{DAYS[0]}"}}', "COMPLETED")
    ]
