"""Read replicas with real servers (tests/plugins/replicas.py: a private MariaDB primary with
binary logging and a second mariadbd replicating from it): the read services read from the
replica and every write goes to the primary; a job's JOB_FINISHED waits for the replica to
apply its figures, or takes it out of use, and no read after it returns an older figure; the
replica killed under read load costs no failed read, and reads come back to it; the Spark
engine's JDBC reads of the plays run on the replica, with the SQL engine's figures.

One replication pair for the module (about 17 s to set up); each test computes its own later
day, so they run in file order on the same database."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import grpc
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from batch.jobs.model import EventType
from batch.published import read_data_state
from batch.wiring import runner_for
from paysystem.v1 import common_pb2, settlement_pb2, statistics_pb2
from services.common import db
from services.readpath.readside import read_side_for
from services.readpath.replicas import HeartbeatWriter, probe, replica_name
from tests.mesh import reserve_port_block
from tests.plugins.jobs import add_plays, add_videos, expected_seller_total, random_plays
from tests.plugins.readside import serve_read_services
from tests.plugins.replicas import replication, wait_until

VIDEOS = [1, 2, 3]
SELLER = 1_000_001  # tests.plugins.jobs.add_videos: seller 1_000_000 + video % 10
REPLICA_ONLY_VIDEO = 991  # a video (and its figures) written on the replica alone
MAX_LAG_MS = 3000


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    with replication(tmp_path_factory.mktemp("replication")) as pair:
        engine = db.make_engine(pair.settings())
        add_videos(engine, VIDEOS)
        beats = HeartbeatWriter(engine).start()
        try:
            yield pair, engine
        finally:
            beats.close()
            engine.dispose()


@pytest.fixture
def services(pair, tmp_path):
    replication_pair, _engine = pair
    settings = replication_pair.settings(db_replica_max_lag_ms=MAX_LAG_MS, db_replica_wait_sec=10)
    read = read_side_for(settings, read_data_state, cache_prefix=f"rep{uuid.uuid4().hex[:8]}", reset_timeout=1.0)
    port, lock = reserve_port_block(1, range(23990, 23999))
    try:
        with serve_read_services(replication_pair.primary_url, tmp_path / "read", port, read) as served:
            yield served
    finally:
        read.router.close()
        lock.close()


def _expected(plays: list[dict], day: dt.date) -> Decimal:
    """The seller's statement total for `day`, by tests/reference.py over every play so far."""
    return expected_seller_total(plays, VIDEOS, SELLER, day)


_TOKENS: dict[str, list] = {}  # signing a token costs far more than a read: one per key pair


def _total(services, day: dt.date) -> Decimal:
    request = settlement_pb2.GetStatementRequest(seller_id=SELLER, period=common_pb2.DAILY, date=day.isoformat())
    metadata = _TOKENS.get(str(services.settings.keys_dir))
    if metadata is None:
        metadata = _TOKENS[str(services.settings.keys_dir)] = services.token(SELLER)
    return Decimal(services.settlement.GetStatement(request, metadata=metadata).total)


def _reads(target: str) -> float:
    return REGISTRY.get_sample_value("paysystem_db_reads_total", {"target": target}) or 0.0


def _run_job(settings, engine, day: dt.date) -> list[tuple[float, object]]:
    batch = runner_for(settings, engine, workers=2)
    return [(time.monotonic(), event) for event in batch.run("daily", day, today=day + dt.timedelta(days=1))]


