"""What the triggers on `plays` keep for the stream limit (services/video/overlaps.py), on real
MariaDB and SQLite: the copies of the plays that touch another play of their viewer, the
viewers' busy days when a play has more than NEARBY_LIMIT plays within its reach, the
deletes, the set-based backfill, and the stream-limit step over them against
tests/reference.py. The concurrency of two ingests of one viewer is in
test_viewer_overlaps_race.py."""

from __future__ import annotations

import datetime as dt
import itertools

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batch.steps import compute_stream_limit
from domain.periods import day_bounds_us, local_day_of
from services.video import overlaps
from tests.integration.conftest import SEOUL
from tests.reference import Play, Video, over_stream_limit, touching_plays

DAY = dt.date(2026, 11, 3)
S = 1_000_000
VIDEOS = [Video(1, 1000, 600), Video(2, 1000, 61), Video(3, 1000, 7200)]
_ids = itertools.count()


def at(day: dt.date, seconds: int) -> int:
    return day_bounds_us(day, SEOUL)[0] + seconds * S


def play(started: int, end: int = 600, *, video: int = 1, viewer: int = 7, start: int = 0) -> Play:
    return Play(f"o{next(_ids):07d}", video, viewer, started, start, end)


def marked(batch_db) -> tuple[set[str], set[tuple[dt.date, int]]]:
    with batch_db.engine.connect() as conn:
        copies = set(
            conn.execute(sa.text("SELECT p.event_id FROM viewer_overlaps o JOIN plays p ON p.play_id = o.play_id"))
            .scalars()
            .all()
        )
        busy = {
            (dt.date.fromisoformat(str(day)), int(viewer))
            for day, viewer in conn.execute(sa.text("SELECT local_day, viewer_id FROM viewer_busy_days"))
        }
    return copies, busy


def assert_covered(batch_db, plays: list[Play]) -> None:
    """Every play that touches another is copied, or its viewer is busy on its day or the day
    before; and nothing is copied that touches nothing (the check is exact)."""
    copies, busy = marked(batch_db)
    videos = {v.video_id: v for v in VIDEOS}
    touching = touching_plays(videos, plays)
    assert copies <= touching
    for p in plays:
        day = local_day_of(p.started_at_us, SEOUL)
        if p.event_id in touching and p.event_id not in copies:
            assert {(day, p.viewer_id), (day - dt.timedelta(days=1), p.viewer_id)} & busy, p


def stream_limited(batch_db, day: dt.date) -> set[str]:
    with batch_db.engine.begin() as conn:
        compute_stream_limit(conn, day, zone=SEOUL)
        return set(
            conn.execute(
                sa.text("SELECT event_id FROM stream_limited_plays WHERE local_day = :day").bindparams(
                    sa.bindparam("day", type_=sa.Date)
                ),
                {"day": day},
            ).scalars()
        )


def test_a_play_starting_while_another_runs_copies_both_and_an_end_at_the_start_does_not(batch_db):
    batch_db.add_videos(VIDEOS)
    a = play(at(DAY, 0))  # 600 s watched: runs 300 s
    b = play(at(DAY, 100), video=2)  # starts while a runs: both copied
    c = play(at(DAY, 300))  # a ends exactly at its start; b (61 s: 30.5 s) ended before
    zero = play(at(DAY, 1000), end=0)  # zero watch time: never runs
    other = play(at(DAY, 1000), viewer=8)  # another viewer at zero's instant
    batch_db.add_plays([a, b, c, zero, other])
    assert marked(batch_db) == ({a.event_id, b.event_id}, set())
    assert_covered(batch_db, [a, b, c, zero, other])


def test_a_late_play_marks_the_plays_it_touches_and_a_delete_drops_its_copy(batch_db):
    batch_db.add_videos(VIDEOS)
    later = play(at(DAY, 60))
    batch_db.add_plays([later])
    assert marked(batch_db) == (set(), set())
    earlier = play(at(DAY - dt.timedelta(days=1), 86_400 - 100))  # yesterday evening, runs past midnight
    batch_db.add_plays([earlier])
    assert marked(batch_db)[0] == {later.event_id, earlier.event_id}
    with batch_db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM plays WHERE event_id = :e"), {"e": earlier.event_id})
    assert marked(batch_db)[0] == {later.event_id}


