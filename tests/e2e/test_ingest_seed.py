"""`seed(...)` through the running mesh: accounts, videos and playbacks via the real API."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from services.cli.seed import seed
from services.common import db
from services.common.schema import plays


def test_seeding_through_the_api_stores_every_playback_and_a_rerun_stores_nothing_new(mesh):
    prefix = f"s{uuid.uuid4().hex[:6]}"
    kwargs = dict(
        url=mesh.base_url, sellers=2, viewers=6, videos=8, plays=3_000, days=3,
        random_seed=5, prefix=prefix, settings=mesh.settings,
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
                sa.select(sa.func.count()).select_from(plays).where(plays.c.event_id.like(f"{prefix}-%"))
            ).scalar()
    finally:
        engine.dispose()
    assert stored == 3_000