def test_reads_come_from_the_replica_and_writes_go_to_the_primary(pair, services):
    replication_pair, engine = pair
    day = dt.date(2026, 3, 2)
    plays = random_plays([day], VIDEOS, 80, seed=11, prefix="rep-a-")
    add_plays(engine, plays)
    events = _run_job(replication_pair.settings(db_replica_max_lag_ms=MAX_LAG_MS), engine, day)
    final = events[-1][1]
    assert final.type is EventType.JOB_FINISHED
    assert f"replica {replica_name(replication_pair.replica_url)} applied it" in final.message
    print(f"\nreplication delay seen by the job: {final.message}")

    # A video and its figures that exist on the replica only: the top-5 list shows it, so
    # the read ran there.
    with sa.create_engine(replication_pair.replica_url, isolation_level="AUTOCOMMIT").connect() as replica:
        replica.exec_driver_sql(
            f"INSERT INTO videos (video_id, seller_id, title, duration_sec, created_at_us)"
            f" VALUES ({REPLICA_ONLY_VIDEO}, {SELLER}, 'replica only', 600, 0)"
        )
        replica.exec_driver_sql(
            "INSERT INTO daily_video_stats (video_id, day, seller_id, views, watch_time_sec, ad_views,"
            " cum_views, cum_ad_views, video_revenue, ad_revenue, plays) VALUES"
            f" ({REPLICA_ONLY_VIDEO}, '{day}', {SELLER}, 1000000, 1, 0, 1000000, 0, 0, 0, 1)"
        )
    try:
        replica_reads = _reads(replica_name(replication_pair.replica_url))
        request = statistics_pb2.GetTopVideosRequest(
            seller_id=SELLER, period=common_pb2.DAILY, date=day.isoformat(), metric=statistics_pb2.VIEWS
        )
        top = services.stats.GetTopVideos(request, metadata=services.token(SELLER))
        assert top.videos[0].video_id == REPLICA_ONLY_VIDEO
        assert _total(services, day) == _expected(plays, day)
        assert _reads(replica_name(replication_pair.replica_url)) >= replica_reads + 2
        with engine.connect() as primary:
            assert (
                primary.exec_driver_sql(f"SELECT COUNT(*) FROM videos WHERE video_id = {REPLICA_ONLY_VIDEO}").scalar()
                == 0
            )
    finally:
        with sa.create_engine(replication_pair.replica_url, isolation_level="AUTOCOMMIT").connect() as replica:
            replica.exec_driver_sql(f"DELETE FROM daily_video_stats WHERE video_id = {REPLICA_ONLY_VIDEO}")
            replica.exec_driver_sql(f"DELETE FROM videos WHERE video_id = {REPLICA_ONLY_VIDEO}")

    # A write through the same services (an admin's tier table) lands on the primary: with
    # replication stopped it is on the primary and not on the replica, then replicated.
    replication_pair.stop_replication()
    try:
        effective = (dt.date.today() + dt.timedelta(days=40)).isoformat()
        services.settlement.ScheduleTierTable(
            settlement_pb2.ScheduleTierTableRequest(
                effective_from=effective,
                video=[settlement_pb2.TierPrice(lower_bound=0, unit_price="1.5")],
                ad=[settlement_pb2.TierPrice(lower_bound=0, unit_price="2.5")],
            ),
            metadata=services.token(1, "ADMIN"),
        )
        count = f"SELECT COUNT(*) FROM tier_prices WHERE effective_from = '{effective}'"
        with engine.connect() as primary:
            assert primary.exec_driver_sql(count).scalar() == 2
        with sa.create_engine(replication_pair.replica_url).connect() as replica:
            assert replica.exec_driver_sql(count).scalar() == 0
    finally:
        replication_pair.start_replication()
    replication_pair.wait_caught_up()
    with sa.create_engine(replication_pair.replica_url).connect() as replica:
        assert replica.exec_driver_sql(count).scalar() == 2


def _reads_after(services, day: dt.date, seconds: float) -> set[Decimal]:
    totals = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        totals.add(_total(services, day))
    return totals


def test_job_finished_waits_for_a_replica_whose_replication_is_stopped(pair, services):
    replication_pair, engine = pair
    day = dt.date(2026, 3, 3)
    first = random_plays([day], VIDEOS, 60, seed=12, prefix="rep-b-")
    add_plays(engine, first)
    settings = replication_pair.settings(db_replica_max_lag_ms=MAX_LAG_MS)
    assert _run_job(settings, engine, day)[-1][1].type is EventType.JOB_FINISHED
    assert _total(services, day) == _expected(first, day)

    # Late plays for the same day, then a re-run while the replica applies nothing for 1.5 s
    # (less than the max lag: the replica stays in use, so the job must wait for it).
    second = random_plays([day], VIDEOS, 50, seed=13, prefix="rep-c-")
    add_plays(engine, second)
    replication_pair.stop_replication()
    stopped_at = time.monotonic()
    restart = threading.Timer(1.5, replication_pair.start_replication)
    restart.start()
    try:
        events = _run_job(settings, engine, day)
    finally:
        restart.join()
    finished_at, final = events[-1]
    assert final.type is EventType.JOB_FINISHED
    assert finished_at - stopped_at >= 1.5
    print(
        f"\nreplication stopped 1.5 s during the job: JOB_FINISHED {finished_at - stopped_at:.2f} s after the stop; {final.message}"
    )
    assert f"replica {replica_name(replication_pair.replica_url)} applied it" in final.message
    assert _reads_after(services, day, 1.0) == {_expected(first + second, day)}


