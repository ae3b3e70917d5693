"""The domain rules of DESIGN.md section 2, as plain functions (no SQL, no gRPC).

The SQL steps in batch/steps implement the same rules set-based inside the database; each
SQL fragment there names the function here that states its rule. tests/reference.py is an
independent, deliberately naive oracle for both.
"""

from __future__ import annotations

import datetime as dt
import enum
import heapq
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.errors import BadTierTable
from domain.periods import local_day_of

# DESIGN 2 "Counted view" 2: a playback started less than this after the previous one
# (same viewer, same video; start to start) is a repeat. Exactly 30 s apart counts.
REPEAT_WINDOW_US = 30_000_000
# DESIGN 2 "Ads": an ad sits at every multiple of this many seconds strictly inside the video.
AD_INTERVAL_SEC = 300
# DESIGN 2 "Counted view" 4: per viewer, video and local day, only this many passing plays count.
DAILY_VIEW_CAP = 10
# DESIGN 2 "Counted view" 3: no player goes faster than this, so a segment of w seconds of
# video lasts at least w / MAX_PLAYBACK_SPEED seconds of wall time.
MAX_PLAYBACK_SPEED = 2
# DESIGN 2 "Counted view" 5: one account plays on at most this many devices at once.
MAX_STREAMS = 2
_US_PER_SEC = 1_000_000

VIEW = "VIEW"
AD = "AD"


def is_self_view(viewer_id: int, seller_id: int) -> bool:
    """DESIGN 2 "Counted view" 1: the seller's own playbacks never count."""
    return viewer_id == seller_id


def is_repeat(previous_started_at_us: int | None, started_at_us: int) -> bool:
    """DESIGN 2 "Counted view" 2: started less than 30 s after the viewer's previous playback
    of the same video (counted or not; ties on started_at ordered by event_id, so an equal
    instant later in that order is a repeat)."""
    if previous_started_at_us is None:
        return False
    return started_at_us - previous_started_at_us < REPEAT_WINDOW_US


def is_overlap(previous_started_at_us: int | None, previous_watch_time_sec: int, started_at_us: int) -> bool:
    """DESIGN 2 "Counted view" 3: started before the previous playback of the same viewer and
    video (the one of rule 2) could have ended even at double speed:
    started_at < previous.started_at + watch_time(previous) / 2, exact instants (equal is not
    an overlap). Both sides are scaled by MAX_PLAYBACK_SPEED so the comparison stays exact
    in integers (half a second is not a whole number of seconds)."""
    if previous_started_at_us is None:
        return False
    elapsed_us = started_at_us - previous_started_at_us
    return elapsed_us * MAX_PLAYBACK_SPEED < previous_watch_time_sec * _US_PER_SEC


def is_running(started_at_us: int, watch_time_sec: int, at_us: int) -> bool:
    """DESIGN 2 "Counted view" 5: a playback is running at instant t when
    started_at <= t < started_at + watch_time / 2, exact (a 601 s watch runs 300.5 s; both
    sides scaled by MAX_PLAYBACK_SPEED as in is_overlap). A zero watch time never runs."""
    elapsed_us = at_us - started_at_us
    return elapsed_us >= 0 and elapsed_us * MAX_PLAYBACK_SPEED < watch_time_sec * _US_PER_SEC


def running_end_scaled(started_at_us: int, watch_time_sec: int) -> int:
    """The instant a playback stops running (started_at + watch_time / 2), in microseconds
    times MAX_PLAYBACK_SPEED so that it is an integer: running at t exactly when
    started_at <= t and t * MAX_PLAYBACK_SPEED < this (is_running)."""
    return started_at_us * MAX_PLAYBACK_SPEED + watch_time_sec * _US_PER_SEC


def over_stream_limit(running_earlier: int) -> bool:
    """DESIGN 2 "Counted view" 5: a playback is over the stream limit when it starts while
    MAX_STREAMS or more playbacks of the same viewer (any video, self-views included) that
    come before it in (started_at, event_id byte-wise) order are running (is_running),
    whatever became of those: over-limit, overlapping and self-view playbacks still run."""
    return running_earlier >= MAX_STREAMS


def is_counted_view(viewer_id: int, seller_id: int, previous_started_at_us: int | None, started_at_us: int) -> bool:
    """DESIGN 2 "Counted view": neither a self-view nor a repeat."""
    return not is_self_view(viewer_id, seller_id) and not is_repeat(previous_started_at_us, started_at_us)


def watch_time_sec(start_sec: int, end_sec: int, duration_sec: int) -> int:
    """DESIGN 2 "Watch time": min(end, duration) - start, never negative."""
    return max(0, min(end_sec, duration_sec) - start_sec)


def ad_marks(duration_sec: int) -> range:
    """DESIGN 2 "Ads": 300, 600, ... strictly less than the duration."""
    return range(AD_INTERVAL_SEC, max(duration_sec, 0), AD_INTERVAL_SEC)


def ad_views(start_sec: int, end_sec: int, duration_sec: int) -> int:
    """DESIGN 2 "Ads": marks m with start < m <= end (for a counted view; closed form).

    Marks are k*300 (k >= 1) with k*300 <= min(end, duration - 1); those <= start are
    excluded. Positions are non-negative (a negative one is a bad row, not priced).
    """
    if start_sec < 0:
        raise ValueError("negative start position")
    upper = min(end_sec, duration_sec - 1)
    if upper < AD_INTERVAL_SEC:
        return 0
    return max(0, upper // AD_INTERVAL_SEC - start_sec // AD_INTERVAL_SEC)


@dataclass(frozen=True)
class Tier:
    lower_bound: int  # cumulative count before the unit, inclusive
    unit_price: Decimal


@dataclass(frozen=True)
class TierTable:
    """Marginal tiers of one kind (VIEW or AD) in force on a day, like tax brackets.

    Invariants: at least one tier, the first starts at 0, lower bounds strictly increase,
    prices are non-negative Decimals. Tier i covers counts [lower_bound_i, lower_bound_i+1).
    """

    kind: str
    effective_from: dt.date
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        if not self.tiers:
            raise BadTierTable(f"{self.kind} tier table from {self.effective_from} is empty")
        if self.tiers[0].lower_bound != 0:
            raise BadTierTable(f"{self.kind} tier table from {self.effective_from} does not start at 0")
        bounds = [tier.lower_bound for tier in self.tiers]
        if any(b <= a for a, b in itertools.pairwise(bounds)):
            raise BadTierTable(f"{self.kind} tier bounds are not increasing: {bounds}")
        for tier in self.tiers:
            if not isinstance(tier.unit_price, Decimal) or tier.unit_price < 0:
                raise BadTierTable(f"{self.kind} tier price {tier.unit_price!r} is not valid")

    def ranges(self) -> list[tuple[int, int | None, Decimal]]:
        """(lower, upper exclusive or None for the last tier, unit price) per tier."""
        uppers: list[int | None] = [t.lower_bound for t in self.tiers[1:]] + [None]
        return [(t.lower_bound, u, t.unit_price) for t, u in zip(self.tiers, uppers, strict=True)]

    def revenue(self, count_before: int, count: int) -> Decimal:
        """DESIGN 2 "Prices": the amount of `count` more units after `count_before` units:
        unit n (0-based cumulative index) is priced by the tier containing n."""
        if count_before < 0 or count < 0:
            raise ValueError("counts must be non-negative")
        before, after = count_before, count_before + count
        total = Decimal(0)
        for lower, upper, price in self.ranges():
            top = after if upper is None else min(after, upper)
            overlap = top - max(before, lower)
            if overlap > 0:
                total += price * overlap
        return total


def tier_table_in_force(rows: Iterable[tuple[str, dt.date, int, Decimal]], kind: str, day: dt.date) -> TierTable:
    """DESIGN 2 "Precise points": the table of the latest effective_from <= the day applies.

    `rows` are (kind, effective_from, lower_bound, unit_price) of the tier_prices table.
    """
    candidates = [r for r in rows if r[0] == kind and r[1] <= day]
    if not candidates:
        raise BadTierTable(f"no {kind} tier table is in force on {day}")
    since = max(r[1] for r in candidates)
    tiers = sorted((r for r in candidates if r[1] == since), key=lambda r: r[2])
    return TierTable(kind, since, tuple(Tier(r[2], Decimal(r[3])) for r in tiers))


def ordered_plays_key(started_at_us: int, event_id: str) -> tuple[int, bytes]:
    """DESIGN 2 "Precise points": plays of a viewer and video ordered by start, ties by
    event_id compared byte by byte (UTF-8, binary collation)."""
    return started_at_us, event_id.encode("utf-8")


class Exclusion(enum.Enum):
    """Why a playback earns no view, strongest first: when several rules apply, the play is
    attributed to the first that does (SELF_VIEW > OVERLAP > STREAM_LIMIT > REPEAT > CAP).
    SELF_VIEW, OVERLAP and STREAM_LIMIT also take away the watch time; REPEAT and CAP keep
    it (earns_watch_time)."""

    SELF_VIEW = "SELF_VIEW"
    OVERLAP = "OVERLAP"
    STREAM_LIMIT = "STREAM_LIMIT"
    REPEAT = "REPEAT"
    CAP = "CAP"


def earns_watch_time(exclusion: Exclusion | None) -> bool:
    """DESIGN 2 "Watch time": every playback except the seller's own, overlapping ones
    (rule 3) and those over the stream limit (rule 5): those cannot have been watched as
    claimed."""
    return exclusion not in (Exclusion.SELF_VIEW, Exclusion.OVERLAP, Exclusion.STREAM_LIMIT)


class PlayLike(Protocol):
    # Read-only, so that a NamedTuple is one.
    @property
    def event_id(self) -> str: ...
    @property
    def video_id(self) -> int: ...
    @property
    def viewer_id(self) -> int: ...
    @property
    def started_at_us(self) -> int: ...
    @property
    def start_position_sec(self) -> int: ...
    @property
    def end_position_sec(self) -> int: ...


def classify_plays(
    plays: Iterable[PlayLike],
    videos: Mapping[int, tuple[int, int]],
    *,
    zone: ZoneInfo,
) -> dict[str, Exclusion | None]:
    """DESIGN 2 "Counted view" 1-5 over a whole play history: event_id -> the reason the
    playback earns no view, None for a counted view. `videos` maps video_id ->
    (seller_id, duration_sec). Each play's previous playback is the one just before it among
    the same viewer's plays of the same video in (started_at, event_id byte-wise) order, on
    any day; the stream limit looks at the same viewer's plays of every video in that order;
    the cap counts the plays passing rules 1-3 and 5 per local day of `zone`.

    The plays given must include every earlier playback of each viewer that could be a
    previous one or still be running, or rules 2, 3 and 5 cannot see across the boundary of
    the data."""
    by_viewer: dict[int, list[PlayLike]] = defaultdict(list)
    for play in plays:
        by_viewer[play.viewer_id].append(play)
    result: dict[str, Exclusion | None] = {}
    for viewer_id, viewer_plays in by_viewer.items():
        viewer_plays.sort(key=lambda p: ordered_plays_key(p.started_at_us, p.event_id))
        limited = _over_stream_limit_plays(viewer_plays, videos)
        by_video: dict[int, list[PlayLike]] = defaultdict(list)
        for play in viewer_plays:
            by_video[play.video_id].append(play)  # still in order
        for video_id, pair_plays in by_video.items():
            seller_id, duration_sec = videos[video_id]
            passing_per_day: dict[dt.date, int] = defaultdict(int)
            previous: PlayLike | None = None
            for play in pair_plays:
                result[play.event_id] = _exclusion(
                    play,
                    previous,
                    viewer_id,
                    seller_id,
                    duration_sec,
                    play.event_id in limited,
                    passing_per_day,
                    zone,
                )
                previous = play
    return result


def _over_stream_limit_plays(ordered: list[PlayLike], videos: Mapping[int, tuple[int, int]]) -> set[str]:
    """The event_ids of one viewer's plays (in (started_at, event_id) order) over the stream
    limit: a sweep keeping the scaled end instants of the earlier plays still running."""
    running: list[int] = []  # heap of running_end_scaled of earlier plays with watch time > 0
    limited: set[str] = set()
    for play in ordered:
        now_scaled = play.started_at_us * MAX_PLAYBACK_SPEED
        while running and running[0] <= now_scaled:  # ended at or before this start: not running
            heapq.heappop(running)
        if over_stream_limit(len(running)):
            limited.add(play.event_id)
        watch = watch_time_sec(play.start_position_sec, play.end_position_sec, videos[play.video_id][1])
        if watch > 0:  # a zero watch time never runs
            heapq.heappush(running, running_end_scaled(play.started_at_us, watch))
    return limited


def _exclusion(
    play: PlayLike,
    previous: PlayLike | None,
    viewer_id: int,
    seller_id: int,
    duration_sec: int,
    over_limit: bool,
    passing_per_day: dict[dt.date, int],
    zone: ZoneInfo,
) -> Exclusion | None:
    # The attribution order of Exclusion: SELF_VIEW > OVERLAP > STREAM_LIMIT > REPEAT > CAP.
    if is_self_view(viewer_id, seller_id):
        return Exclusion.SELF_VIEW
    previous_watch = 0
    if previous is not None:
        previous_watch = watch_time_sec(previous.start_position_sec, previous.end_position_sec, duration_sec)
    previous_start = previous.started_at_us if previous is not None else None
    if is_overlap(previous_start, previous_watch, play.started_at_us):
        return Exclusion.OVERLAP
    if over_limit:
        return Exclusion.STREAM_LIMIT
    if is_repeat(previous_start, play.started_at_us):
        return Exclusion.REPEAT
    day = local_day_of(play.started_at_us, zone)
    passing_per_day[day] += 1
    if passing_per_day[day] > DAILY_VIEW_CAP:
        return Exclusion.CAP
    return None
