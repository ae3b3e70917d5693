"""A real Spark standalone cluster (a master and two one-core workers from the pyspark
package, tests/spark_cluster.py) reads the real MariaDB through JDBC and spreads its tasks
over both workers. A worker killed with SIGKILL in the middle of the engine's job, and the
master or the whole cluster killed, are in tests/faults/test_spark_engine_faults.py.

The driver runs in a child process (tests/spark_cluster_job.py says why: getOrCreate would
hand back this process's local session). The cluster starts once per run.
"""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from tests.databases import fresh_database
from tests.spark_cluster_job import run_driver

VIDEOS = 40
PLAYS = 20_000


@pytest.fixture(scope="module")
def plays_db(tmp_path_factory):
    """A migrated database whose `plays` holds PLAYS rows over videos 1..VIDEOS, and the
    plays per video as MariaDB counts them (one GROUP BY)."""
    with fresh_database("mariadb", "paysystem_sparkc_", tmp_path_factory.mktemp("db")) as url:
        rng = random.Random(30)
        rows = [
            {
                "p": i,
                "e": f"e{i}",
                "v": rng.randint(1, VIDEOS),
                "u": rng.randint(1, 500),
                "t": 1_800_000_000_000_000 + i,
            }
            for i in range(1, PLAYS + 1)
        ]
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO plays (play_id, event_id, video_id, viewer_id, started_at_us, local_day,"
                    " start_position_sec, end_position_sec, received_at_us)"
                    " VALUES (:p, :e, :v, :u, :t, '2026-11-01', 0, 60, :t)"
                ),
                rows,
            )
            expected = dict(conn.execute(sa.text("SELECT video_id, COUNT(*) FROM plays GROUP BY video_id")).all())
        engine.dispose()
        yield url, {str(video): n for video, n in expected.items()}


def test_a_jdbc_read_and_group_by_run_on_both_workers(spark_cluster, plays_db, tmp_path):
    url, expected = plays_db
    driver = run_driver(
        tmp_path / "driver.log",
        master=spark_cluster.master_url,
        db_url=url,
        videos=VIDEOS,
        partitions=8,
        task_seconds=0.5,  # two cores, eight tasks: both executors take some
    )
    try:
        assert driver.wait_for("executors", 120)["count"] == 2
        result = driver.wait_for("result", 180)
    finally:
        driver.stop()
    assert result["counts"] == expected
    workers = {where.split("/")[0] for where in result["where"]}
    assert workers == {"work-0", "work-1"}, result["where"]
    assert len(result["where"]) == 2  # one executor on each worker
