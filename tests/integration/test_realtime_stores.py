"""The realtime estimate's two stores give the same answer for the same plays (a contract
test): playbacks ingested through the real video service (gRPC, its Redis counter wired as
in production) on MariaDB and SQLite, then read from Redis (services/video/realtime.py
RedisRealtime) and from the play history (sql_per_minute), both equal to tests/reference.py's
walk over the plays. On MariaDB the play-history query reads a range of the started_at index,
not the whole table. Ingest stores its plays while Redis is down."""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client import REGISTRY

from domain import realtime
from domain.plays import PlayEvent
from paysystem.v1 import video_pb2
from services.common.auth import Principal
from services.common.breakers import redis_breaker
from services.common.clock import FixedClock
from services.readpath.cache import make_redis
from services.statistics.realtime import StoredCounts
from services.video.ingest import Ingest
from services.video.published import RedisRealtime, sql_per_minute
from services.video.realtime import PREFIX, IngestCounter, per_minute_query
from tests.fakes.video import FakePlayLog
from tests.plugins.readside import REDIS_SHARED_DB3, add_videos, make_read_side
from tests.plugins.video import video_service
from tests.redis_cluster import free_cluster_ports
from tests.reference import Play, Video, realtime_estimate

HOUR_US = 3_600_000_000


def _real_now() -> dt.datetime:
    """The test's "now". Redis expires the counters on its own clock (EXPIREAT, ten minutes after
    an hour has left the window), so "now" is the real instant, taken when the service starts and
    not when the module is imported: in a long suite the import comes an hour or more before the
    test, and the oldest hour's counters were gone by then. Its microseconds are set, so that
    instants keep a fraction of a second (rounding is tested)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=123456)


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def harness(request, tmp_path_factory):
    with video_service(
        request.param,
        tmp_path_factory.mktemp("realtime"),
        redis_url=REDIS_SHARED_DB3,
        test_mode=True,
        test_now=_real_now().isoformat(),
    ) as h:
        yield h


@pytest.fixture
def now(harness) -> dt.datetime:
    """The instant the harness's video service takes as now (its PAYSYSTEM_TEST_NOW)."""
    return dt.datetime.fromisoformat(harness.ctx.settings.test_now)


def _forget(seller_ids) -> None:
    """Deletes these sellers' counters: another database (the other backend, an earlier run)
    has accounts with the same ids."""
    client = make_redis(REDIS_SHARED_DB3)
    for seller_id in seller_ids:
        keys = list(client.scan_iter(match=f"{PREFIX}:{{{seller_id}}}:*"))
        if keys:
            client.delete(*keys)


def _rfc3339(points) -> list[tuple[str, int]]:
    return [
        (dt.datetime.fromtimestamp(p.start_us / 1e6, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), p.playbacks)
        for p in points
    ]


def _event(play: Play) -> video_pb2.PlayEvent:
    started = Timestamp()
    started.FromMicroseconds(play.started_at_us)
    return video_pb2.PlayEvent(
        event_id=play.event_id,
        video_id=play.video_id,
        viewer_id=play.viewer_id,
        started_at=started,
        start_position_sec=play.start_position_sec,
        end_position_sec=play.end_position_sec,
    )


