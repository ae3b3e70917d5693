"""A realistic, reproducible play history for `paysystem seed` (pure: no I/O).

Same seed, same arguments -> the same data: account, video and event ids are indexes here,
mapped to the real ids the API hands out. What it contains, on purpose:
- videos of varied length (1-60 min, some under 5 min so without ads) whose popularity
  follows a Zipf-like law (a few hits, a long tail), owned by sellers unevenly (every
  seller owns at least one when there are enough videos);
- viewing sessions of one viewer on one video, made of segments played one after the other
  (each starts after the previous one could have ended, DESIGN 2 "Counted view" 3): partial
  watches, resumes where the last segment stopped (also in a later session), seeks forward
  and back, segments played at 2x (the next one starts once half of the watch time has
  passed), watches to the end (the resume position goes back to 0), false starts followed
  by a restart less than 30 s later (a repeat, not a view), and sellers watching their own
  videos (never counted);
- sessions that start just before local midnight and continue after it (the 30-second rule
  and day boundaries), with evening-heavy times of day;
- an ordinary viewer's sessions of one video never overlap and stay within the daily cap of
  counted views, and at most two of a viewer's sessions (of any videos) run at once (the
  stream limit, DESIGN 2 "Counted view" 5), as long as the catalogue leaves room (a data set too dense for that, many
  plays for few viewers and videos, spills over the cap and overlaps rather than loop);
- a few bots, the last viewers, whose plays the rules catch: one starts a full-length play
  of the same video every 15-40 s (overlaps), another plays a video every 31-90 s for a few
  seconds, dozens of times a day (over the daily cap).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
import random
from collections import defaultdict
from collections.abc import Iterator
from typing import NamedTuple
from zoneinfo import ZoneInfo

from domain.counted_views import Exclusion, classify_plays
from domain.periods import day_bounds_us

SECOND_US = 1_000_000
_DAY_US = 86_400 * SECOND_US
# DESIGN 2 "Counted view" 4; the generator keeps ordinary viewers within it.
DAILY_CAP = 10
BOT_SHARE = 0.02  # of the playbacks
# Tries to find room for a session; after the first few, only among all viewers evenly
# (the heavy viewers are the ones out of room).
_PLACEMENT_TRIES, _SKEWED_TRIES = 30, 6
# Cumulative weights, drawn with bisect (random.choices costs several times more).
_HOURS = list(itertools.accumulate([2, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 6, 7, 9, 10, 10, 8, 4]))
_SEGMENT_COUNTS = (1, 2, 3, 4, 6)
_SEGMENTS = list(itertools.accumulate([50, 25, 12, 8, 5]))


def _draw(rng: random.Random, cumulative: list) -> int:
    """An index drawn with the given cumulative weights."""
    return min(bisect.bisect(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


@dataclasses.dataclass(frozen=True)
class VideoSpec:
    index: int
    seller_index: int
    title: str
    duration_sec: int


class PlaySpec(NamedTuple):
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
        seller = i if i < sellers else rng.choices(range(sellers), weights=seller_weights)[0]
        specs.append(VideoSpec(i, seller, f"Video {i + 1}", duration))
    return specs


def bot_count(viewers: int) -> int:
    """How many of the viewers (the last ones) are bots."""
    return 0 if viewers < 4 else min(5, max(1, viewers // 50))


# A segment of a session: (offset from the session's start in µs, start position, end position).
Segment = tuple[int, int, int]


def _watch(start: int, end: int, duration: int) -> int:
    return max(0, min(end, duration) - start)


def _session(rng: random.Random, duration: int, position: int) -> tuple[list[Segment], int, int]:
    """The segments of one session from `position`; its wall-clock length in µs (the last
    segment played at 1x) and the resume position after it."""
    random = rng.random  # int(random() * n): uniform in 0..n-1, cheaper than randrange
    segments: list[Segment] = []
    offset = 0
    for _ in range(_SEGMENT_COUNTS[_draw(rng, _SEGMENTS)]):
        kind = random()
        if kind < 0.08 and position < duration:
            # A false start: a few seconds, then a restart from the beginning less than 30 s
            # after it began, once those seconds could have played.
            watched = 1 + int(random() * min(12, duration - position))
            segments.append((offset, position, position + watched))
            offset += (watched + int(random() * (29 - watched))) * SECOND_US + int(random() * SECOND_US)
            start = 0
        elif kind < 0.16:
            start = int(random() * (duration + 1))  # a seek, forward or back
        else:
            start = position  # resume where the last segment stopped
        if random() < 0.2:
            end = duration + (0, 0, 1, 5)[int(random() * 4)]  # to the end (players overshoot)
        else:
            end = min(duration, start + int(rng.expovariate(1 / max(30, duration / 3))))
        segments.append((offset, start, end))
        watched_us = (min(end, duration) - start) * SECOND_US if start < duration else 0
        if random() < 0.1:  # played at 2x: the next segment can start after half of it
            offset += -(-watched_us // 2) + int(random() * 121) * SECOND_US
        else:
            offset += watched_us + int(random() * 601) * SECOND_US
        position = 0 if end >= duration else end
    last_offset, start, end = segments[-1]
    return segments, last_offset + max(1, _watch(start, end, duration)) * SECOND_US, position


class _Calendar:
    """The seeded local days: their starts, and which day an instant falls on."""

    def __init__(self, first_day: dt.date, days: int, zone: ZoneInfo) -> None:
        self.starts = [day_bounds_us(first_day + dt.timedelta(days=d), zone)[0] for d in range(days + 1)]
        self.end_us = self.starts[-1]
        self.days = days

    def day(self, at_us: int) -> int:
        return bisect.bisect_right(self.starts, at_us) - 1

    def random_start(self, rng: random.Random, day: int) -> int:
        if rng.random() < 0.04:
            return self.starts[day + 1] - rng.randint(1, 90) * SECOND_US  # just before midnight
        hour = _draw(rng, _HOURS)
        return self.starts[day] + hour * 3_600 * SECOND_US + int(rng.random() * 3_600 * SECOND_US)


class _Pairs:
    """What each ordinary (viewer, video) pair already watched: its sessions' spans, sorted
    (and disjoint, unless _place ran out of room), and its playbacks per local day; and each
    viewer's sessions of every video (the stream limit)."""

    def __init__(self) -> None:
        self.spans: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
        self.viewer_spans: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
        self.per_day: dict[tuple, int] = defaultdict(int)
        self.position: dict[tuple, int] = {}

    def free_start(self, pair: tuple, at: int, length: int) -> int:
        """`at`, or the first instant after it where a session of `length` µs overlaps none
        of the pair's sessions."""
        spans = self.spans[pair]
        i = bisect.bisect_left(spans, (at, -1))
        if i > 0 and spans[i - 1][1] > at:
            at = spans[i - 1][1] + SECOND_US * 60
        while i < len(spans) and spans[i][0] < at + length:
            at = max(at, spans[i][1] + SECOND_US * 60)
            i += 1
        return at

    def within_streams(self, viewer: tuple, at: int, length: int) -> bool:
        """Whether a session [at, at + length) of `viewer` overlaps at most one of the
        viewer's sessions: then no instant has three of them running (if it overlaps A only,
        it misses every session that overlaps A), so no playback is over the stream limit (a
        playback runs within its session's span: the next segment starts after it could end)."""
        spans = self.viewer_spans[viewer]
        i = bisect.bisect_left(spans, (at - _DAY_US, -1))  # a session is far shorter than a day
        overlapping = 0
        while i < len(spans) and spans[i][0] < at + length:
            overlapping += spans[i][1] > at
            i += 1
        return overlapping <= 1

    def fits(self, pair: tuple, days: list[int]) -> bool:
        if days[0] == days[-1]:  # the usual case: a session within one day
            return self.per_day.get((pair, days[0]), 0) + len(days) <= DAILY_CAP
        counts: dict[int, int] = defaultdict(int)
        for day in days:
            counts[day] += 1
        return all(self.per_day.get((pair, day), 0) + n <= DAILY_CAP for day, n in counts.items())

    def add(self, pair: tuple, at: int, length: int, days: list[int], position: int) -> None:
        bisect.insort(self.spans[pair], (at, at + length))
        bisect.insort(self.viewer_spans[pair[0]], (at, at + length))
        for day in days:
            self.per_day[(pair, day)] += 1
        self.position[pair] = position


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
    """`count` playbacks, yielded session by session (in time order within a session), all
    ending before the end of the last day."""
    popularity = list(itertools.accumulate(1 / (rank + 1) ** 1.1 for rank in range(len(videos))))
    ranked = list(range(len(videos)))
    rng.shuffle(ranked)  # popularity is not tied to the video's id
    calendar = _Calendar(first_day, days, zone)
    bots = bot_count(viewers)
    people = viewers - bots
    pairs = _Pairs()
    made = bot_made = bot_sessions = 0

    def popular_video() -> VideoSpec:
        return videos[ranked[_draw(rng, popularity)]]

    while made < count:
        if bots and bot_made < BOT_SHARE * made:
            video = popular_video()
            planned = _bot_session(
                rng, calendar, video, people + rng.randrange(bots), overlapping=bot_sessions % 2 == 0
            )
            if planned is None:
                continue
            bot_sessions += 1
            viewer, at, segments = planned
        else:
            video = popular_video()
            viewer, at, segments = _place(rng, calendar, pairs, video, people)
        for offset, start, end in segments:
            if made >= count:
                return
            yield PlaySpec(f"{prefix}-{made}", video.index, viewer, at + offset, start, end)
            made += 1
            bot_made += viewer[0] == "viewer" and viewer[1] >= people


