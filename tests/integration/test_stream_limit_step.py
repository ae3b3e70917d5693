"""Rule 5, the stream limit, in the batch's SQL on real MariaDB and SQLite: the viewer-keyed
step (batch/steps/streams.py) and the partitions' attribution (batch/steps/daily.py), at the
rule's exact edges, across midnight, with ties, the cap and late data. Expected figures are
worked by hand in each test and checked against tests/reference.py."""

from __future__ import annotations

import datetime as dt
import itertools

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batch.steps
from batch.jobs.model import EventType
from batch.jobs.runner import JobRunner
from batch.steps import compute_stream_limit
from domain.periods import day_bounds_us
from tests.integration.conftest import SEOUL, BatchData
from tests.reference import Play, Video, compute_daily

MON = dt.date(2026, 11, 2)
TUE = dt.date(2026, 11, 3)
SELLER, VIEWER = 1000, 7
S = 1_000_000
_ids = itertools.count()


def at(day: dt.date, hh: int = 12, mm: int = 0, ss: int = 0) -> int:
    return day_bounds_us(day, SEOUL)[0] + ((hh * 60 + mm) * 60 + ss) * S


def play(started: int, start: int = 0, end: int = 600, video: int = 1, viewer: int = VIEWER, tag: str = "r") -> Play:
    return Play(f"{tag}{next(_ids):06d}", video, viewer, started, start, end)


def explained(r) -> tuple[int, ...]:
    return (r.views, r.watch_time_sec, r.ad_views, r.plays, r.excluded_self_view, r.excluded_overlap,
            r.excluded_stream_limit, r.excluded_repeat, r.excluded_cap)  # fmt: skip


def computed(batch_db, videos: list[Video], plays: list[Play]) -> dict:
    """The batch's daily rows, after checking that they equal the reference's."""
    rows = batch_db.daily_rows()
    assert rows == compute_daily(videos, plays, SEOUL)
    return rows


def limited(batch_db, day: dt.date) -> set[str]:
    with batch_db.engine.connect() as conn:
        return set(
            conn.execute(
                sa.text("SELECT event_id FROM stream_limited_plays WHERE local_day = :day").bindparams(
                    sa.bindparam("day", type_=sa.Date)
                ),
                {"day": day},
            ).scalars()
        )


VIDEOS = [Video(v, SELLER, 1000) for v in (1, 2, 3)] + [Video(4, VIEWER, 1000)]


def test_the_third_stream_is_over_the_limit_and_loses_view_ads_and_watch_time(batch_db):
    batch_db.add_videos(VIDEOS)
    base = at(MON)
    third = play(base + 20 * S, 0, 700, video=3)
    plays = [play(base, video=1), play(base + 10 * S, video=2), third]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    rows = computed(batch_db, VIDEOS, plays)
    assert explained(rows[(3, MON)]) == (0, 0, 0, 1, 0, 0, 1, 0, 0)
    assert explained(rows[(1, MON)]) == (1, 600, 2, 1, 0, 0, 0, 0, 0)
    assert limited(batch_db, MON) == {third.event_id}


def test_exact_edges_an_earlier_play_ending_at_the_start_and_half_seconds(batch_db):
    batch_db.add_videos(VIDEOS)
    base = at(MON)
    plays = [
        # 600 s runs 300 s: a third stream at exactly +300 s is under the limit...
        play(base, video=1, viewer=11),
        play(base + 10 * S, video=2, viewer=11),
        play(base + 300 * S, video=3, viewer=11),
        # ...1 microsecond earlier it is over.
        play(base, video=1, viewer=12),
        play(base + 10 * S, video=2, viewer=12),
        play(base + 300 * S - 1, video=3, viewer=12),
        # 601 s runs 300.5 s.
        play(base, 0, 601, video=1, viewer=13),
        play(base + 10 * S, video=2, viewer=13),
        play(base + 300_499_999, video=3, viewer=13),
        play(base, 0, 601, video=1, viewer=14),
        play(base + 10 * S, video=2, viewer=14),
        play(base + 300_500_000, video=3, viewer=14),
    ]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    rows = computed(batch_db, VIDEOS, plays)
    assert rows[(3, MON)].excluded_stream_limit == 2  # viewers 12 and 13