def test_a_replica_that_does_not_catch_up_is_taken_out_of_use_and_no_read_is_older(pair, services):
    replication_pair, engine = pair
    day = dt.date(2026, 3, 4)
    settings = replication_pair.settings(db_replica_max_lag_ms=MAX_LAG_MS, db_replica_wait_sec=1)
    first = random_plays([day], VIDEOS, 60, seed=14, prefix="rep-d-")
    add_plays(engine, first)
    assert _run_job(settings, engine, day)[-1][1].type is EventType.JOB_FINISHED
    assert _total(services, day) == _expected(first, day)
    name = replica_name(replication_pair.replica_url)
    (target,) = services.read.router.replicas
    assert target.in_use

    second = random_plays([day], VIDEOS, 50, seed=15, prefix="rep-e-")
    add_plays(engine, second)
    replication_pair.stop_replication()
    try:
        events = _run_job(settings, engine, day)
        final = events[-1][1]
        assert final.type is EventType.JOB_FINISHED
        assert f"replica {name} had not applied it" in final.message and "out of use" in final.message
        # Right after JOB_FINISHED, and for a while: the new figure only (from the primary).
        primary_reads = _reads("primary")
        assert _reads_after(services, day, 1.0) == {_expected(first + second, day)}
        assert not target.in_use
        assert _reads("primary") > primary_reads
        # `paysystem status` says the same (its own check of the heartbeat).
        (health,) = probe(settings)
        assert health.name == name and not health.in_use and health.lag_ms > MAX_LAG_MS
    finally:
        replication_pair.start_replication()
    # Caught up: in use again, reads there, with the new figure.
    wait_until(lambda: target.in_use, 20, "the replica back in use after it caught up")
    replica_reads = _reads(name)
    assert _reads_after(services, day, 0.5) == {_expected(first + second, day)}
    assert _reads(name) > replica_reads


def test_the_replica_killed_under_read_load_fails_no_read_and_reads_come_back(pair, services):
    replication_pair, engine = pair
    day = dt.date(2026, 3, 5)
    plays = random_plays([day], VIDEOS, 60, seed=16, prefix="rep-f-")
    add_plays(engine, plays)
    assert _run_job(replication_pair.settings(db_replica_max_lag_ms=MAX_LAG_MS), engine, day)[-1][1].type is (
        EventType.JOB_FINISHED
    )
    expected = _expected(plays, day)
    name = replica_name(replication_pair.replica_url)
    (target,) = services.read.router.replicas
    assert _total(services, day) == expected  # the first read starts the health checks
    wait_until(lambda: target.in_use, 10, "the replica in use")

    threads, per_thread = 4, 500
    failures: list[str] = []
    wrong: list[Decimal] = []
    done = [0]
    lock = threading.Lock()

    def load() -> None:
        for _ in range(per_thread):
            try:
                total = _total(services, day)
            except grpc.RpcError as exc:
                with lock:
                    failures.append(f"{exc.code()}: {exc.details()}")
                continue
            with lock:
                done[0] += 1
                if total != expected:
                    wrong.append(total)

    before = {"replica": _reads(name), "primary": _reads("primary")}
    workers = [threading.Thread(target=load) for _ in range(threads)]
    load_started = time.monotonic()
    for worker in workers:
        worker.start()
    wait_until(lambda: done[0] >= 300, 60, "300 reads before the kill")
    replication_pair.replica.kill()
    killed_at = {"replica": _reads(name), "primary": _reads("primary")}
    wait_until(lambda: done[0] >= 900, 60, "600 reads with the replica down")
    down = {"replica": _reads(name), "primary": _reads("primary")}
    replication_pair.replica.start()
    wait_until(lambda: target.in_use, 30, "the replica back in use after its restart")
    back_at = _reads(name)
    for worker in workers:
        worker.join(120)
    load_sec = time.monotonic() - load_started

    print(
        f"\nreplica killed under load: {done[0]} reads, {len(failures)} failed; replica reads before the kill"
        f" {killed_at['replica'] - before['replica']:.0f}, primary reads while it was down"
        f" {down['primary'] - killed_at['primary']:.0f}, back in use after its restart; {load_sec:.1f} s"
        f" ({done[0] / load_sec:.0f} reads/s, {threads} threads)"
    )
    assert failures == [] and wrong == []
    assert done[0] == threads * per_thread
    assert killed_at["replica"] > before["replica"]  # it served reads before the kill
    assert down["primary"] - killed_at["primary"] >= 500  # the primary took them meanwhile
    assert down["replica"] - killed_at["replica"] <= threads  # at most the reads in flight at the kill
    # Back: reads run on the replica again (the load may have ended; a few more reads).
    assert _reads_after(services, day, 0.5) == {expected}
    assert _reads(name) > back_at