def _place(
    rng: random.Random, calendar: _Calendar, pairs: _Pairs, video: VideoSpec, people: int
) -> tuple[tuple[str, int], int, list[Segment]]:
    """An ordinary viewer's session of `video`, placed where it overlaps none of that pair's
    sessions, keeps the pair within the daily cap and the viewer within the stream limit. When no try finds such room (a data
    set too dense for its viewers and videos), the first try's viewer and start are taken
    as drawn: the rules then exclude some of its playbacks."""
    first: tuple[tuple[str, int], tuple[tuple[str, int], int], int] | None = None
    for attempt in range(_PLACEMENT_TRIES):
        if rng.random() < 0.03:
            viewer = ("seller", video.seller_index)  # a self-view
        elif attempt < _SKEWED_TRIES and rng.random() < 0.5:
            viewer = ("viewer", min(people - 1, int(rng.paretovariate(1.2)) - 1))  # heavy viewers
        else:
            viewer = ("viewer", rng.randrange(people))
        pair = (viewer, video.index)
        day = int(rng.random() * calendar.days)
        start = calendar.random_start(rng, day)
        first = first or (viewer, pair, start)
        if pairs.per_day.get((pair, day), 0) >= DAILY_CAP:
            continue
        segments, length, position = _session(rng, video.duration_sec, pairs.position.get(pair, 0))
        at = pairs.free_start(pair, start, length)
        if at + length > calendar.end_us:
            continue
        days = [calendar.day(at + offset) for offset, _, _ in segments]
        if pairs.fits(pair, days) and pairs.within_streams(viewer, at, length):
            pairs.add(pair, at, length, days, position)
            return viewer, at, segments
    if first is None:
        raise AssertionError("unreachable: _PLACEMENT_TRIES is positive")
    viewer, pair, at = first
    segments, length, position = _session(rng, video.duration_sec, pairs.position.get(pair, 0))
    at = min(at, calendar.end_us - length)  # a session is far shorter than a day
    pairs.add(pair, at, length, [calendar.day(at + offset) for offset, _, _ in segments], position)
    return viewer, at, segments


