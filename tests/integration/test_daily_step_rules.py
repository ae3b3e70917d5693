"""Rules 3 (overlap) and 4 (daily cap) in the daily SQL step on real MariaDB and SQLite, at
their exact edges, across midnight and with late data. Expected figures are worked by hand
in each test and checked against tests/reference.py."""

from __future__ import annotations

import datetime as dt
import itertools

from domain.periods import day_bounds_us
from tests.integration.conftest import SEOUL
from tests.reference import Play, Video, compute_daily

MON = dt.date(2026, 11, 2)  # a Monday
TUE = dt.date(2026, 11, 3)
SELLER = 1000
S = 1_000_000
_ids = itertools.count()


def at(day: dt.date, hh: int = 12, mm: int = 0, ss: int = 0) -> int:
    return day_bounds_us(day, SEOUL)[0] + ((hh * 60 + mm) * 60 + ss) * S


def play(viewer: int, started: int, start: int = 0, end: int = 10, video: int = 1) -> Play:
    return Play(f"r{next(_ids):06d}", video, viewer, started, start, end)


def explained(r) -> tuple[int, int, int, int, int, int, int, int]:
    return (
        r.views,
        r.watch_time_sec,
        r.ad_views,
        r.plays,
        r.excluded_self_view,
        r.excluded_overlap,
        r.excluded_repeat,
        r.excluded_cap,
    )


def computed(batch_db, videos: list[Video], plays: list[Play]) -> dict:
    """The batch's daily rows, after checking that they equal the reference's."""
    rows = batch_db.daily_rows()
    assert rows == compute_daily(videos, plays, SEOUL)
    return rows


def test_an_overlap_is_exactly_before_half_the_previous_watch_time(batch_db):
    videos = [Video(1, SELLER, 1000)]
    batch_db.add_videos(videos)
    base = at(MON)
    plays = [
        # 600 s watched (0..600): at 2x it lasts 300 s. 300 s later is not an overlap...
        play(1, base, 0, 600),
        play(1, base + 300 * S, 0, 0),
        # ...1 microsecond earlier is (and earns no watch time: 700 s lost, no ad views).
        play(2, base, 0, 600),
        play(2, base + 300 * S - 1, 0, 700),
        # 2x speed over an odd watch time: 301 s of video last 150.5 s.
        play(3, base, 0, 301),
        play(3, base + 150_500_000, 0, 10),
        play(4, base, 0, 301),
        play(4, base + 150_499_999, 0, 10),
    ]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    r = computed(batch_db, videos, plays)[(1, MON)]
    # Views: 8 plays - 2 overlaps. Watch: 600+0 + 600 + 301+10 + 301. Ads: 300 and 600 in each
    # counted 0..600 play (2 x 2) and 300 in each 0..301 play (2), none for the overlaps.
    assert explained(r) == (6, 600 + 600 + 311 + 301, 4 + 2, 8, 0, 2, 0, 0)


def test_an_overlap_within_30_seconds_is_attributed_to_the_overlap_rule(batch_db):
    videos = [Video(1, SELLER, 1000)]
    batch_db.add_videos(videos)
    base = at(MON)
    plays = [
        play(1, base, 0, 100),
        play(1, base + 10 * S, 0, 100),  # repeat and overlap: OVERLAP
        play(2, base, 0, 10),
        play(2, base + 10 * S, 0, 100),  # 10 s after a 5 s play: REPEAT
        play(SELLER, base, 0, 100),
        play(SELLER, base + 1, 0, 100),  # the seller: SELF_VIEW
    ]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    r = computed(batch_db, videos, plays)[(1, MON)]
    assert explained(r) == (2, 100 + 10 + 100, 0, 6, 2, 1, 1, 0)


