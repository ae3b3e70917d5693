"""Per-username log-in throttle: after `max_failures` failed log-ins for one username within
`window_sec`, every attempt for it is refused until the window ends, even with the right
password (so guessing cannot go on in the background of a real user's log-ins).

The window is fixed: it starts at the first failure and is not extended by later attempts,
so a refused caller is told exactly when to come back (`retry-after`). A successful log-in
clears the count. The count lives in Redis when the platform has one, so that every account
instance sees the same count; without Redis (the embedded default) each process counts on
its own, so N account instances allow up to N times `max_failures` per window. A Redis that
does not answer falls back to the process's count, logged once per outage.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable

import redis

from domain.errors import TooManyRequests
from services.common.breakers import REDIS_ERRORS
from services.common.metrics import LOGINS_THROTTLED
from services.readpath.cache import LazyCluster

log = logging.getLogger(__name__)


class LocalCounts:
    """Failures per username in this process: {key: (count, window end)}; bounded."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_entries: int = 100_000) -> None:
        self._clock = clock
        self._max = max_entries
        self._entries: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def failures(self, key: str) -> tuple[int, float]:
        """(failures in the current window, seconds until it ends)."""
        count, ends = self._entries.get(key, (0, 0.0))
        left = ends - self._clock()
        return (count, left) if left > 0 else (0, 0.0)

    def add_failure(self, key: str, window_sec: int) -> None:
        with self._lock:
            now = self._clock()
            count, ends = self._entries.get(key, (0, 0.0))
            if ends <= now:
                if len(self._entries) >= self._max:
                    self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
                count, ends = 0, now + window_sec
            self._entries[key] = (count + 1, ends)

    def clear(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)


class RedisCounts:
    """The same counts in Redis (a key per username that expires with its window)."""

    def __init__(
        self, client: redis.Redis | LazyCluster, fallback: LocalCounts, prefix: str = "ps:login-fail:"
    ) -> None:
        self._redis = client
        self._fallback = fallback
        self._prefix = prefix
        self._down = False

    def _key(self, key: str) -> str:
        return self._prefix + key

    def _failed_over(self, exc: Exception) -> None:
        if not self._down:
            log.warning("log-in throttle: Redis unavailable (%s); counting in this process", exc)
        self._down = True

    def failures(self, key: str) -> tuple[int, float]:
        try:
            pipe = self._redis.pipeline(transaction=False)
            pipe.get(self._key(key))
            pipe.pttl(self._key(key))
            count, ttl_ms = pipe.execute()
        except REDIS_ERRORS as exc:
            self._failed_over(exc)
            return self._fallback.failures(key)
        self._down = False
        if count is None or ttl_ms is None or ttl_ms <= 0:
            return 0, 0.0
        return int(count), ttl_ms / 1000

    def add_failure(self, key: str, window_sec: int) -> None:
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.set(self._key(key), 0, ex=window_sec, nx=True)  # opens the window once
            pipe.incr(self._key(key))
            pipe.execute()
        except REDIS_ERRORS as exc:
            self._failed_over(exc)
            self._fallback.add_failure(key, window_sec)

    def clear(self, key: str) -> None:
        try:
            self._redis.delete(self._key(key))
        except REDIS_ERRORS as exc:
            self._failed_over(exc)
        self._fallback.clear(key)


class LoginThrottle:
    def __init__(self, counts: LocalCounts | RedisCounts, *, max_failures: int, window_sec: int) -> None:
        self._counts = counts
        self._max = max_failures
        self._window = window_sec

    @staticmethod
    def _key(username: str) -> str:
        # Usernames are case-sensitive and byte-compared, like the accounts table.
        return hashlib.sha256(username.encode()).hexdigest()[:32]

    def check(self, username: str) -> None:
        """Raises TooManyRequests (with retry-after) while the username is throttled."""
        count, left = self._counts.failures(self._key(username))
        if count >= self._max:
            LOGINS_THROTTLED.inc()
            retry_after = max(1, math.ceil(left))
            raise TooManyRequests(
                f"too many failed log-ins for this username; try again in {retry_after} s",
                retry_after_sec=retry_after,
            )

    def failed(self, username: str) -> None:
        self._counts.add_failure(self._key(username), self._window)

    def succeeded(self, username: str) -> None:
        self._counts.clear(self._key(username))


def make_throttle(
    redis_client: redis.Redis | LazyCluster | None, *, max_failures: int, window_sec: int
) -> LoginThrottle:
    local = LocalCounts()
    counts = RedisCounts(redis_client, local) if redis_client is not None else local
    return LoginThrottle(counts, max_failures=max_failures, window_sec=window_sec)
