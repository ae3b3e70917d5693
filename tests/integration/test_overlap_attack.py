"""The overlap attack: one viewer's player claims 2,000 overlapping 900-second playbacks of a
video started 30 s apart, backdated by weeks and backfilled by an INGEST account (so the
ingest stores every one). The batch must pay at most what the rules allow: the reference
computes it independently, and the figures are worked by hand too."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from decimal import Decimal

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from paysystem.v1 import video_pb2
from tests.integration.conftest import BatchData
from tests.plugins.video import video_service
from tests.reference import Play, Video, compute_daily, compute_periods

PLAYS, GAP_SEC, LENGTH_SEC, DURATION_SEC = 2_000, 30, 900, 1_200
S = 1_000_000


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    with video_service("mariadb", tmp_path_factory.mktemp("attack")) as harness:
        seller, viewer, ingest = harness.account("SELLER"), harness.account("VIEWER"), harness.account("INGEST")
        video = harness.stub.CreateVideo(
            video_pb2.CreateVideoRequest(title="target", duration_sec=DURATION_SEC), metadata=harness.md(seller)
        )
        first_us = (time.time_ns() // 1000) - 30 * 86_400 * S  # four weeks and more ago
        plays = [
            Play(
                f"attack-{uuid.uuid4().hex}",
                video.video_id,
                viewer.account_id,
                first_us + i * GAP_SEC * S,
                0,
                LENGTH_SEC,
            )
            for i in range(PLAYS)
        ]
        events = []
        for p in plays:
            started = Timestamp()
            started.FromMicroseconds(p.started_at_us)
            events.append(
                video_pb2.PlayEvent(
                    event_id=p.event_id,
                    video_id=p.video_id,
                    viewer_id=p.viewer_id,
                    started_at=started,
                    start_position_sec=p.start_position_sec,
                    end_position_sec=p.end_position_sec,
                )
            )
        response = harness.stub.RecordPlays(video_pb2.RecordPlaysRequest(events=events), metadata=harness.md(ingest))
        assert (response.stored, response.rejected) == (PLAYS, 0)
        data = BatchData(harness.engine, harness.ctx.settings.zone)
        data.run_pending()
        yield data, [Video(video.video_id, seller.account_id, DURATION_SEC)], plays


def test_two_thousand_overlapping_playbacks_earn_one_view(attacked):
    data, videos, plays = attacked
    rows = data.daily_rows()
    expected = compute_daily(videos, plays, data.zone)
    assert rows == expected
    # Each play starts 30 s after one that needs 450 s at 2x: all but the first overlap, on
    # every day the 16.7 hours touch. One view, its 3 ad marks (300, 600, 900), 900 s watched.
    assert sum(r.views for r in rows.values()) == 1
    assert sum(r.ad_views for r in rows.values()) == 3
    assert sum(r.watch_time_sec for r in rows.values()) == LENGTH_SEC
    assert sum(r.excluded_overlap for r in rows.values()) == PLAYS - 1
    assert sum(r.video_revenue + r.ad_revenue for r in rows.values()) == Decimal("1.0") + 3 * Decimal(10)
    for period in ("WEEKLY", "MONTHLY"):
        assert data.period_rows(period) == compute_periods(expected, period)


def test_the_attack_days_are_all_computed(attacked):
    data, _, _ = attacked
    assert data.days_to_compute(dt.date(2100, 1, 1)) == []
