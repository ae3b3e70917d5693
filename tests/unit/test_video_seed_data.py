"""The seed's data generator: reproducible, valid under the ingest's rules, and it contains
the cases the batch must handle; the counted-view rules (domain.counted_views.classify_plays, the
batch's plain-Python statement of them) catch its bots and leave every seller real figures."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

from domain.counted_views import Exclusion, classify_plays
from domain.periods import day_bounds_us, local_day_of
from domain.plays import PlayEvent, timing_problem
from entrypoints.cli import seed_data

ZONE = ZoneInfo("Asia/Seoul")
FIRST = dt.date(2026, 11, 1)
DAYS = 7


def _make(seed: int, count: int = 20_000, *, videos: int = 60, sellers: int = 6, viewers: int = 300):
    rng = random.Random(seed)
    specs = seed_data.video_specs(rng, videos, sellers)
    plays = list(
        seed_data.plays(
            rng, specs, viewers=viewers, sellers=sellers, count=count, first_day=FIRST, days=DAYS, zone=ZONE, prefix="t"
        )
    )
    return specs, plays


_made = functools.cache(_make)  # the same data for several tests: they only read it


def _account(who: tuple[str, int]) -> int:
    """Distinct positive ids for sellers (1..) and viewers (10,001..)."""
    kind, index = who
    return 1 + index if kind == "seller" else 10_001 + index


def _classified(specs, plays):
    events = [
        PlayEvent(
            p.event_id, p.video_index + 1, _account(p.viewer), p.started_at_us, p.start_position_sec, p.end_position_sec
        )
        for p in plays
    ]
    videos = {v.index + 1: (_account(("seller", v.seller_index)), v.duration_sec) for v in specs}
    return events, videos, classify_plays(events, videos, zone=ZONE)


def _is_bot(play, viewers: int = 300) -> bool:
    return play.viewer[0] == "viewer" and play.viewer[1] >= viewers - seed_data.bot_count(viewers)


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    assert _make(7, 2_000) == _make(7, 2_000)
    assert _make(7, 2_000) != _make(8, 2_000)


def test_it_makes_exactly_the_asked_number_of_unique_playbacks_that_the_ingest_accepts():
    specs, plays = _made(1)
    assert len(plays) == 20_000 == len({p.event_id for p in plays})
    end_of_last_day = day_bounds_us(FIRST + dt.timedelta(days=DAYS - 1), ZONE)[1]
    for p in plays:
        duration = specs[p.video_index].duration_sec
        assert 0 <= p.start_position_sec <= duration and p.end_position_sec >= p.start_position_sec
        event = PlayEvent(p.event_id, 1, 1, p.started_at_us, p.start_position_sec, p.end_position_sec)
        # Seeded the moment the last day ends: every playback could have ended by then.
        assert timing_problem(event, duration, end_of_last_day, None) is None, p


def test_every_seller_owns_a_video_when_there_are_enough():
    specs = seed_data.video_specs(random.Random(3), 8, 8)
    assert sorted(v.seller_index for v in specs) == list(range(8))


def test_it_contains_the_cases_the_batch_must_handle():
    specs, plays = _made(1)
    durations = {v.index: v.duration_sec for v in specs}
    assert min(durations.values()) < 300 and max(durations.values()) > 1_800
    counts = Counter(p.video_index for p in plays).most_common()
    assert counts[0][1] > 10 * counts[len(counts) // 2][1]  # a few hits, a long tail
    assert any(p.end_position_sec >= durations[p.video_index] for p in plays)  # watched to the end
    days = {local_day_of(p.started_at_us, ZONE) for p in plays}
    assert days >= {FIRST + dt.timedelta(days=d) for d in range(DAYS)}
    near_midnight = [
        p for p in plays if local_day_of(p.started_at_us + 90_000_000, ZONE) != local_day_of(p.started_at_us, ZONE)
    ]
    assert len(near_midnight) > 100

    # Consecutive playbacks of an ordinary viewer and video: seeks, 2x segments, resumes.
    by_pair = defaultdict(list)
    for p in plays:
        if not _is_bot(p):
            by_pair[(p.viewer, p.video_index)].append(p)
    seeks = double_speed = resumes = 0
    for (_, video), pair in by_pair.items():
        pair.sort(key=lambda p: p.started_at_us)
        for a, b in itertools.pairwise(pair):
            watched_us = max(0, min(a.end_position_sec, durations[video]) - a.start_position_sec) * 1_000_000
            gap = b.started_at_us - a.started_at_us
            assert 2 * gap >= watched_us  # never before the previous one could have ended at 2x
            double_speed += gap < watched_us
            resumed = a.end_position_sec if a.end_position_sec < durations[video] else 0
            seeks += b.start_position_sec not in (resumed, 0)
            resumes += b.start_position_sec == resumed > 0
    assert min(seeks, double_speed, resumes) > 100, (seeks, double_speed, resumes)


def test_the_rules_catch_the_bots_and_only_them_while_repeats_and_self_views_stay_ordinary():
    specs, plays = _made(1)
    _, _, exclusions = _classified(specs, plays)
    bots = Counter(exclusions[p.event_id] for p in plays if _is_bot(p))
    people = Counter(exclusions[p.event_id] for p in plays if not _is_bot(p))
    assert bots[Exclusion.OVERLAP] > 50 and bots[Exclusion.CAP] > 50
    assert people[Exclusion.OVERLAP] == people[Exclusion.CAP] == people[Exclusion.STREAM_LIMIT] == 0
    assert people[Exclusion.REPEAT] > 200 and people[Exclusion.SELF_VIEW] > 100
    assert 0.01 < sum(bots.values()) / len(plays) < 0.05
    assert people[None] > 0.85 * len(plays)


def test_every_seller_keeps_most_of_the_views_of_their_videos_in_a_demo_sized_month():
    # The demo's density (300,000 playbacks over 35 days of 300 videos, 300 viewers, 20
    # sellers), over a week: the rules must leave no seller at zero.
    specs, plays = _make(7, 300_000 * DAYS // 35, videos=300, sellers=20, viewers=300)
    events, videos, exclusions = _classified(specs, plays)
    views, candidates = Counter(), Counter()
    for e, p in zip(events, plays, strict=True):
        seller = videos[e.video_id][0]
        if e.viewer_id != seller and not _is_bot(p):
            candidates[seller] += 1
            views[seller] += exclusions[e.event_id] is None
    assert len(candidates) == 20
    for seller, n in candidates.items():
        assert views[seller] >= 0.8 * n and views[seller] >= 100, (seller, views[seller], n)


def test_the_seeds_rule_summary_counts_what_the_rules_say_of_each_playback():
    specs, plays = _made(1)
    _, _, exclusions = _classified(specs, plays)
    expected = Counter(exclusions.values())
    assert seed_data.rule_outcomes(specs, plays, sellers=6, zone=ZONE) == {
        "counted views": expected[None],
        "self-views": expected[Exclusion.SELF_VIEW],
        "overlaps": expected[Exclusion.OVERLAP],
        "over the stream limit": expected[Exclusion.STREAM_LIMIT],
        "repeats within 30 s": expected[Exclusion.REPEAT],
        "over the daily cap": expected[Exclusion.CAP],
    }