def test_more_plays_within_reach_than_the_limit_make_the_viewers_day_busy_and_the_figures_stay(batch_db):
    batch_db.add_videos(VIDEOS)
    burst = [play(at(DAY, 40_000 + i), video=1 + i % 3) for i in range(overlaps.NEARBY_LIMIT + 8)]
    honest = [play(at(DAY, 3600 * h), viewer=9) for h in range(0, 24, 2)]
    batch_db.add_plays(burst + honest)
    copies, busy = marked(batch_db)
    assert busy == {(DAY, 7)}
    assert not {p.event_id for p in honest} & copies
    assert_covered(batch_db, burst + honest)
    videos = {v.video_id: v for v in VIDEOS}
    expected = over_stream_limit(videos, burst + honest)
    assert len(expected) >= overlaps.NEARBY_LIMIT  # the burst is mostly over the limit
    assert stream_limited(batch_db, DAY) == expected


def test_a_busy_evening_reaches_the_next_day(batch_db):
    """Two long plays the evening before, stored after the next morning's play they both run
    over, in a crowd of the viewer's plays: they make the evening busy instead of being
    checked, the morning's play is in no copy, and the next day's step still finds it over
    the limit."""
    batch_db.add_videos(VIDEOS)
    morning = play(at(DAY, 60), video=2)
    batch_db.add_plays([morning])
    evening = DAY - dt.timedelta(days=1)
    crowd = [play(at(evening, 86_400 - 3000 + i), video=2) for i in range(overlaps.NEARBY_LIMIT + 1)]
    long_plays = [play(at(evening, 86_400 - 2000 + i), end=7200, video=3) for i in range(2)]  # run 3600 s
    batch_db.add_plays(crowd + long_plays)
    copies, busy = marked(batch_db)
    assert (evening, 7) in busy
    assert morning.event_id not in copies and not {p.event_id for p in long_plays} & copies
    videos = {v.video_id: v for v in VIDEOS}
    assert over_stream_limit(videos, [morning, *crowd, *long_plays]) & {morning.event_id}
    assert stream_limited(batch_db, DAY) == {morning.event_id}


def test_the_backfill_marks_what_the_triggers_would(batch_db):
    """With at most NEARBY_LIMIT plays per viewer and day, the same marks; with more, the
    backfill makes the whole day busy (a superset, still covered)."""
    batch_db.add_videos(VIDEOS)
    plays = [play(at(DAY, 50 * i), end=100 * (i % 7), video=1 + i % 3, viewer=7 + i % 3) for i in range(45)]
    batch_db.add_plays(plays)
    by_triggers = marked(batch_db)
    with batch_db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM viewer_overlaps"))
        conn.execute(sa.text("DELETE FROM viewer_busy_days"))
        overlaps.drop_triggers(conn)
        overlaps.restore_after_bulk_load(conn)
    assert marked(batch_db) == by_triggers
    assert_covered(batch_db, plays)
    crowd = [play(at(DAY, 40_000 + 10 * i), viewer=20) for i in range(overlaps.NEARBY_LIMIT + 1)]
    with batch_db.engine.begin() as conn:
        overlaps.drop_triggers(conn)
    batch_db.add_plays(crowd)
    with batch_db.engine.begin() as conn:
        overlaps.restore_after_bulk_load(conn)
    assert (DAY, 20) in marked(batch_db)[1]
    assert_covered(batch_db, plays + crowd)


_starts = st.lists(
    st.tuples(
        st.integers(0, 1),  # viewer 7 or 8
        st.sampled_from([v.video_id for v in VIDEOS]),
        st.integers(-4000, 4000),  # seconds around the day's midnight
        st.integers(0, 700),  # start position
        st.integers(0, 8000),  # end position
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(starts=_starts, chunk=st.integers(1, 25), data=st.data())
def test_random_plays_in_random_order_and_chunks_are_covered_and_the_limit_equals_the_reference(
    batch_db, starts, chunk, data
):
    batch_db.clear()
    batch_db.add_videos(VIDEOS)
    plays = [play(at(DAY, sec), end, video=video, viewer=7 + v, start=start) for v, video, sec, start, end in starts]
    arrival = data.draw(st.permutations(plays))
    for i in range(0, len(arrival), chunk):
        batch_db.add_plays(list(arrival[i : i + chunk]))
    assert_covered(batch_db, plays)
    videos = {v.video_id: v for v in VIDEOS}
    expected = over_stream_limit(videos, plays)
    for day in (DAY - dt.timedelta(days=1), DAY):
        on_day = {p.event_id for p in plays if local_day_of(p.started_at_us, SEOUL) == day}
        assert stream_limited(batch_db, day) == expected & on_day
