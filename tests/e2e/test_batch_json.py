"""The batch through Envoy: POST /v1/batch/jobs streams newline-delimited JSON events ending
with an explicit final event; GET /v1/batch/jobs/{id}; admin only; `paysystem batch run --via`."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy as sa

from services.account import service as account_service
from services.common import db
from tests.mesh import PASSWORD
from tests.plugins.jobs import add_plays, add_videos, random_plays

DAY = dt.date(2015, 1, 7)  # a day no other test uses; nothing before it has plays
VIDEO_BASE = 9_100_000_000  # ids far from the ones the API hands out
PAYSYSTEM = Path(sys.executable).parent / "paysystem"


def _seed_once(mesh) -> None:
    engine = db.make_engine(mesh.settings)
    try:
        with engine.connect() as conn:
            if conn.execute(sa.text("SELECT COUNT(*) FROM videos WHERE video_id > :b"), {"b": VIDEO_BASE}).scalar_one():
                return
        videos = [VIDEO_BASE + i for i in range(1, 11)]
        add_videos(engine, videos)
        add_plays(engine, random_plays([DAY], videos, 200, prefix=f"batch-e2e-{DAY}-"))
    finally:
        engine.dispose()


def test_an_admin_runs_a_day_through_envoy_and_reads_its_execution(mesh):
    _seed_once(mesh)
    _, admin = mesh.create_admin()

    status, events = mesh.run_job({"job": "daily", "date": DAY.isoformat(), "rerun": True}, admin)

    assert status == 200, events
    assert events[0]["type"] == "JOB_STARTED"
    assert events[-1]["type"] == "JOB_FINISHED" and events[-1]["final"] is True
    assert [e["final"] for e in events[:-1]] == [False] * (len(events) - 1)
    assert events[-1]["rows_read"] == "200"  # int64 as a JSON string
    execution_id = events[0]["job_execution_id"]
    status, execution = mesh.json("GET", f"/v1/batch/jobs/{execution_id}", token=admin)
    assert status == 200
    assert execution["status"] == "COMPLETED" and execution["parameters"] == '{"date":"2015-01-07"}'
    assert sum(int(p["rows_read"]) for p in execution["partitions"]) == 200

    status, again = mesh.run_job({"job": "daily", "date": DAY.isoformat()}, admin)
    assert [e["type"] for e in again] == ["JOB_SKIPPED", "JOB_FINISHED"]


def test_a_seller_may_not_run_a_job_and_bad_dates_are_400(mesh, seller):
    _, token = seller
    status, body = mesh.run_job({"job": "daily", "date": DAY.isoformat()}, token)
    assert status == 403, body
    _, admin = mesh.create_admin()
    status, body = mesh.run_job({"job": "daily", "date": "2015-13-01"}, admin)
    assert status == 400 and "date" in body
    status, body = mesh.json("GET", "/v1/batch/jobs/999999999", token=admin)
    assert status == 404


def test_the_cli_runs_a_job_through_envoy_with_admin_credentials(mesh):
    _seed_once(mesh)
    username = mesh.unique_username("admin")
    engine = db.make_engine(mesh.settings)
    try:
        account_service.create_account(
            account_service.sql_unit_of_work(engine), username, PASSWORD, "ADMIN", allowed_roles=("ADMIN",)
        )
    finally:
        engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYSYSTEM_")}
    done = subprocess.run(
        [
            str(PAYSYSTEM),
            "batch",
            "run",
            "--date",
            DAY.isoformat(),
            "--rerun",
            "--via",
            mesh.base_url,
            "--username",
            username,
            "--password",
            PASSWORD,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "JOB_FINISHED 2015-01-07" in done.stdout and "PARTITION_FINISHED" in done.stdout


def test_a_rerun_that_changes_a_figure_is_in_the_very_next_read_after_the_job_finished(mesh):
    # The read services learn the data version by polling it and keep rendered statements
    # for seconds; the batch waits long enough before its final event that no instance
    # serves the old figure after it (services/readpath/dataversion.py).
    _seed_once(mesh)
    _, admin = mesh.create_admin()
    day2 = DAY + dt.timedelta(days=1)
    video = VIDEO_BASE + 501
    seller = 1_000_000 + video % 10
    tag = uuid.uuid4().hex[:8]
    engine = db.make_engine(mesh.settings)
    try:
        with engine.connect() as conn:
            known = conn.execute(sa.text("SELECT COUNT(*) FROM videos WHERE video_id = :v"), {"v": video}).scalar_one()
        if not known:
            add_videos(engine, [video])
        add_plays(engine, random_plays([day2], [video], 30, seed=11, prefix=f"rerun-a-{tag}-"))
        status, events = mesh.run_job(
            {"job": "daily", "date": DAY.isoformat(), "to_date": day2.isoformat(), "rerun": True}, admin
        )
        assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events

        path = f"/v1/sellers/{seller}/settlements?period=DAILY&date={day2}"
        status, before = mesh.json("GET", path, token=admin)
        assert status == 200 and mesh.json("GET", path, token=admin)[1] == before  # cached now
        add_plays(engine, random_plays([day2], [video], 40, seed=12, prefix=f"rerun-b-{tag}-"))
        status, events = mesh.run_job({"job": "daily", "date": day2.isoformat(), "rerun": True}, admin)
        assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events

        status, after = mesh.json("GET", path, token=admin)
        assert status == 200
        views = {int(line["video_id"]): int(line["views"]) for line in after["lines"]}
        views_before = {int(line["video_id"]): int(line["views"]) for line in before["lines"]}
        assert views[video] > views_before.get(video, 0), (before, after)
        assert after["total"] != before["total"]
    finally:
        engine.dispose()