def test_zero_watch_time_never_runs_self_views_run_and_ties_go_by_event_id(batch_db):
    batch_db.add_videos(VIDEOS)
    base = at(MON)
    plays = [
        # a zero watch time (a seek past the end) does not run: the third is under the limit
        play(base, 1000, 1200, video=1, viewer=21),
        play(base + 1, video=2, viewer=21),
        play(base + 2, video=3, viewer=21),
        # ...but is itself over the limit when two run
        play(base, video=1, viewer=22),
        play(base + 1, video=2, viewer=22),
        play(base + 2, 5, 5, video=3, viewer=22),
        # the viewer's own video (a self-view) runs: the next two streams, the second is over
        play(base, video=4, viewer=VIEWER),
        play(base + 1 * S, video=1, viewer=VIEWER),
        play(base + 2 * S, video=2, viewer=VIEWER),
        # three at the same instant: the third in event_id byte order ("é" after "a" after "B")
        play(base, video=3, viewer=23, tag="é"),
        play(base, video=2, viewer=23, tag="a"),
        play(base, video=1, viewer=23, tag="B"),
    ]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    rows = computed(batch_db, VIDEOS, plays)
    assert explained(rows[(4, MON)]) == (0, 0, 0, 1, 1, 0, 0, 0, 0)
    assert sum(r.excluded_stream_limit for r in rows.values()) == 3  # 22's zero, VIEWER's 2, 23's é


def test_the_limit_crosses_midnight_and_a_late_evening_play_restates_the_next_day(batch_db):
    videos = [Video(1, SELLER, 86_400), Video(2, SELLER, 86_400), Video(3, SELLER, 1000)]
    batch_db.add_videos(videos)
    plays = [
        play(at(MON, 23, 50), 0, 3600, video=1),  # runs 30 min, until 00:20
        play(at(TUE, 0, 5), 0, 600, video=3),  # a view on Tuesday
    ]
    batch_db.add_plays(plays)
    assert batch_db.run_pending() == [MON, TUE]
    assert computed(batch_db, videos, plays)[(3, TUE)].views == 1
    # A late playback started Monday 23:59 (an INGEST backfill) still runs at 00:05: the
    # Tuesday playback now starts while two earlier ones run.
    late = play(at(MON, 23, 59), 0, 3600, video=2)
    plays.append(late)
    batch_db.add_plays([late])
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == [MON, TUE]
    batch_db.run_pending()
    rows = computed(batch_db, videos, plays)
    assert explained(rows[(3, TUE)]) == (0, 0, 0, 1, 0, 0, 1, 0, 0)
    assert explained(rows[(2, MON)]) == (1, 3600, 12, 1, 0, 0, 0, 0, 0)


def test_the_cap_counts_only_plays_that_pass_the_stream_limit(batch_db):
    videos = [Video(1, SELLER, 1000), Video(2, SELLER, 1000), Video(3, SELLER, 1000)]
    batch_db.add_videos(videos)
    base = at(MON, 10)
    # Twelve well spaced plays of video 1; the second starts while two short plays of other
    # videos run: eleven pass, the eleventh of them (the twelfth play) is capped.
    plays = [play(base + i * 60 * S, 0, 10, video=1) for i in range(12)]
    plays += [play(base + 55 * S, 0, 20, video=2), play(base + 56 * S, 0, 20, video=3)]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    rows = computed(batch_db, videos, plays)
    assert explained(rows[(1, MON)]) == (10, 110, 0, 12, 0, 0, 1, 0, 1)


def test_a_recomputed_day_rewrites_its_stream_limited_plays_and_says_whether_they_changed(batch_db):
    batch_db.add_videos(VIDEOS)
    base = at(MON)
    plays = [play(base, video=1), play(base + 10 * S, video=2), play(base + 20 * S, video=3)]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    batch_db.compute_day(MON)
    assert limited(batch_db, MON) == {plays[2].event_id}
    computed(batch_db, VIDEOS, plays)
    with batch_db.engine.begin() as conn:
        again = compute_stream_limit(conn, MON, zone=SEOUL)
    assert (again.plays_read, again.over_limit, again.changed) == (3, 1, False)
    earlier = play(base + 5 * S, 0, 30, video=3)  # runs 15 s: now the +10 s play is the third stream
    batch_db.add_plays([earlier])
    with batch_db.engine.begin() as conn:
        after = compute_stream_limit(conn, MON, zone=SEOUL)
    assert (after.plays_read, after.over_limit, after.changed) == (4, 2, True)
    assert limited(batch_db, MON) == {plays[1].event_id, plays[2].event_id}


