"""The freshness contract (services/readpath/dataversion.py, batch/jobs/publication.py) on
MariaDB: the batch publishes how long read services may trust a data version, so a read
instance configured to trust its readings far longer than the batch waits still serves the
new figures the moment a job has finished; a failure after the days were published is
counted, logged and named in the final event."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from batch.data_state import announce_reader_max_age, publication_delay_sec, read_data_state
from batch.jobs.model import EventType
from batch.wiring import runner_for
from paysystem.v1 import common_pb2, settlement_pb2
from services.common.settings import Settings
from tests.databases import fresh_database
from tests.mesh import reserve_port_block
from tests.plugins.jobs import add_plays, add_videos, expected_seller_total, random_plays
from tests.plugins.readside import REDIS_SHARED_DB3, make_read_side, migrated_engine, serve_read_services

DAY = dt.date(2026, 5, 12)
VIDEOS = [1, 2, 3]
SELLER = 1_000_001  # tests.plugins.jobs.add_videos: seller 1_000_000 + video % 10
BATCH_MAX_AGE_MS = 300


@pytest.fixture
def database(tmp_path):
    with fresh_database("mariadb", "paysystem_pub_", tmp_path) as url:
        engine = migrated_engine(url)
        yield url, engine
        engine.dispose()


def _expected_total(plays: list[dict]) -> Decimal:
    return expected_seller_total(plays, VIDEOS, SELLER)


def test_a_reader_trusting_its_readings_for_a_minute_serves_the_new_figure_right_after_the_job(database, tmp_path):
    url, engine = database
    add_videos(engine, VIDEOS)
    first = random_plays([DAY], VIDEOS, 60, seed=3, prefix="pub-a-")
    add_plays(engine, first)
    batch = runner_for(Settings(db_url=url, data_version_max_age_ms=BATCH_MAX_AGE_MS), engine, workers=2)
    assert list(batch.run("daily", DAY, today=DAY + dt.timedelta(days=1)))[-1].type is EventType.JOB_FINISHED

    # A read instance that polls the version once a minute and would trust a reading as long.
    # Its statements are cached (Redis and its local tier) under the version it trusts.
    patient = Settings(db_url=url, data_version_poll_ms=60_000, data_version_max_age_ms=60_000)
    read = make_read_side(engine, REDIS_SHARED_DB3, f"pub{uuid.uuid4().hex[:8]}", settings=patient)
    port, lock = reserve_port_block(1, range(21150, 21190))
    try:
        with serve_read_services(url, tmp_path / "read", port, read) as services:

            def total() -> Decimal:
                request = settlement_pb2.GetStatementRequest(
                    seller_id=SELLER, period=common_pb2.DAILY, date=DAY.isoformat()
                )
                return Decimal(services.settlement.GetStatement(request, metadata=services.token(SELLER)).total)

            assert total() == _expected_total(first) == total()  # the second one from the cache
            assert read.data_state().reader_max_age_ms == BATCH_MAX_AGE_MS
            second = random_plays([DAY], VIDEOS, 40, seed=4, prefix="pub-b-")
            add_plays(engine, second)
            events = list(batch.run("daily", DAY, rerun=True, today=DAY + dt.timedelta(days=1)))
            assert events[-1].type is EventType.JOB_FINISHED, events[-1]

            assert total() == _expected_total(first + second) != _expected_total(first)
    finally:
        read.versions.close()
        read.cache.invalidate_after_batch()  # this test's keys only (its own prefix)
        lock.close()


def test_the_wait_covers_the_window_it_replaces_and_no_window_means_no_trust(database):
    _, engine = database
    with engine.connect() as conn:
        assert read_data_state(conn).reader_max_age_ms == 0  # nothing published: read every time
    with engine.begin() as conn:
        assert announce_reader_max_age(conn, 2_000, now_us=1) == 0
    with engine.begin() as conn:
        assert announce_reader_max_age(conn, 100, now_us=2) == 2_000  # a batch waits max(2000, 100)
    with engine.connect() as conn:
        assert read_data_state(conn).reader_max_age_ms == 100
    assert publication_delay_sec(max(2_000, 100)) > 2.0


def test_a_failing_hook_after_the_days_were_published_is_counted_and_named_in_the_final_event(database):
    url, engine = database
    add_videos(engine, VIDEOS)
    add_plays(engine, random_plays([DAY], VIDEOS, 20, seed=5, prefix="pub-c-"))

    def broken(days):
        raise ConnectionError("redis went away")

    def failures() -> float:
        return REGISTRY.get_sample_value("paysystem_batch_publication_failures_total", {"step": "after_days"}) or 0

    before = failures()
    batch = runner_for(Settings(db_url=url, data_version_max_age_ms=0), engine, workers=1, after_days_computed=broken)
    final = list(batch.run("daily", DAY, today=DAY + dt.timedelta(days=1)))[-1]
    assert final.type is EventType.JOB_FINISHED  # the figures are committed and visible
    assert "ConnectionError: redis went away" in final.message
    assert failures() == before + 1
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM computed_days")).scalar_one() == 1