DAILY_FIGURES = (
    "SELECT video_id, seller_id, views, watch_time_sec, ad_views, cum_views, cum_ad_views, video_revenue,"
    " ad_revenue, plays, excluded_self_view, excluded_overlap, excluded_repeat, excluded_cap,"
    " excluded_stream_limit FROM daily_video_stats WHERE day = :day ORDER BY video_id"
)


def _plays_reads(node) -> int:
    """The Spark JDBC source's queries of the plays in `node`'s general log (each is
    `SELECT ... FROM plays WHERE ...) AS plays_range`, batch/spark/sources.py). `%%`: the
    driver formats the statement."""
    (row,) = node.sql(
        "SELECT COUNT(*) AS n FROM mysql.general_log"
        " WHERE command_type = 'Query' AND CONVERT(argument USING utf8mb4) LIKE '%%FROM plays WHERE%%plays_range%%'"
    )
    return int(row["n"])


def test_the_spark_engine_reads_the_plays_from_the_replica(pair, spark_local, spark_settings):
    """PAYSYSTEM_DB_READ_URLS names a replica: the Spark engine's JDBC reads of the plays run
    on the replica (its general log has them, the primary's none), its writes go to the
    primary, and its figures are the SQL engine's."""
    replication_pair, engine = pair
    day = dt.date(2026, 3, 6)
    plays = random_plays([day], VIDEOS, 60, seed=17, prefix="rep-g-")
    add_plays(engine, plays)
    settings = replication_pair.settings(db_replica_max_lag_ms=MAX_LAG_MS)
    assert _run_job(settings, engine, day)[-1][1].type is EventType.JOB_FINISHED
    with engine.connect() as conn:
        sql_rows = conn.execute(sa.text(DAILY_FIGURES), {"day": day}).all()
    assert len(sql_rows) == len(VIDEOS)
    nodes = (replication_pair.primary, replication_pair.replica)
    for node in nodes:
        node.sql("SET GLOBAL general_log = 0")
        node.sql("SET GLOBAL log_output = 'TABLE'")
        node.sql("TRUNCATE TABLE mysql.general_log")
        node.sql("SET GLOBAL general_log = 1")
    spark = settings.model_copy(
        update={"batch_engine": "spark", "spark_master": spark_settings.spark_master, "spark_partitions": 2}
    )
    try:
        batch = runner_for(spark, engine, workers=2)
        events = list(batch.run("daily", day, rerun=True, today=day + dt.timedelta(days=1)))
    finally:
        for node in nodes:
            node.sql("SET GLOBAL general_log = 0")
    assert events[-1].type is EventType.JOB_FINISHED, events[-1]
    finished = [e for e in events if e.type is EventType.PARTITION_FINISHED]
    assert sum(e.rows_read for e in finished) == len(plays)
    assert _plays_reads(replication_pair.replica) > 0
    assert _plays_reads(replication_pair.primary) == 0
    with engine.connect() as conn:
        assert conn.execute(sa.text(DAILY_FIGURES), {"day": day}).all() == sql_rows
        written_by = set(
            conn.execute(
                sa.text("SELECT DISTINCT job_execution_id FROM daily_video_stats WHERE day = :day"), {"day": day}
            ).scalars()
        )
    assert written_by == {events[-1].job_execution_id}  # rewritten by the Spark run, on the primary