# --- Property: the SQL on both storages equals the reference -------------------------------

DAYS = [dt.date(2026, 11, 29), dt.date(2026, 11, 30), dt.date(2026, 12, 1)]
P_VIDEOS = {1: 500, 2: 500, 3: 501, 4: 7}  # video 4 is viewer 7's own
P_VIEWERS = [7, 7, 8, 9]


@st.composite
def scenario(draw):
    videos = [Video(v, s, draw(st.sampled_from([0, 1, 301, 600, 1800]))) for v, s in P_VIDEOS.items()]
    durations = {v.video_id: v.duration_sec for v in videos}
    plays: list[Play] = []
    for i in range(draw(st.integers(1, 30))):
        video = draw(st.sampled_from(list(P_VIDEOS)))
        viewer = draw(st.sampled_from(P_VIEWERS))
        start = draw(st.sampled_from([0, 0, 10, 299, 600]))
        end = start + draw(st.sampled_from([0, 1, 10, 301, 601, 2000]))
        if plays and draw(st.integers(0, 3)):
            # At, around or inside an earlier play's running time (its own video's duration).
            base = draw(st.sampled_from(plays))
            half = max(0, min(base.end_position_sec, durations[base.video_id]) - base.start_position_sec) * S // 2
            gap = draw(st.sampled_from([0, 0, 1, half - 1, half, half + 1, half // 2, 30 * S]).filter(lambda g: g >= 0))
            started = base.started_at_us + gap
        else:
            day = draw(st.sampled_from(DAYS))
            started = day_bounds_us(day, SEOUL)[0] + draw(st.sampled_from([-900, -1, 0, 1, 600, 43_200])) * S
        tag = draw(st.sampled_from(["a", "B", "é", "9"]))
        plays.append(Play(f"{tag}{i:02}", video, viewer, started, start, end))
    arrival = draw(st.permutations(plays))
    cut = draw(st.integers(0, len(plays)))
    return videos, plays, [arrival[:cut], arrival[cut:]]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(case=scenario())
def test_the_sql_equals_the_reference_with_streams_ties_midnight_and_late_data(batch_engine, case):
    videos, _, batches = case  # the batches are the plays, permuted and cut
    BatchData(batch_engine, SEOUL).assert_arrivals_equal_the_reference(videos, batches)


# --- Through the job runner: the step before the partitions, and plays arriving between ------


class _LateAfterTheStep:
    """The real steps; right after the stream-limit step's sweep, a late play of the day is
    stored (in the step's transaction: as if a concurrent ingest had committed it right after
    the sweep): the partitions read it, the step did not."""

    def __init__(self, data: BatchData, late: list[Play]) -> None:
        self.data, self.late = data, late

    def __getattr__(self, name):
        return getattr(batch.steps, name)

    def compute_stream_limit(self, conn, *args, **kwargs):
        counts = batch.steps.compute_stream_limit(conn, *args, **kwargs)
        if self.late:
            self.data.add_plays(self.late, conn=conn)
            self.late = []
        return counts


def test_a_play_stored_after_the_stream_step_leaves_the_day_stale_and_the_next_run_counts_it(batch_db):
    batch_db.add_videos(VIDEOS)
    base = at(MON)
    plays = [play(base, video=1), play(base + 20 * S, video=3)]
    late = play(base + 10 * S, video=2)  # makes the play at +20 s the third stream
    batch_db.add_plays(plays)
    steps = _LateAfterTheStep(batch_db, [late])
    runner = JobRunner(batch_db.engine, zone=SEOUL, workers=2, steps=steps, progress_interval_sec=0.2)
    events = list(runner.run("daily", MON, today=TUE))
    assert events[-1].type is EventType.JOB_FINISHED, events[-1]
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == [MON]  # the step missed a play
    events = list(runner.run(today=TUE))  # catch-up
    assert events[-1].type is EventType.JOB_FINISHED, events[-1]
    rows = computed(batch_db, VIDEOS, [*plays, late])
    assert rows[(3, MON)].excluded_stream_limit == 1
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == []
