"""The one interceptor that turns exceptions into gRPC status codes.

Envoy's transcoder turns the status into the HTTP code (INVALID_ARGUMENT -> 400, ...) and a
JSON body `{"code", "message"}`. Servicers raise; they never call set_code case by case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
import pybreaker
import sqlalchemy.exc

from domain import errors
from services.common.handlers import WrappedHandlers

log = logging.getLogger(__name__)

# Each domain category and the status its client sees. NotReady is FAILED_PRECONDITION: the
# request is valid, the state it needs is missing (Envoy answers 400, as for bad input).
CODE_OF_CATEGORY: tuple[tuple[type[errors.DomainError], grpc.StatusCode], ...] = (
    (errors.BadInput, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.Conflict, grpc.StatusCode.ALREADY_EXISTS),
    (errors.NotAuthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.NotAllowed, grpc.StatusCode.PERMISSION_DENIED),
    (errors.NotReady, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.TooManyRequests, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
)


def status_of(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status a client sees for an exception raised by a handler."""
    for category, code in CODE_OF_CATEGORY:
        if isinstance(exc, category):
            return code, str(exc)
    if isinstance(exc, pybreaker.CircuitBreakerError):
        return grpc.StatusCode.UNAVAILABLE, f"dependency unavailable (circuit open): {exc}"
    if isinstance(exc, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)):
        return grpc.StatusCode.UNAVAILABLE, "database unavailable, retry later"
    return grpc.StatusCode.INTERNAL, "internal error"


def _abort(context: grpc.ServicerContext, exc: BaseException) -> None:
    code, message = status_of(exc)
    retry_after = getattr(exc, "retry_after_sec", None)
    if retry_after is not None:
        # Envoy's transcoder passes trailing metadata to JSON callers as HTTP headers.
        context.set_trailing_metadata((("retry-after", str(retry_after)),))
    if code is grpc.StatusCode.INTERNAL:
        log.exception("unhandled error in handler")
    elif code is grpc.StatusCode.UNAVAILABLE:
        log.warning("dependency unavailable: %s", exc)
    context.abort(code, message)


def _is_abort(exc: BaseException) -> bool:
    # context.abort() raises a bare Exception after setting the status: let it through.
    return type(exc) is Exception and not exc.args


def guard(behavior: Callable, streaming_response: bool) -> Callable:
    """Wraps a handler so that any exception becomes the right status."""
    if streaming_response:

        def stream(request, context):
            try:
                yield from behavior(request, context)
            except Exception as exc:  # noqa: BLE001 - mapped, never swallowed
                if _is_abort(exc):
                    raise
                _abort(context, exc)

        return stream

    def unary(request, context):
        try:
            return behavior(request, context)
        except Exception as exc:  # noqa: BLE001 - mapped, never swallowed
            if _is_abort(exc):
                raise
            _abort(context, exc)

    return unary


class ErrorInterceptor(grpc.ServerInterceptor):
    def __init__(self) -> None:
        self._handlers = WrappedHandlers(lambda method: guard)

    def intercept_service(self, continuation, handler_call_details):
        return self._handlers.get(handler_call_details.method, continuation(handler_call_details))
