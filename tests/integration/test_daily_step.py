"""The daily SQL step on real MariaDB and SQLite: each rule at its edges, re-runs, late data."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from batch.steps import BadPlayRow
from domain.periods import day_bounds_us
from tests.integration.conftest import SEOUL
from tests.reference import Play, Seed, TierRow, Video, compute_daily

MON = dt.date(2026, 11, 2)  # a Monday
SUN = dt.date(2026, 11, 1)
SELLER = 1000
_ids = itertools.count()


def at(day: dt.date, hh: int = 12, mm: int = 0, ss: float = 0) -> int:
    return day_bounds_us(day, SEOUL)[0] + ((hh * 60 + mm) * 60) * 1_000_000 + int(ss * 1_000_000)


def play(video: int, viewer: int, started: int, start: int = 0, end: int = 10, event_id=None) -> Play:
    return Play(event_id or f"e{next(_ids):06d}", video, viewer, started, start, end)


def one_video(batch_db, duration=1000, video_id=1):
    batch_db.add_videos([Video(video_id, SELLER, duration)])


def row(batch_db, video_id=1, day=MON):
    return batch_db.daily_rows()[(video_id, day)]


def test_a_tier_crossing_within_a_day_is_priced_marginally(batch_db):
    one_video(batch_db)
    batch_db.add_seeds({1: Seed(dt.date(2026, 1, 1), 550_000, 0)}, {1: SELLER})
    batch_db.add_many_views(1, 600_000, at(MON))
    batch_db.run_pending()
    r = row(batch_db)
    assert (r.views, r.cum_views) == (600_000, 1_150_000)
    assert r.video_revenue == Decimal("810000.0")
    assert r.ad_revenue == 0 and r.ad_views == 0


def test_ad_marks_are_strictly_inside_the_video_and_need_start_before_and_end_at_or_after(batch_db):
    batch_db.add_videos([Video(1, SELLER, 600), Video(2, SELLER, 601), Video(3, SELLER, 1000)])
    batch_db.add_plays(
        [
            # (viewers of their own: three streams of one viewer at once, the third would be
            # over the stream limit)
            play(1, 5, at(MON), 0, 600),  # a 600 s video has only the mark at 300
            play(2, 6, at(MON), 0, 601),  # 300 and 600
            play(3, 1, at(MON), 300, 600),  # start == 300 is not before 300; 600 <= end
            play(3, 2, at(MON), 299, 300),  # 300 exactly at the end counts
            play(3, 3, at(MON), 0, 299),  # no mark reached
            play(3, 4, at(MON), 400, 400),  # start == end: a view, no watch time, no ads
        ]
    )
    batch_db.run_pending()
    rows = batch_db.daily_rows()
    assert rows[(1, MON)].ad_views == 1
    assert rows[(2, MON)].ad_views == 2
    assert rows[(3, MON)].ad_views == 2
    assert rows[(3, MON)].views == 4
    assert rows[(3, MON)].watch_time_sec == 300 + 1 + 299 + 0
    assert rows[(3, MON)].ad_revenue == Decimal(20)


def test_29_30_and_31_second_repeats(batch_db):
    one_video(batch_db)
    base = at(MON)
    batch_db.add_plays(
        [
            play(1, 1, base),
            play(1, 1, base + 29_999_999),  # repeat (compared with the first)
            play(1, 2, base),
            play(1, 2, base + 30_000_000),  # exactly 30 s apart: counts
            play(1, 3, base),
            play(1, 3, base + 31_000_000),  # counts
            # the previous playback counts even when it was a repeat itself
            play(1, 4, base),
            play(1, 4, base + 20_000_000),
            play(1, 4, base + 40_000_000),
        ]
    )
    batch_db.run_pending()
    r = row(batch_db)
    assert r.views == 1 + 2 + 2 + 1
    assert r.watch_time_sec == 9 * 10  # repeats still add watch time


def test_ties_on_started_at_are_ordered_by_event_id_byte_wise(batch_db):
    one_video(batch_db, duration=1000)
    base = at(MON)
    # "B" < "a" byte-wise; the first in that order is the view and earns the ads.
    batch_db.add_plays(
        [
            play(1, 1, base, 0, 10, event_id="a-later"),
            play(1, 1, base, 0, 900, event_id="B-first"),
        ]
    )
    batch_db.run_pending()
    r = row(batch_db)
    assert (r.views, r.ad_views) == (1, 3)


def test_tie_order_is_byte_wise_even_where_a_pad_space_collation_would_differ(batch_db):
    one_video(batch_db, duration=1000)
    base = at(MON)
    # Byte-wise "a" < "a\t"; a PAD SPACE collation compares "a " with "a\t" and says otherwise.
    batch_db.add_plays(
        [
            play(1, 1, base, 0, 10, event_id="a\t"),
            play(1, 1, base, 0, 900, event_id="a"),
        ]
    )
    batch_db.run_pending()
    assert (row(batch_db).views, row(batch_db).ad_views) == (1, 3)


def test_a_repeat_within_30_seconds_across_midnight_is_not_a_view(batch_db):
    one_video(batch_db)
    midnight = day_bounds_us(MON, SEOUL)[0]
    batch_db.add_plays(
        [
            play(1, 1, midnight - 10_000_000, 0, 400),
            play(1, 1, midnight + 10_000_000, 0, 400),  # 20 s later, next local day: repeat
            play(1, 2, midnight - 30_000_000),
            play(1, 2, midnight),  # exactly 30 s: counts
        ]
    )
    batch_db.run_pending()
    rows = batch_db.daily_rows()
    assert rows[(1, SUN)].views == 2
    assert rows[(1, MON)].views == 1
    assert rows[(1, MON)].ad_views == 0
    assert rows[(1, MON)].cum_views == 3


def test_self_views_never_count_and_add_no_watch_time(batch_db):
    one_video(batch_db)
    batch_db.add_plays([play(1, SELLER, at(MON), 0, 900), play(1, 5, at(MON), 0, 900)])
    batch_db.run_pending()
    r = row(batch_db)
    assert (r.views, r.watch_time_sec, r.ad_views) == (1, 900, 3)


def test_positions_beyond_the_duration_are_clamped(batch_db):
    one_video(batch_db, duration=100)
    batch_db.add_plays([play(1, 1, at(MON), 50, 5000), play(1, 2, at(MON), 150, 400)])
    batch_db.run_pending()
    r = row(batch_db)
    assert (r.views, r.watch_time_sec, r.ad_views) == (2, 50, 0)


def test_a_video_with_only_the_sellers_plays_gets_a_zero_row(batch_db):
    one_video(batch_db)
    batch_db.add_plays([play(1, SELLER, at(MON))])
    batch_db.run_pending()
    r = row(batch_db)
    assert (r.views, r.watch_time_sec, r.video_revenue) == (0, 0, 0)


def test_running_totals_carry_over_days_without_plays_and_weeks_sum_days(batch_db):
    one_video(batch_db)
    batch_db.add_seeds({1: Seed(dt.date(2026, 1, 5), 99_998, 0)}, {1: SELLER})
    tue, thu = MON + dt.timedelta(days=1), MON + dt.timedelta(days=3)
    batch_db.add_plays([play(1, v, at(MON), 0, 301) for v in range(3)])
    batch_db.add_plays([play(1, v, at(thu), 0, 301) for v in range(2)])
    assert batch_db.run_pending() == [MON, thu]
    rows = batch_db.daily_rows()
    assert rows[(1, MON)].video_revenue == Decimal("3.1")  # 2 x 1.0 + 1 x 1.1
    assert (rows[(1, thu)].cum_views, rows[(1, thu)].video_revenue) == (100_003, Decimal("2.2"))
    assert (1, tue) not in rows
    weekly = batch_db.period_rows("WEEKLY")[(MON, 1)]
    assert (weekly.views, weekly.video_revenue, weekly.ad_revenue) == (5, Decimal("5.3"), Decimal(50))
    monthly = batch_db.period_rows("MONTHLY")[(dt.date(2026, 11, 1), 1)]
    assert monthly.views == 5


def test_a_week_spanning_two_months_counts_in_each_month_with_its_own_days(batch_db):
    one_video(batch_db)
    fri, sun = dt.date(2026, 1, 30), dt.date(2026, 2, 1)
    batch_db.add_plays([play(1, 1, at(fri)), play(1, 2, at(sun)), play(1, 3, at(sun))])
    batch_db.run_pending()
    assert batch_db.period_rows("WEEKLY")[(dt.date(2026, 1, 26), 1)].views == 3
    monthly = batch_db.period_rows("MONTHLY")
    assert monthly[(dt.date(2026, 1, 1), 1)].views == 1
    assert monthly[(dt.date(2026, 2, 1), 1)].views == 2


def test_re_running_a_day_changes_no_row(batch_db):
    batch_db.add_videos([Video(1, SELLER, 1000), Video(2, SELLER + 1, 100)])
    batch_db.add_plays([play(1 + i % 2, i % 7, at(MON, 10, 0, i * 7), i, i + 500) for i in range(60)])
    batch_db.run_pending()
    before = [batch_db.table_snapshot(t) for t in ("daily_video_stats", "period_video_stats")]
    batch_db.compute_day(MON)
    batch_db.compute_day(MON, partitions=5)
    after = [batch_db.table_snapshot(t) for t in ("daily_video_stats", "period_video_stats")]
    assert before == after
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == []


def test_a_late_play_makes_its_day_and_every_later_computed_day_stale(batch_db):
    one_video(batch_db)
    days = [MON + dt.timedelta(days=i) for i in range(4)]
    for day in days:
        batch_db.add_plays([play(1, 1, at(day))])
    assert batch_db.run_pending() == days
    batch_db.add_plays([play(1, 2, at(days[1]))])  # arrives late for Tuesday
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == days[1:]
    assert batch_db.days_to_compute(days[2]) == days[1:3]
    batch_db.run_pending()
    assert [r.cum_views for _, r in sorted(batch_db.daily_rows().items())] == [1, 3, 4, 5]


def test_a_late_play_just_before_midnight_turns_the_next_days_first_play_into_a_repeat(batch_db):
    one_video(batch_db)
    midnight = day_bounds_us(MON, SEOUL)[0]
    batch_db.add_plays([play(1, 1, at(SUN, 9)), play(1, 1, midnight + 10_000_000)])
    batch_db.run_pending()
    assert row(batch_db).views == 1
    batch_db.add_plays([play(1, 1, midnight - 10_000_000)])  # late, 23:59:50 Sunday
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == [SUN, MON]
    batch_db.run_pending()
    assert row(batch_db).views == 0
    assert row(batch_db, day=SUN).views == 2


def test_a_never_computed_earlier_day_makes_later_computed_days_stale(batch_db):
    one_video(batch_db)
    tue = MON + dt.timedelta(days=1)
    batch_db.add_plays([play(1, 1, at(MON)), play(1, 2, at(tue))])
    batch_db.compute_day(tue)  # out of order (a caller's mistake): Tuesday lacks Monday
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == [MON, tue]


def test_the_tier_table_in_force_on_the_day_applies(batch_db):
    one_video(batch_db)
    since = dt.date(2026, 11, 3)
    batch_db.set_tiers(
        [
            TierRow("VIEW", dt.date(1970, 1, 1), 0, Decimal("1.0")),
            TierRow("AD", dt.date(1970, 1, 1), 0, Decimal("10")),
            TierRow("VIEW", since, 0, Decimal("2.5")),
            TierRow("VIEW", since, 2, Decimal("0.0125")),
            TierRow("AD", since, 0, Decimal("10")),
        ]
    )
    try:
        batch_db.add_plays([play(1, v, at(MON)) for v in range(3)])
        batch_db.add_plays([play(1, v, at(since)) for v in range(3)])
        batch_db.run_pending()
        assert row(batch_db).video_revenue == Decimal("3.0")
        assert row(batch_db, day=since).video_revenue == Decimal("0.0375")
    finally:
        from tests.reference import DESIGN_TIERS

        batch_db.set_tiers(DESIGN_TIERS)


@pytest.mark.parametrize(
    "bad, reason",
    [
        (Play("bad-video", 99, 1, 0, 0, 10), "video 99 does not exist"),
        (Play("bad-start", 1, 1, 0, -5, 10), "negative start position"),
        (Play("bad-order", 1, 1, 0, 50, 10), "before start position"),
    ],
)
def test_a_bad_row_fails_the_partition_with_its_ids(batch_db, bad, reason):
    one_video(batch_db)
    bad = Play(bad.event_id, bad.video_id, bad.viewer_id, at(MON), bad.start_position_sec, bad.end_position_sec)
    batch_db.add_plays([play(1, 2, at(MON)), bad])
    with pytest.raises(BadPlayRow, match=reason) as caught:
        batch_db.run_pending()
    assert caught.value.event_id == bad.event_id
    assert "play_id=" in str(caught.value)
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == [MON]  # not recorded as computed


def test_a_play_whose_local_day_disagrees_with_its_instant_is_a_bad_row(batch_db):
    one_video(batch_db)
    batch_db.add_plays([play(1, 2, at(MON), event_id="misfiled")], local_day=SUN)
    with pytest.raises(BadPlayRow, match="misfiled.*outside local day"):
        batch_db.run_pending()


def test_counts_report_plays_read_and_daily_rows_written(batch_db):
    batch_db.add_videos([Video(1, SELLER, 100), Video(2, SELLER, 100)])
    batch_db.add_plays([play(1, 1, at(MON)), play(1, 2, at(MON)), play(2, 1, at(MON))])
    [day] = batch_db.days_to_compute(dt.date(2100, 1, 1))
    assert batch_db.compute_day(day) == (3, 2)


def test_the_reference_agrees_on_a_hand_made_day(batch_db):
    videos = [Video(1, SELLER, 1000), Video(2, 7, 300)]
    batch_db.add_videos(videos)
    plays = [play(1 + i % 2, i % 5 + 5, at(MON, 23, 59, 30 + i * 3), i * 37 % 400, i * 91 % 1300) for i in range(20)]
    plays = [p for p in plays if p.end_position_sec >= p.start_position_sec]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    assert batch_db.daily_rows() == compute_daily(videos, plays, SEOUL)


def test_partitions_run_in_parallel_on_separate_connections_give_the_same_rows(batch_db):
    import concurrent.futures

    from batch.steps import compute_day_partition, compute_stream_limit, current_play_watermark, finish_day

    videos = [Video(v, SELLER + v % 3, 700) for v in range(1, 13)]
    batch_db.add_videos(videos)
    plays = [play(1 + i % 12, i % 9, at(MON, 8, 0, i * 11), i % 500, i % 500 + 400) for i in range(300)]
    batch_db.add_plays(plays)
    with batch_db.engine.connect() as conn:
        watermark = current_play_watermark(conn)
    with batch_db.engine.begin() as conn:
        compute_stream_limit(conn, MON, zone=SEOUL)  # the viewer-keyed step, before the partitions

    def one(lo):
        with batch_db.engine.begin() as conn:
            return compute_day_partition(conn, MON, lo, lo + 3, zone=SEOUL)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(one, [1, 4, 7, 10]))
    with batch_db.engine.begin() as conn:
        finish_day(conn, MON, play_id_watermark=watermark, plays_read=sum(c.rows_read for c in counts))
    assert sum(c.rows_read for c in counts) == 300
    assert batch_db.daily_rows() == compute_daily(videos, plays, SEOUL)
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == []
