"""Playback rules of the ingest (docs/ingest.md): what makes an event valid, what is a
duplicate or a conflict, and which playback sets the resume position.

Plain functions and tuples: no grpc, no SQL. Reasons are stable, human-readable
strings that name the field, returned to the client with the REJECTED outcome.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from domain.periods import local_day_of

MAX_EVENTS_PER_CALL = 5_000
MAX_EVENT_ID_CHARS = 128
# DESIGN 2 "Invalid activity at ingest": a playback may end, even at double speed, at most
# this far after the server's clock (client clocks drift).
FUTURE_ALLOWANCE_US = 5 * 60 * 1_000_000
# DESIGN 2 "Invalid activity at ingest": how long after its start a playback may still be
# recorded with an account's own token (PAYSYSTEM_VIEWER_LATE_WINDOW_SEC); INGEST accounts
# have no limit.
DEFAULT_VIEWER_LATE_WINDOW_SEC = 7 * 86_400


class Outcome(enum.IntEnum):
    # Values match paysystem.v1.PlayOutcome.
    STORED = 1
    DUPLICATE = 2
    REJECTED = 3


class PlayEvent(NamedTuple):
    # A tuple (cheap to build 5,000 times a call; fields by name or position, in this order).
    event_id: str
    video_id: int
    viewer_id: int
    started_at_us: int | None  # None: missing
    start_position_sec: int
    end_position_sec: int

    def content(self) -> tuple[int, int, int | None, int, int]:
        """What must be identical for a repeated event_id to be a duplicate."""
        return self[1:]


class PlayResult(NamedTuple):
    event_id: str
    outcome: Outcome
    reason: str = ""


def event_id_problem(event_id: str) -> str | None:
    if not event_id:
        return "event_id: must not be empty"
    if len(event_id) > MAX_EVENT_ID_CHARS:
        return f"event_id: at most {MAX_EVENT_ID_CHARS} characters, got {len(event_id)}"
    if event_id != event_id.strip():
        # The database tells 'a' from 'a ' (NO PAD binary collation, migration 0005), but a
        # retry through a layer that trims would become a second, paid playback: refuse.
        return "event_id: must not start or end with whitespace"
    if not event_id.isprintable():
        return "event_id: must not contain control characters"
    return None


def shape_is_fine(event: PlayEvent) -> bool:
    """A quick test that implies `shape_problem(event)` is None. False does not mean there
    is a problem: ask shape_problem then.

    An isprintable() string holds no whitespace but the ASCII space (every other whitespace
    character is a control or separator character), so testing the two ends for a space is
    the strip() test.
    """
    event_id, video_id, viewer_id, started_at_us, start, end = event
    return (
        video_id > 0
        and viewer_id > 0
        and started_at_us is not None
        and started_at_us >= 0
        and 0 <= start <= end
        and 0 < len(event_id) <= MAX_EVENT_ID_CHARS
        and event_id.isprintable()
        and event_id[0] != " "
        and event_id[-1] != " "
    )


def shape_problem(event: PlayEvent) -> str | None:
    """What is wrong with the event on its own (without the database or the clock), or None."""
    problem = event_id_problem(event.event_id)
    if problem:
        return problem
    if event.video_id <= 0:
        return f"video_id: must be a positive id, got {event.video_id}"
    if event.viewer_id <= 0:
        return f"viewer_id: must be a positive id, got {event.viewer_id}"
    if event.started_at_us is None:
        return "started_at: missing"
    if event.started_at_us < 0:
        return "started_at: before 1970-01-01T00:00:00Z"
    if event.start_position_sec < 0:
        return f"start_position_sec: must not be negative, got {event.start_position_sec}"
    if event.end_position_sec < event.start_position_sec:
        return f"end_position_sec: {event.end_position_sec} is before start_position_sec {event.start_position_sec}"
    return None


def video_problem(event: PlayEvent, duration_sec: int | None) -> str | None:
    """What is wrong with the event given its video's duration (None: no such video)."""
    if duration_sec is None:
        return f"video_id: unknown video {event.video_id}"
    if event.start_position_sec > duration_sec:
        return f"start_position_sec: {event.start_position_sec} is beyond the video's length of {duration_sec} s"
    # end_position_sec past the end is allowed: players overshoot, watch time clamps it.
    return None


