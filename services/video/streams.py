"""Limits for client-streaming calls, which hold one of the instance's handler threads for
as long as the client keeps the stream open.

`StreamLimits.admit(context)` refuses a stream at once (RESOURCE_EXHAUSTED) when `max_streams`
are already open on this instance, so the other handler threads stay free for unary calls.
An admitted stream's messages are read through `StreamWatch.messages(...)`, and a watchdog
ends the call with DEADLINE_EXCEEDED when the client has sent nothing that counts as
progress for `idle_sec` while the handler waits for it, or when the stream has been open for
`max_sec` in all.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import grpc
from grpc._cython import cygrpc  # type: ignore[attr-defined]  # grpc's private core, not in its stubs

from domain.errors import TooManyRequests
from services.common.metrics import STREAMS_REFUSED

log = logging.getLogger(__name__)
T = TypeVar("T")


def end_call(context: grpc.ServicerContext, code: grpc.StatusCode, details: str) -> None:
    """Ends the call from any thread, with a status and message the client sees, and makes
    the handler's blocked read of the request stream raise (freeing its thread).

    grpc's public `context.cancel()` can do neither of the first two (the client sees a bare
    CANCELLED), and `context.abort()` only takes effect when the handler itself returns;
    the call object's cancel-with-status does both (pinned by tests/integration/
    test_import_limits.py against the grpcio version in pyproject.toml).
    """
    call = getattr(getattr(context, "_rpc_event", None), "call", None)
    if call is None:
        context.cancel()
        return
    call.cancel(cygrpc.StatusCode(code.value[0]), details.encode())


class StreamWatch:
    """One admitted stream: when it started and since when its handler waits for progress."""

    def __init__(
        self,
        context: grpc.ServicerContext,
        method: str,
        idle_sec: float,
        max_sec: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._context = context
        self._method = method
        self._idle = idle_sec
        self._max = max_sec
        self._clock = clock
        self._started = clock()
        self._waiting_since: float | None = None
        self._done = threading.Event()
        self.ended: str | None = None  # the message the call was ended with, if a limit ended it

    def messages(self, requests: Iterable[T], progress: Callable[[T], bool] = lambda _: True) -> Iterator[T]:
        """The request stream; the idle clock runs only while the handler waits for the next
        message, and a message for which `progress` is false (an empty chunk) does not reset it."""
        iterator = iter(requests)
        self._waiting_since = self._clock()
        while True:
            try:
                message = next(iterator)
            except StopIteration:
                self._waiting_since = None
                return
            if progress(message):
                self._waiting_since = None
                yield message
                self._waiting_since = self._clock()

    def watch(self) -> None:
        while not self._done.wait(min(self._idle, self._max) / 4):
            now = self._clock()
            waiting = self._waiting_since
            if now - self._started >= self._max:
                self._end(
                    "max_duration",
                    f"stream open for more than {self._max:g} s; split the import into"
                    " several streams (events already answered are stored)",
                )
                return
            if waiting is not None and now - waiting >= self._idle:
                self._end("idle", f"no events for {self._idle:g} s; stream closed (events already answered are stored)")
                return

    def _end(self, reason: str, message: str) -> None:
        STREAMS_REFUSED.labels(self._method, reason).inc()
        log.warning("%s stream ended: %s (%s)", self._method, message, reason)
        self.ended = message
        end_call(self._context, grpc.StatusCode.DEADLINE_EXCEEDED, message)

    def close(self) -> None:
        self._done.set()


class StreamLimits:
    """Per instance: how many streams of one method may be open at once, and for how long."""

    def __init__(self, method: str, *, max_streams: int, idle_sec: float, max_sec: float) -> None:
        self._method = method
        self._slots = threading.BoundedSemaphore(max_streams)
        self._max_streams = max_streams
        self._idle = idle_sec
        self._max = max_sec

    @contextlib.contextmanager
    def admit(self, context: grpc.ServicerContext) -> Iterator[StreamWatch]:
        if not self._slots.acquire(blocking=False):
            STREAMS_REFUSED.labels(self._method, "busy").inc()
            raise TooManyRequests(
                f"{self._max_streams} {self._method} streams already open on this instance; retry later",
                retry_after_sec=1,
            )
        watch = StreamWatch(context, self._method, self._idle, self._max)
        watchdog = threading.Thread(target=watch.watch, name=f"{self._method}-watchdog", daemon=True)
        watchdog.start()
        try:
            yield watch
        except grpc.RpcError:
            if watch.ended is None:
                raise
            # The read of the ended stream raised: record the limit's status (for metrics and
            # logs; the client already has it) instead of an unexplained error.
            context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, watch.ended)
        finally:
            watch.close()
            self._slots.release()
