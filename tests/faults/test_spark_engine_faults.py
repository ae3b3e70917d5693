"""The Spark engine on a real standalone cluster (tests/spark_cluster.py: a master and two
one-core workers) under faults, through the real job path (JobRunner with
`load_steps(settings)`, PAYSYSTEM_BATCH_ENGINE=spark) run by a driver in a child process
(tests/spark_job_driver.py; tests/spark_cluster_job.py says why a child):

1. on the cluster, a day with every rule firing gives the SQL engine's and tests/reference.py's
   daily rows;
2. a worker killed with SIGKILL while the job's tasks run costs retries, not the figures;
3. the master killed while the job's tasks run fails nothing: the executors are the
   driver's, the job completes with the same figures (the test's docstring says why).

One cluster for the file (the session's `spark_cluster`), one small data set; each test
heals the cluster before it ends.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

import batch.steps
from batch.jobs.model import EventType
from batch.jobs.runner import JobRunner
from tests.databases import fresh_database
from tests.integration.conftest import BatchData
from tests.integration.test_spark_engine import MON, SELLER, SEOUL, TUE, at, p
from tests.plugins.jobs import executions
from tests.reference import Video, compute_daily
from tests.spark_cluster_job import DriverProcess

pytestmark = pytest.mark.faults

JOB_TABLES = ("partition_execution", "job_execution", "job_partition", "job_instance")
VIDEOS = [Video(1, SELLER, 1000), Video(2, SELLER, 601), Video(3, SELLER, 0), Video(4, 7, 1000)]


def _plays() -> list:
    """MON with every rule firing: repeats within 30 s, overlaps, ties on started_at, a
    self-view, clamped ad positions, the 10-a-day cap, streams over the limit."""
    plays = [
        p("r1", 1, 7, at(MON, 9)),
        p("r2", 1, 7, at(MON, 9, 0, 29.999999)),
        p("r3", 1, 7, at(MON, 9, 1)),
        p("o1", 2, 8, at(MON, 10), 0, 601),
        p("o2", 2, 8, at(MON, 10, 5, 0.499999), 0, 10),
        p("o3", 2, 8, at(MON, 11), 0, 601),
        p("o4", 2, 8, at(MON, 11, 5, 0.5), 0, 900),
        p("a", 1, 9, at(MON, 13)),
        p("a\t", 1, 9, at(MON, 13)),
        p("B", 1, 9, at(MON, 13)),
        p("s1", 1, SELLER, at(MON, 14), 0, 900),
        p("c1", 1, 11, at(MON, 15), 299, 5000),
        p("c2", 1, 12, at(MON, 15), 300, 300),
        p("c4", 2, 13, at(MON, 15), 0, 600),
        p("z1", 3, 14, at(MON, 15), 0, 0),
        p("t1", 2, 20, at(MON, 8, 3, 30), 0, 600),
        p("t2", 3, 20, at(MON, 8, 3, 30), 0, 600),
        p("t3", 4, 20, at(MON, 8, 4, 10), 0, 600),
    ]
    plays += [p(f"cap{i:02d}", 1, 21, at(MON, 8, i)) for i in range(12)]
    plays += [p(f"x{n}", 1 + n % 4, 30 + n % 7, at(MON, 16, n), 0, 100 + 37 * n) for n in range(40)]
    return plays


PLAYS = _plays()


@pytest.fixture(scope="module")
def cluster_db(tmp_path_factory):
    with fresh_database("mariadb", "paysystem_sparkf_", tmp_path_factory.mktemp("db")) as url:
        engine = sa.create_engine(url)
        yield url, engine
        engine.dispose()


@pytest.fixture
def data(cluster_db):
    """The module's database with only the data set (no figures, no job history)."""
    _, engine = cluster_db
    data = BatchData(engine, SEOUL)
    data.clear()
    with engine.begin() as conn:
        for table in JOB_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table}"))
    data.add_videos(VIDEOS)
    data.add_plays(PLAYS)
    return data


def _driver(tmp_path, cluster, url: str, name: str, env_extra: dict | None = None, **options) -> DriverProcess:
    env = {
        **(env_extra or {}),
        "PAYSYSTEM_DB_URL": url,
        "PAYSYSTEM_DATA_DIR": str(tmp_path / "data"),
        "PAYSYSTEM_TIMEZONE": "Asia/Seoul",
        "PAYSYSTEM_BATCH_ENGINE": "spark",
        "PAYSYSTEM_SPARK_MASTER": cluster.master_url,
        "PAYSYSTEM_SPARK_EXECUTOR_MEMORY": "512m",
        "PAYSYSTEM_SPARK_PARTITIONS": "4",
    }
    args = ["--date", MON.isoformat(), "--today", TUE.isoformat()]
    for key, value in options.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return DriverProcess(args, tmp_path / f"{name}.log", module="tests.spark_job_driver")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _expected():
    return compute_daily(VIDEOS, PLAYS, SEOUL)


