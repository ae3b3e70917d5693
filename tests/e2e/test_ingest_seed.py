"""`seed(...)` through the running mesh: accounts, videos and playbacks via the real API."""

from __future__ import annotations

import uuid
from collections import Counter

import sqlalchemy as sa

from domain.counted_views import Exclusion, classify_plays
from entrypoints.cli.seed import seed
from services.common import db
from services.video.tables import plays, videos


def test_seeding_through_the_api_stores_every_playback_and_a_rerun_stores_nothing_new(mesh):
    prefix = f"s{uuid.uuid4().hex[:6]}"
    kwargs = dict(
        url=mesh.base_url,
        sellers=2,
        viewers=6,
        videos=8,
        plays=3_000,
        days=3,
        random_seed=5,
        prefix=prefix,
        settings=mesh.settings,
    )
    first = seed(**kwargs)
    assert (first.sent, first.stored, first.duplicates, first.rejected) == (3_000, 3_000, 0, 0)
    assert len(first.sellers) == 2 and len(first.videos) == 8
    demo = first.demo_seller
    token = mesh.login(demo.username, demo.password)
    status, listed = mesh.json("GET", f"/v1/sellers/{demo.account_id}/videos", token=token)
    assert status == 200 and len(listed["videos"]) >= 1

    again = seed(**kwargs)  # same seed: same accounts, same videos, same events
    assert [v.video_id for v in again.videos] == [v.video_id for v in first.videos]
    assert (again.stored, again.duplicates, again.rejected) == (0, 3_000, 0)

    engine = db.make_engine(mesh.settings)
    try:
        with engine.connect() as conn:
            stored = conn.execute(
                sa.select(
                    plays.c.event_id,
                    plays.c.video_id,
                    plays.c.viewer_id,
                    plays.c.started_at_us,
                    plays.c.start_position_sec,
                    plays.c.end_position_sec,
                ).where(plays.c.event_id.like(f"{prefix}-%"))
            ).all()
            owners = {
                r.video_id: (r.seller_id, r.duration_sec)
                for r in conn.execute(
                    sa.select(videos).where(videos.c.video_id.in_([v.video_id for v in first.videos]))
                )
            }
    finally:
        engine.dispose()
    assert len(stored) == 3_000
    # The summary's rule counts are what the rules say of the stored playbacks.
    outcomes = Counter(classify_plays(stored, owners, zone=mesh.settings.zone).values())
    assert (
        first.rules
        == again.rules
        == {
            "counted views": outcomes[None],
            "self-views": outcomes[Exclusion.SELF_VIEW],
            "overlaps": outcomes[Exclusion.OVERLAP],
            "over the stream limit": outcomes[Exclusion.STREAM_LIMIT],
            "repeats within 30 s": outcomes[Exclusion.REPEAT],
            "over the daily cap": outcomes[Exclusion.CAP],
        }
    )
    assert outcomes[None] > 500 and outcomes[Exclusion.OVERLAP] > 0 and outcomes[Exclusion.CAP] > 0