def test_the_10th_view_of_a_day_counts_the_11th_does_not_and_the_cap_resets_at_midnight(batch_db):
    videos = [Video(1, SELLER, 1000)]
    batch_db.add_videos(videos)
    # 11 plays 3 minutes apart, 23:25 .. 23:55 (301 s watched each: busy 150.5 s at 2x), the
    # first one short so that a repeat can follow it; then 00:00, 00:03, 00:06.
    plays = [play(1, at(MON, 23, 25 + 3 * k), 0, 10 if k == 0 else 301) for k in range(11)]
    plays += [play(1, at(TUE, 0, 3 * k), 0, 301) for k in range(3)]
    plays.append(play(1, at(MON, 23, 25, 20), 0, 0))  # 20 s after the first: a repeat
    batch_db.add_plays(plays)
    batch_db.run_pending()
    rows = computed(batch_db, videos, plays)
    # Monday: 12 plays, 1 repeat, 11 passing of which the 11th (23:55) is capped; it keeps its
    # watch time but earns neither the view nor its ad view (mark 300).
    assert explained(rows[(1, MON)]) == (10, 10 + 10 * 301, 9, 12, 0, 0, 1, 1)
    assert explained(rows[(1, TUE)]) == (3, 3 * 301, 3, 3, 0, 0, 0, 0)  # a new day: no cap


def test_a_start_equals_end_playback_next_to_others(batch_db):
    videos = [Video(1, SELLER, 1000)]
    batch_db.add_videos(videos)
    base = at(MON)
    plays = [
        play(1, base, 50, 50),  # no watch time: the next play 1 us later cannot overlap it...
        play(1, base + 1, 0, 0),  # ...but is a repeat
        play(2, base, 0, 60),
        play(2, base + 30 * S, 50, 50),  # 30 s, exactly 60 / 2: a view
        play(3, base, 0, 60),
        play(3, base + 30 * S - 1, 50, 50),  # 1 us earlier: an overlap
    ]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    r = computed(batch_db, videos, plays)[(1, MON)]
    assert explained(r) == (4, 120, 0, 6, 0, 1, 1, 0)


def test_an_overlap_crosses_midnight(batch_db):
    videos = [Video(1, SELLER, 1000)]
    batch_db.add_videos(videos)
    plays = [play(1, at(MON, 23, 59, 50), 0, 900), play(1, at(TUE, 0, 5), 0, 10)]
    batch_db.add_plays(plays)
    batch_db.run_pending()
    assert explained(computed(batch_db, videos, plays)[(1, TUE)]) == (0, 0, 0, 1, 0, 1, 0, 0)


def test_a_late_playback_at_23_59_50_makes_the_next_days_00_05_playback_an_overlap(batch_db):
    videos = [Video(1, SELLER, 1000)]
    batch_db.add_videos(videos)
    on_time = [play(1, at(MON, 12), 0, 10), play(1, at(TUE, 0, 5), 0, 10)]
    batch_db.add_plays(on_time)
    assert batch_db.run_pending() == [MON, TUE]
    assert batch_db.daily_rows()[(1, TUE)].views == 1
    late = play(1, at(MON, 23, 59, 50), 0, 900)  # 900 s watched: busy until 00:07:20 at 2x
    batch_db.add_plays([late])
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == [MON, TUE]
    batch_db.run_pending()
    rows = computed(batch_db, videos, on_time + [late])
    assert explained(rows[(1, TUE)]) == (0, 0, 0, 1, 0, 1, 0, 0)
    assert rows[(1, TUE)].cum_views == 2  # Monday's two views carry forward


def test_a_late_playback_pushes_the_10th_view_of_the_day_to_11th(batch_db):
    videos = [Video(1, SELLER, 1000)]
    batch_db.add_videos(videos)
    on_time = [play(1, at(MON, 10 + k), 0, 301) for k in range(10)]  # 10:00 .. 19:00
    batch_db.add_plays(on_time)
    batch_db.run_pending()
    assert explained(batch_db.daily_rows()[(1, MON)]) == (10, 3010, 10, 10, 0, 0, 0, 0)
    late = play(1, at(MON, 9), 0, 301)  # earlier than all: the 19:00 play becomes the 11th
    batch_db.add_plays([late])
    assert batch_db.days_to_compute(dt.date(2100, 1, 1)) == [MON]
    batch_db.run_pending()
    r = computed(batch_db, videos, on_time + [late])[(1, MON)]
    assert explained(r) == (10, 3311, 10, 11, 0, 0, 0, 1)
