"""The seed's data generator: reproducible, and it contains the cases the batch must handle."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import Counter
from zoneinfo import ZoneInfo

from services.cli import seed_data
from services.common.periods import local_day_of

ZONE = ZoneInfo("Asia/Seoul")
FIRST = dt.date(2026, 11, 1)


def _make(seed: int, count: int = 20_000):
    rng = random.Random(seed)
    videos = seed_data.video_specs(rng, 60, 6)
    plays = list(
        seed_data.plays(rng, videos, viewers=300, sellers=6, count=count, first_day=FIRST, days=7, zone=ZONE, prefix="t")
    )
    return videos, plays


def test_the_same_seed_gives_the_same_data_and_another_seed_does_not():
    assert _make(7, 2_000) == _make(7, 2_000)
    assert _make(7, 2_000) != _make(8, 2_000)


def test_it_makes_exactly_the_asked_number_of_unique_valid_playbacks():
    videos, plays = _make(1)
    assert len(plays) == 20_000 == len({p.event_id for p in plays})
    for p in plays:
        assert 0 <= p.start_position_sec <= videos[p.video_index].duration_sec
        assert p.end_position_sec >= p.start_position_sec


def test_it_contains_the_cases_the_batch_must_handle():
    videos, plays = _make(1)
    durations = {v.index: v.duration_sec for v in videos}
    assert min(durations.values()) < 300 and max(durations.values()) > 1_800
    counts = Counter(p.video_index for p in plays).most_common()
    assert counts[0][1] > 10 * counts[len(counts) // 2][1]  # a few hits, a long tail
    assert any(p.viewer == ("seller", videos[p.video_index].seller_index) for p in plays)  # self-views
    assert any(p.end_position_sec >= durations[p.video_index] for p in plays)  # watched to the end
    by_pair: dict = {}
    for p in plays:
        by_pair.setdefault((p.viewer, p.video_index), []).append(p.started_at_us)
    gaps = [b - a for starts in by_pair.values() for a, b in itertools.pairwise(sorted(starts))]
    assert any(0 < g < 30_000_000 for g in gaps)  # quick repeats
    days = {local_day_of(p.started_at_us, ZONE) for p in plays}
    assert days >= {FIRST + dt.timedelta(days=d) for d in range(7)}
    near_midnight = [p for p in plays if local_day_of(p.started_at_us + 90_000_000, ZONE) != local_day_of(p.started_at_us, ZONE)]
    assert len(near_midnight) > 100
