"""Use cases of the realtime estimate (DESIGN 2c, domain/realtime.py): a seller's or a video's
playbacks per minute (last 60 minutes) and per hour (last 48 hours), and the stream that
pushes a seller's figures when they change.

Where the counts come from (`RealtimeCounts`): Redis, when the process has one (ingest
counts there, services/video/realtime.py); the play history otherwise, and also while Redis
fails (the breaker's fallback, as for the read cache): the answer is then exact for what is
stored, and the Redis counts return with Redis. Not cached: the figures move every second.
The play history is read on the primary (ReadSide.read), not a replica: a replica's lag
could hide a playback past the 2 seconds the estimate promises.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Protocol

import pybreaker

from domain import realtime
from domain.errors import TooManyRequests, VideoNotFound, require_positive_id
from services.common.auth import Principal, require_seller_or_admin
from services.common.breakers import REDIS_ERRORS
from services.readpath.readside import ReadSide
from services.statistics import repository
from services.video.published import RedisRealtime, sql_per_minute

log = logging.getLogger(__name__)

# WatchRealtime: how often the store is read for a stream, and how often an unchanged figure
# is sent again anyway (so that Envoy's idle timeout, 60 s, never ends a quiet stream).
POLL_SEC = 1.0
RESEND_SEC = 20.0
# A stream without a client deadline ends after this long (the client opens another).
MAX_STREAM_SEC = 600.0
# A stream ends this long before the client's deadline, with OK, rather than at it with
# DEADLINE_EXCEEDED: the client's deadline says how long it wants to watch.
DEADLINE_MARGIN_SEC = 0.25
# Streams hold a handler thread each (16 per instance): few per caller, few per instance.
MAX_STREAMS_PER_CALLER = 2
MAX_STREAMS = 6


class RealtimeCounts(Protocol):
    def per_minute(self, seller_id: int, video_id: int | None, now_us: int) -> dict[int, int]:
        """Counted playbacks per minute start (µs) in the window at now_us."""
        ...

    def video_seller(self, video_id: int) -> int | None:
        """The video's seller, None for no such video."""
        ...


class StoredCounts:
    """RealtimeCounts of the read side: Redis when configured and answering, else the plays."""

    def __init__(self, read: ReadSide) -> None:
        self._read = read
        client = read.cache.client
        self._redis = RedisRealtime(client, read.cache.breaker) if client is not None else None

    def per_minute(self, seller_id: int, video_id: int | None, now_us: int) -> dict[int, int]:
        if self._redis is not None:
            try:
                return self._redis.per_minute(seller_id, video_id, now_us)
            except pybreaker.CircuitBreakerError:
                pass
            except REDIS_ERRORS as exc:
                log.warning("redis unavailable, realtime estimate from the play history: %s", exc)
        zone = self._read.zone
        return self._read.read(lambda conn: sql_per_minute(conn, seller_id, video_id, now_us, zone))

    def video_seller(self, video_id: int) -> int | None:
        return self._read.read(lambda conn: repository.video_seller(conn, video_id))


def seller_realtime(read: ReadSide, counts: RealtimeCounts, principal: Principal, seller_id: int) -> realtime.Realtime:
    """That seller or an admin. A seller without videos (or unknown) reads as zeros, as its
    series do."""
    require_positive_id(seller_id, "seller_id")
    require_seller_or_admin(principal, seller_id, "seller's statistics")
    now = read.clock.now_us()
    return realtime.figures(now, counts.per_minute(seller_id, None, now))


def video_realtime(
    read: ReadSide, counts: RealtimeCounts, principal: Principal, video_id: int
) -> tuple[realtime.Realtime, int]:
    """The video's figures and its seller: the video's seller or an admin; VideoNotFound for
    no such video."""
    require_positive_id(video_id, "video_id")
    seller_id = counts.video_seller(video_id)
    if seller_id is None:
        raise VideoNotFound(f"no video {video_id}", field="video_id")
    require_seller_or_admin(principal, seller_id, "video's statistics")
    now = read.clock.now_us()
    return realtime.figures(now, counts.per_minute(seller_id, video_id, now)), seller_id


class StreamSlots:
    """Admission of WatchRealtime streams: at most MAX_STREAMS on this instance and
    MAX_STREAMS_PER_CALLER per account; over either, TooManyRequests (RESOURCE_EXHAUSTED)."""

    def __init__(self, max_streams: int = MAX_STREAMS, per_caller: int = MAX_STREAMS_PER_CALLER) -> None:
        self.max_streams = max_streams
        self.per_caller = per_caller
        self._open: dict[int, int] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def admit(self, principal: Principal) -> Iterator[None]:
        caller = principal.account_id
        with self._lock:
            if self._open.get(caller, 0) >= self.per_caller:
                raise TooManyRequests(
                    f"at most {self.per_caller} realtime streams per account at once: close one first",
                    retry_after_sec=1,
                )
            if sum(self._open.values()) >= self.max_streams:
                raise TooManyRequests("too many realtime streams on this instance: try again", retry_after_sec=1)
            self._open[caller] = self._open.get(caller, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._open[caller] - 1
                if left:
                    self._open[caller] = left
                else:
                    del self._open[caller]


def watch_seller(
    read: ReadSide,
    counts: RealtimeCounts,
    principal: Principal,
    seller_id: int,
    *,
    wait: Waiter,
    poll_sec: float = POLL_SEC,
    resend_sec: float = RESEND_SEC,
) -> Iterator[realtime.Realtime]:
    """The seller's figures now, then again each time they change (read every `poll_sec`),
    or after `resend_sec` without a change; ends when `wait` says the stream is over."""
    first = seller_realtime(read, counts, principal, seller_id)  # refusals before the stream starts
    yield first
    last, since = first, 0.0
    while wait(poll_sec):
        since += poll_sec
        now = read.clock.now_us()
        current = realtime.figures(now, counts.per_minute(seller_id, None, now))
        if current.minutes != last.minutes or current.hours != last.hours or since >= resend_sec:
            yield current
            last, since = current, 0.0


class Waiter(Protocol):
    def __call__(self, seconds: float) -> bool:
        """Waits up to `seconds`; False when the stream must end (the client left, its deadline
        came, or the longest stream time passed)."""
        ...