def test_redis_and_the_play_history_give_the_reference_figures(harness, now):
    now_us = harness.ctx.settings.test_now_us
    seller, other_seller = harness.account("SELLER"), harness.account("SELLER")
    viewers = [harness.account("VIEWER").account_id for _ in range(3)]
    ingest = harness.account("INGEST")
    _forget([seller.account_id, other_seller.account_id])
    base = random.randrange(10**6, 10**9)
    catalogue = {
        base + 1: Video(base + 1, seller.account_id, 600),
        base + 2: Video(base + 2, seller.account_id, 600),
        base + 3: Video(base + 3, other_seller.account_id, 600),
    }
    with harness.engine.begin() as conn:
        add_videos(conn, seller.account_id, [base + 1, base + 2])
        add_videos(conn, other_seller.account_id, [base + 3])
    rng = random.Random(32)
    plays = []
    # Starts from 50 hours ago (before the window) to a minute ahead (counted, shown once its
    # minute comes), with the edges: the window's first microsecond and the one before it,
    # this minute's first and last; viewers include both sellers (a self-view on their own
    # videos, a view on the other's).
    first_us = int((now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=47)).timestamp()) * 10**6
    this_minute_us = now_us - now_us % 60_000_000
    starts = [first_us, first_us - 1, this_minute_us, this_minute_us + 59_999_999]
    starts += [now_us - rng.randrange(-60 * 10**6, 50 * HOUR_US) for _ in range(150)]
    # a burst in the last hour, so the minutes are not mostly zeros
    starts += [now_us - rng.randrange(0, HOUR_US + 10 * 60 * 10**6) for _ in range(60)]
    for i, started in enumerate(starts):
        viewer = rng.choice([*viewers, seller.account_id, other_seller.account_id])
        plays.append(Play(f"rt-{uuid.uuid4().hex[:12]}-{i}", rng.choice(list(catalogue)), viewer, started, 0, 20))
    # Two calls: the second repeats some events (duplicates are not counted again).
    for chunk in (plays[:120], plays[100:]):
        response = harness.stub.RecordPlays(
            video_pb2.RecordPlaysRequest(events=[_event(p) for p in chunk]), metadata=harness.md(ingest)
        )
        assert response.rejected == 0, [r.reason for r in response.results if r.reason][:3]

    store = RedisRealtime(make_redis(REDIS_SHARED_DB3), redis_breaker(f"redis-rt-{uuid.uuid4().hex[:6]}"))
    zone = harness.ctx.settings.zone
    # Now, and later: the window moves over the same counts (29 minutes on; 47 hours on).
    for at_us in (now_us, now_us + 29 * 60 * 10**6, now_us + 47 * HOUR_US):
        at = dt.datetime.fromtimestamp(at_us / 1e6, dt.UTC)
        for seller_id, video_id in [
            (seller.account_id, None),
            (seller.account_id, base + 1),
            (seller.account_id, base + 2),
            (other_seller.account_id, None),
            (other_seller.account_id, base + 3),
        ]:
            expected = realtime_estimate(catalogue, plays, at, seller_id, video_id)
            from_redis = realtime.figures(at_us, store.per_minute(seller_id, video_id, at_us))
            with harness.engine.connect() as conn:
                from_sql = realtime.figures(at_us, sql_per_minute(conn, seller_id, video_id, at_us, zone))
            assert (_rfc3339(from_redis.minutes), _rfc3339(from_redis.hours)) == expected, (seller_id, video_id, at)
            assert (_rfc3339(from_sql.minutes), _rfc3339(from_sql.hours)) == expected, (seller_id, video_id, at)
    assert sum(n for _, n in realtime_estimate(catalogue, plays, now, seller.account_id)[0]) > 10  # not all zeros

    # The statistics service's store: Redis when it answers; the play history when it does not.
    live = StoredCounts(make_read_side(harness.engine, REDIS_SHARED_DB3, f"rt-{uuid.uuid4().hex[:6]}"))
    dead_url = f"redis://127.0.0.1:{free_cluster_ports(1)[0]}/0"
    dead = StoredCounts(make_read_side(harness.engine, dead_url, f"rt-{uuid.uuid4().hex[:6]}"))
    expected = realtime_estimate(catalogue, plays, now, seller.account_id, base + 1)
    for counts in (live, dead):
        figures = realtime.figures(now_us, counts.per_minute(seller.account_id, base + 1, now_us))
        assert (_rfc3339(figures.minutes), _rfc3339(figures.hours)) == expected
    assert dead.video_seller(base + 3) == other_seller.account_id and dead.video_seller(base + 9) is None

    # Every counter expires once its hour has left the window (plus the slack).
    client = make_redis(REDIS_SHARED_DB3)
    for key in client.scan_iter(match=f"{PREFIX}:{{{seller.account_id}}}:*"):
        hour_sec = int(key.rsplit(b":", 1)[1])
        expires_at = client.expiretime(key)
        assert expires_at == hour_sec + 48 * 3600 + 600


@pytest.mark.parametrize("harness", ["mariadb"], indirect=True)
def test_the_play_history_query_reads_an_index_range_not_the_table(harness):
    now_us = harness.ctx.settings.test_now_us
    with harness.engine.begin() as conn:
        # Old plays, so that the whole table is many times the window.
        conn.exec_driver_sql(
            "INSERT INTO plays (event_id, video_id, viewer_id, started_at_us, local_day, start_position_sec,"
            " end_position_sec, received_at_us)"
            f" SELECT CONCAT('old-', seq), 1 + MOD(seq, 50), 1, {now_us - 30 * 24 * HOUR_US} + seq * 1000000,"
            " '2026-11-07', 0, 10, 0 FROM seq_1_to_20000"
        )
        conn.exec_driver_sql("ANALYZE TABLE plays")
        query = per_minute_query(1, None, now_us, harness.ctx.settings.zone)
        sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        plan = [dict(row._mapping) for row in conn.exec_driver_sql("EXPLAIN PARTITIONS " + sql)]
    by_table = {row["table"]: row for row in plan}
    assert by_table["plays"]["type"] != "ALL", plan
    assert "p202611" not in (by_table["plays"]["partitions"] or ""), plan


def test_ingest_stores_its_plays_while_redis_is_down_and_says_so_once(caplog):
    """A Redis that refuses connections (a port nobody listens on): every playback is stored,
    each failed count is in the metric, the log says it once, and the breaker opens."""
    now_us = time.time_ns() // 1000
    dead = f"redis://127.0.0.1:{free_cluster_ports(1)[0]}/0"
    breaker = redis_breaker(f"redis-rt-down-{uuid.uuid4().hex[:6]}", fail_max=2)
    counter = IngestCounter(RedisRealtime(make_redis(dead), breaker), lambda video_ids: dict.fromkeys(video_ids, 5))
    log = FakePlayLog({7: 600}, {20, 21})
    ingest = Ingest(log, ZoneInfo("Asia/Seoul"), clock=FixedClock(now_us), on_stored=counter)
    before = REGISTRY.get_sample_value("paysystem_realtime_count_failures_total") or 0
    with caplog.at_level("WARNING", logger="services.video.realtime"):
        for i in range(4):
            events = [PlayEvent(f"down-{uuid.uuid4().hex}-{i}", 7, 20, now_us - 10**6, 0, 1)]
            results = ingest.record_plays(Principal(0, "ingest", "INGEST"), events)
            assert [r.outcome.name for r in results] == ["STORED"]
    assert len(log.plays) == 4
    assert (REGISTRY.get_sample_value("paysystem_realtime_count_failures_total") or 0) - before == 4
    assert len([r for r in caplog.records if "not counted in Redis" in r.getMessage()]) == 1
    assert breaker.state == "open"