def test_the_job_on_the_cluster_gives_the_sql_engines_and_the_references_rows(
    spark_cluster, cluster_db, data, tmp_path
):
    url, engine = cluster_db
    events = list(JobRunner(engine, zone=SEOUL, workers=2, steps=batch.steps).run("daily", MON, today=TUE))
    assert events[-1].type is EventType.JOB_FINISHED, events[-1]
    sql_rows = data.daily_rows()
    assert sql_rows == _expected()

    data.clear()
    with engine.begin() as conn:
        for table in JOB_TABLES:
            conn.execute(sa.text(f"DELETE FROM {table}"))
    data.add_videos(VIDEOS)
    data.add_plays(PLAYS)
    driver = _driver(tmp_path, spark_cluster, url, "equality")
    try:
        assert driver.wait_for("executors", 120)["count"] == 2
        result = driver.wait_for("result", 180)
    finally:
        driver.stop()
    assert result["type"] == EventType.JOB_FINISHED, (result, driver.log_tail())
    assert data.daily_rows() == sql_rows


def test_a_worker_killed_mid_job_costs_retries_not_the_figures(spark_cluster, cluster_db, data, tmp_path):
    url, _ = cluster_db
    driver = _driver(tmp_path, spark_cluster, url, "worker-kill", task_seconds=0.5)
    try:
        assert driver.wait_for("executors", 120)["count"] == 2
        # Tasks done (map output on the executors) and others running: kill worker 1.
        driver.wait_for("progress", 120, accept=lambda e: e["completed"] >= 1 and e["active"] >= 1)
        spark_cluster.kill_worker(1)
        result = driver.wait_for("result", 240)
    finally:
        driver.stop()
        spark_cluster.heal()  # two workers again for the next test
    assert result["type"] == EventType.JOB_FINISHED, (result, driver.log_tail())
    assert data.daily_rows() == _expected()
    assert spark_cluster.alive_workers() == 2


def test_the_master_killed_mid_job_leaves_the_running_job_to_its_executors(spark_cluster, cluster_db, data, tmp_path):
    """In standalone mode the master only hands out executors: once they are the driver's,
    the job's tasks run on them without it (the driver logs "Disconnected from Spark
    cluster! Waiting for reconnection..."). So a master killed mid-job fails nothing: the
    execution completes, once, with the right figures; the healed master takes the next
    application."""
    url, engine = cluster_db
    driver = _driver(tmp_path, spark_cluster, url, "master-kill", task_seconds=0.5)
    try:
        assert driver.wait_for("executors", 120)["count"] == 2
        driver.wait_for("progress", 120, accept=lambda e: e["completed"] >= 1 and e["active"] >= 1)
        spark_cluster.kill_master()
        result = driver.wait_for("result", 240)
    finally:
        driver.stop()
        spark_cluster.heal()
    assert result["type"] == EventType.JOB_FINISHED, (result, driver.log_tail())
    assert "Disconnected from Spark cluster" in driver.log_tail(400)
    assert [(row.run_kind, row.status) for row in executions(engine)] == [("FIRST", "COMPLETED")]
    assert data.daily_rows() == _expected()
    assert spark_cluster.alive_workers() == 2


def test_the_whole_cluster_killed_mid_job_fails_the_execution_cleanly_and_a_restart_completes_it(
    spark_cluster, cluster_db, data, tmp_path
):
    """Master and workers SIGKILLed while the job's tasks run: no executor is left and none
    can come, which Spark would wait out forever. After PAYSYSTEM_SPARK_EXECUTOR_WAIT_SEC
    the engine cancels the jobs: the partitions fail with one line, the execution ends
    FAILED with no daily row of the day written; after heal() the same job run again (a new
    driver, as a restarted batch would be) restarts the execution and completes it."""
    url, engine = cluster_db
    wait = {"PAYSYSTEM_SPARK_EXECUTOR_WAIT_SEC": "2"}
    driver = _driver(tmp_path, spark_cluster, url, "cluster-kill", wait, task_seconds=0.5)
    try:
        assert driver.wait_for("executors", 120)["count"] == 2
        driver.wait_for("progress", 120, accept=lambda e: e["completed"] >= 1 and e["active"] >= 1)
        spark_cluster.kill_master()
        for index in (0, 1):
            spark_cluster.kill_worker(index)
        result = driver.wait_for("result", 120)
    finally:
        driver.stop()
        spark_cluster.heal()
    assert result["type"] == EventType.JOB_FAILED, (result, driver.log_tail())
    [(execution_id, _, run_kind, status, message)] = executions(engine)
    assert (run_kind, status) == ("FIRST", "FAILED")
    assert "\n" not in message and "no Spark executor for 2 s" in message, message
    assert data.daily_rows() == {}

    driver = _driver(tmp_path, spark_cluster, url, "restart")
    try:
        result = driver.wait_for("result", 180)
    finally:
        driver.stop()
    assert result["type"] == EventType.JOB_FINISHED, (result, driver.log_tail())
    assert [(row.run_kind, row.status) for row in executions(engine)] == [("FIRST", "FAILED"), ("RESTART", "COMPLETED")]
    assert data.daily_rows() == _expected()
    assert spark_cluster.alive_workers() == 2
