"""A realistic, reproducible play history for `paysystem seed` (pure: no I/O).

Same seed, same arguments -> the same data: account, video and event ids are indexes here,
mapped to the real ids the API hands out. What it contains, on purpose:
- videos of varied length (1-60 min, some under 5 min so without ads) whose popularity
  follows a Zipf-like law (a few hits, a long tail), owned by sellers unevenly;
- sessions of one viewer on one video made of segments: partial watches, resumes where the
  last segment stopped, watches to the end (the resume position goes back to 0), quick
  restarts less than 30 s after the previous start (not counted as views), and sellers
  watching their own videos (never counted);
- sessions that start just before local midnight and continue after it (the 30-second rule
  and day boundaries), with evening-heavy times of day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from services.common.periods import day_bounds_us

SECOND_US = 1_000_000


@dataclasses.dataclass(frozen=True)
class VideoSpec:
    index: int
    seller_index: int
    title: str
    duration_sec: int


@dataclasses.dataclass(frozen=True)
class PlaySpec:
    event_id: str
    video_index: int
    viewer: tuple[str, int]  # ("viewer", i) or ("seller", i): sellers watch too
    started_at_us: int
    start_position_sec: int
    end_position_sec: int


def video_specs(rng: random.Random, videos: int, sellers: int) -> list[VideoSpec]:
    seller_weights = [1 / (s + 1) ** 0.7 for s in range(sellers)]
    specs = []
    for i in range(videos):
        if rng.random() < 0.15:
            duration = rng.randint(60, 299)  # short: no ad marks
        else:
            duration = min(3_600, max(300, int(rng.lognormvariate(6.8, 0.6))))
        seller = 0 if i == 0 else rng.choices(range(sellers), weights=seller_weights)[0]
        specs.append(VideoSpec(i, seller, f"Video {i + 1}", duration))
    return specs


def plays(
    rng: random.Random,
    videos: list[VideoSpec],
    *,
    viewers: int,
    sellers: int,
    count: int,
    first_day: dt.date,
    days: int,
    zone: ZoneInfo,
    prefix: str,
) -> Iterator[PlaySpec]:
    """`count` playbacks, yielded session by session (roughly in time order per session)."""
    popularity = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(len(videos))))
    ranked = list(range(len(videos)))
    rng.shuffle(ranked)  # popularity is not tied to the video's id
    day_starts = [day_bounds_us(first_day + dt.timedelta(days=d), zone)[0] for d in range(days)]
    made = 0
    while made < count:
        video = videos[ranked[rng.choices(range(len(videos)), cum_weights=popularity)[0]]]
        if rng.random() < 0.03:
            viewer = ("seller", video.seller_index)  # a self-view
        else:
            viewer = ("viewer", min(viewers - 1, int(rng.paretovariate(1.2)) - 1) if rng.random() < 0.5 else rng.randrange(viewers))
        day_start = rng.choice(day_starts)
        if rng.random() < 0.04:
            at = day_start + (86_400 - rng.randint(1, 90)) * SECOND_US  # just before midnight
        else:
            hour = rng.choices(range(24), weights=[2, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 6, 7, 9, 10, 10, 8, 4])[0]
            at = day_start + (hour * 3_600 + rng.randrange(3_600)) * SECOND_US + rng.randrange(SECOND_US)
        position = 0
        for _ in range(rng.choices([1, 2, 3, 4, 6], weights=[50, 25, 12, 8, 5])[0]):
            if made >= count:
                return
            kind = rng.random()
            if kind < 0.12:  # quick restart from the beginning, under 30 s after the last start
                start, at = 0, at + rng.randint(1, 29) * SECOND_US + rng.randrange(SECOND_US)
            elif kind < 0.2:  # a seek forward
                start = rng.randint(position, video.duration_sec)
            else:  # resume where the last segment stopped
                start = position
            if rng.random() < 0.2:
                end = video.duration_sec + rng.choice([0, 0, 1, 5])  # to the end (players overshoot)
            else:
                end = min(video.duration_sec, start + int(rng.expovariate(1 / max(30, video.duration_sec / 3))))
            yield PlaySpec(f"{prefix}-{made}", video.index, viewer, at, start, end)
            made += 1
            position = 0 if end >= video.duration_sec else end
            at += max(1, end - start) * SECOND_US + rng.randint(0, 600) * SECOND_US