def watch_time_sec(event: PlayEvent, duration_sec: int) -> int:
    """DESIGN 2 "Watch time": min(end, duration) - start seconds, never negative."""
    return max(0, min(event.end_position_sec, duration_sec) - event.start_position_sec)


def cannot_have_ended(started_at_us: int, watch_time: int, received_at_us: int) -> bool:
    """DESIGN 2 "Invalid activity at ingest": started_at + watch_time / 2 > received_at + 5
    minutes. Players go no faster than 2x, so such a playback is still running (or was never
    played); exactly at the limit is accepted. With watch_time 0 it is the clock-drift bound
    on started_at itself."""
    return started_at_us + watch_time * 500_000 > received_at_us + FUTURE_ALLOWANCE_US


def is_too_late(started_at_us: int, received_at_us: int, late_window_us: int) -> bool:
    """DESIGN 2 "Invalid activity at ingest": recorded more than the late window after it
    started; exactly the window is accepted."""
    return received_at_us - started_at_us > late_window_us


NOT_ENDED = (
    "started_at: the playback cannot have ended yet (started_at + watch time / 2 is more than "
    f"{FUTURE_ALLOWANCE_US // 60_000_000} minutes after the server's clock)"
)


ARCHIVED_MONTH = (
    "started_at: its local day is in a month whose playbacks are archived; an archived month "
    "accepts no more playbacks (docs/ledger.md, docs/scaling.md)"
)


def too_late_reason(late_window_us: int) -> str:
    window = _span(late_window_us // 1_000_000)
    return (
        f"started_at: more than {window} ago; an account records its own playbacks within {window} "
        "of their start (older ones come from the platform's INGEST accounts)"
    )


def timing_problem(event: PlayEvent, duration_sec: int, received_at_us: int, late_window_us: int | None) -> str | None:
    """What is wrong with when the event happened, given the server's clock when the call
    arrived; late_window_us None: no late window (INGEST accounts backfill any past day)."""
    started = event.started_at_us
    if started is None:
        raise ValueError("timing_problem of an event without started_at: shape_problem tells that")
    if late_window_us is not None and is_too_late(started, received_at_us, late_window_us):
        return too_late_reason(late_window_us)
    if cannot_have_ended(started, watch_time_sec(event, duration_sec), received_at_us):
        return NOT_ENDED
    return None


def _span(seconds: int) -> str:
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} s"


CONFLICT_STORED = "event_id: already stored with different content (the stored event is kept)"
CONFLICT_IN_REQUEST = "event_id: repeated in this request with different content (the first one is kept)"


def resume_position(end_position_sec: int, duration_sec: int) -> int:
    """Where the viewer resumes after this playback: its end, or 0 once they reached the end."""
    return 0 if end_position_sec >= duration_sec else end_position_sec


def resume_key(event: PlayEvent) -> tuple[int, str]:
    """Order of playbacks for the resume position: started_at, then event_id (byte order)."""
    return (event.started_at_us or 0, event.event_id)


class LocalDays:
    """local_day_of(started_at_us, zone) as an ISO date string, remembered per quarter hour.

    A quarter hour is remembered when its first and last microsecond fall on the same local
    day with the same UTC offset (no clock change inside it: time zones do not change their
    offset twice within 15 minutes); otherwise, e.g. around a clock change, each instant is
    computed on its own. Exactly local_day_of's answer, for a fraction of its cost.
    """

    _SPAN_US = 15 * 60 * 1_000_000
    _LIMIT = 200_000

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._spans: dict[int, str | None] = {}

    def iso(self, started_at_us: int) -> str:
        span = started_at_us // self._SPAN_US
        day = self._spans.get(span, "")
        if day == "":
            day = self._spans[span] = self._learn(span)
        return day if day is not None else local_day_of(started_at_us, self._zone).isoformat()

    def _learn(self, span: int) -> str | None:
        if len(self._spans) > self._LIMIT:
            self._spans.clear()
        first_us = span * self._SPAN_US
        first = _local(first_us, self._zone)
        last = _local(first_us + self._SPAN_US - 1, self._zone)
        if first.date() != last.date() or first.utcoffset() != last.utcoffset():
            return None
        return first.date().isoformat()


def _local(epoch_us: int, zone: ZoneInfo) -> dt.datetime:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=epoch_us)).astimezone(zone)
