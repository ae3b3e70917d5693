"""Property: whatever the order, the chunking and the repeats, the same events end up stored.

Also on MariaDB with the exact write path MySQL 8 takes, forced (SELECT, then plain INSERT).
"""

from __future__ import annotations

import itertools
import random

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.plays import Outcome, PlayEvent
from services.account.tables import accounts
from services.common import auth, db
from services.common.settings import Settings
from services.video import repository
from services.video.ingest import Ingest, sql_play_log
from services.video.tables import plays, videos
from tests.databases import fresh_database
from tests.plugins.video import DB_PREFIX

T0 = 1_790_000_000_000_000
DURATIONS = (30, 301, 1_200)
_runs = itertools.count()


@pytest.fixture(scope="module", params=["sqlite", "mariadb", "mariadb-select-then-insert"])
def world(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ingest-props")
    backend = request.param.split("-")[0]
    strategy = repository.SELECT_THEN_INSERT if request.param.endswith("select-then-insert") else None
    with fresh_database(backend, DB_PREFIX, tmp) as url:
        engine = db.make_engine(Settings(db_url=url))
        with engine.begin() as conn:
            viewer_ids = [
                conn.execute(
                    sa.insert(accounts).values(username=f"v{i}", password_hash="!", role="VIEWER", created_at_us=0)
                ).inserted_primary_key[0]
                for i in range(3)
            ]
            video_ids = [
                conn.execute(
                    sa.insert(videos).values(seller_id=viewer_ids[0], title="t", duration_sec=d, created_at_us=0)
                ).inserted_primary_key[0]
                for d in DURATIONS
            ]
        yield engine, video_ids, viewer_ids, strategy
        engine.dispose()


# An event template: (video index or -1 for an unknown video, viewer index, offset s, start, length).
templates = st.lists(
    st.tuples(
        st.integers(-1, len(DURATIONS) - 1),
        st.integers(0, 2),
        st.integers(-3_600, 3_600),
        st.integers(-2, 1_300),
        st.integers(-2, 400),
    ),
    min_size=1,
    max_size=40,
)


def _events(prefix: str, drawn, video_ids, viewer_ids) -> list[PlayEvent]:
    return [
        PlayEvent(
            event_id=f"{prefix}-{i}",
            video_id=video_ids[v] if v >= 0 else 10**12,
            viewer_id=viewer_ids[w],
            started_at_us=T0 + offset * 1_000_000,
            start_position_sec=start,
            end_position_sec=start + length,
        )
        for i, (v, w, offset, start, length) in enumerate(drawn)
    ]


def _stored(engine, prefix: str) -> set[tuple]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                plays.c.event_id,
                plays.c.video_id,
                plays.c.viewer_id,
                plays.c.started_at_us,
                plays.c.start_position_sec,
                plays.c.end_position_sec,
            ).where(plays.c.event_id.like(f"{prefix}-%"))
        )
        return {(r[0].split("-", 1)[1], *r[1:]) for r in rows}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=templates, seed=st.integers(0, 2**32 - 1), chunk=st.integers(1, 15))
def test_resubmitting_in_any_order_with_repeats_leaves_the_same_stored_set(world, drawn, seed, chunk):
    engine, video_ids, viewer_ids, strategy = world
    ingest = Ingest(sql_play_log(engine, exact_strategy=strategy), Settings().zone)
    ingester = auth.Principal(0, "ingest", "INGEST")
    run = next(_runs)
    a, b = f"a{run}", f"b{run}"

    in_order = _events(a, drawn, video_ids, viewer_ids)
    first = ingest.record_plays(ingester, in_order)

    shuffled = _events(b, drawn, video_ids, viewer_ids)
    rng = random.Random(seed)
    resubmitted = shuffled + rng.sample(shuffled, k=len(shuffled) // 2)
    rng.shuffle(resubmitted)
    outcomes: dict[str, list[Outcome]] = {}
    for start in range(0, len(resubmitted), chunk):
        for r in ingest.record_plays(ingester, resubmitted[start : start + chunk]):
            outcomes.setdefault(r.event_id, []).append(r.outcome)

    assert _stored(engine, a) == _stored(engine, b)
    stored_a = {f"{b}-{row[0]}" for row in _stored(engine, a)}
    assert {e.event_id for e, r in zip(in_order, first, strict=True) if r.outcome is Outcome.STORED} == {
        f"{a}-{x.split('-', 1)[1]}" for x in stored_a
    }
    # Each event is either always rejected, or stored once and a duplicate ever after.
    for event_id, seen in outcomes.items():
        if event_id in stored_a:
            assert seen[0] is Outcome.STORED and set(seen[1:]) <= {Outcome.DUPLICATE}
        else:
            assert set(seen) == {Outcome.REJECTED}