def _bot_session(
    rng: random.Random, calendar: _Calendar, video: VideoSpec, bot: int, *, overlapping: bool
) -> tuple[tuple[str, int], int, list[Segment]] | None:
    duration = video.duration_sec
    if overlapping:
        # Full-length plays started every 15-40 s: each overlaps the one before.
        plays_, gaps, end = rng.randint(20, 60), (15, 40), duration
    else:
        # A few seconds every 31-90 s, all day long: over the daily cap.
        plays_, gaps, end = rng.randint(30, 80), (31, 90), min(duration, 5)
    segments, offset = [], 0
    for _ in range(plays_):
        segments.append((offset, 0, end))
        offset += rng.randint(*gaps) * SECOND_US + rng.randrange(SECOND_US)
    at = calendar.random_start(rng, int(rng.random() * calendar.days))
    if at + offset + duration * SECOND_US > calendar.end_us:
        return None
    return ("viewer", bot), at, segments


class _Play(NamedTuple):
    """A PlaySpec with numeric ids, as domain.counted_views.classify_plays reads it."""

    event_id: str
    video_id: int
    viewer_id: int
    started_at_us: int
    start_position_sec: int
    end_position_sec: int


RULE_NAMES = {
    None: "counted views",
    Exclusion.SELF_VIEW: "self-views",
    Exclusion.OVERLAP: "overlaps",
    Exclusion.STREAM_LIMIT: "over the stream limit",
    Exclusion.REPEAT: "repeats within 30 s",
    Exclusion.CAP: "over the daily cap",
}


def rule_outcomes(videos: list[VideoSpec], plays: list[PlaySpec], *, sellers: int, zone: ZoneInfo) -> dict[str, int]:
    """How many of the playbacks count as views and how many each rule of DESIGN 2 "Counted
    view" excludes (the batch's rules, domain.counted_views.classify_plays), keyed by RULE_NAMES'
    values in that order. Assumes the playbacks are the whole history of their viewers and
    videos, as a fresh seed's are."""

    def account(who: tuple[str, int]) -> int:
        return 1 + who[1] if who[0] == "seller" else 1 + sellers + who[1]

    history = [_Play(p[0], p[1] + 1, account(p[2]), p[3], p[4], p[5]) for p in plays]
    durations = {v.index + 1: (account(("seller", v.seller_index)), v.duration_sec) for v in videos}
    counts = dict.fromkeys(RULE_NAMES.values(), 0)
    for exclusion in classify_plays(history, durations, zone=zone).values():
        counts[RULE_NAMES[exclusion]] += 1
    return counts
