"""Domain errors with meaning, and the one interceptor that maps them to gRPC status codes.

Envoy's transcoder turns the status into the HTTP code (INVALID_ARGUMENT -> 400, ...) and a
JSON body `{"code", "message"}`. Servicers raise; they never call set_code case by case.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
import pybreaker
import sqlalchemy.exc

log = logging.getLogger(__name__)


class DomainError(Exception):
    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(DomainError):
    code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(DomainError):
    """A limit was hit; `retry_after_sec` (if any) travels as `retry-after` trailing metadata,
    which Envoy's transcoder passes to JSON callers as an HTTP header of that name."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED

    def __init__(self, message: str, *, retry_after_sec: int | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_sec = retry_after_sec


def status_of(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    """The status a client sees for an exception raised by a handler."""
    if isinstance(exc, DomainError):
        return exc.code, str(exc)
    if isinstance(exc, pybreaker.CircuitBreakerError):
        return grpc.StatusCode.UNAVAILABLE, f"dependency unavailable (circuit open): {exc}"
    if isinstance(exc, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)):
        return grpc.StatusCode.UNAVAILABLE, "database unavailable, retry later"
    return grpc.StatusCode.INTERNAL, "internal error"


def _abort(context: grpc.ServicerContext, exc: BaseException) -> None:
    code, message = status_of(exc)
    retry_after = getattr(exc, "retry_after_sec", None)
    if retry_after is not None:
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


def accept_serialized(serializer: Callable | None) -> Callable | None:
    """A response serializer that also takes the message already serialized, as bytes.

    Read models are cached as serialized messages: a handler returns those bytes as they are
    instead of parsing them into a message that gRPC would serialize again.
    """
    if serializer is None or getattr(serializer, "accepts_serialized", False):
        return serializer

    def serialize(message) -> bytes:
        return message if type(message) is bytes else serializer(message)

    serialize.accepts_serialized = True
    return serialize


def wrap_handler(handler: grpc.RpcMethodHandler, wrap: Callable[[Callable, bool], Callable]):
    """Applies `wrap(behavior, streaming_response)` to whichever behavior the handler has;
    the wrapped handler's responses may be pre-serialized bytes (`accept_serialized`)."""
    if handler is None:
        return None
    serializer = accept_serialized(handler.response_serializer)
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(
            wrap(handler.unary_unary, False), handler.request_deserializer, serializer
        )
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            wrap(handler.unary_stream, True), handler.request_deserializer, serializer
        )
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(
            wrap(handler.stream_unary, False), handler.request_deserializer, serializer
        )
    return grpc.stream_stream_rpc_method_handler(
        wrap(handler.stream_stream, True), handler.request_deserializer, serializer
    )


class WrappedHandlers:
    """Wrapped handlers built once per method, not once per call.

    An interceptor's `intercept_service` runs for every call; re-wrapping the handler each
    time (three closures and a new RpcMethodHandler per interceptor) is pure overhead when the
    wrapper does not depend on the call. The cache is keyed by method and checked against the
    handler it wrapped (the registered handler object is the same for every call of a method),
    so a different handler for the same name is wrapped anew. Only found methods are cached:
    the set is bounded by the registered services.
    """

    def __init__(self, wrap_for: Callable[[str], Callable[[Callable, bool], Callable]]) -> None:
        self._wrap_for = wrap_for
        self._entries: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def get(self, method: str, handler: grpc.RpcMethodHandler | None):
        if handler is None:
            return None
        entry = self._entries.get(method)
        if entry is not None and entry[0] is handler:
            return entry[1]
        wrapped = wrap_handler(handler, self._wrap_for(method))
        self._entries[method] = (handler, wrapped)
        return wrapped


class ErrorInterceptor(grpc.ServerInterceptor):
    def __init__(self) -> None:
        self._handlers = WrappedHandlers(lambda method: guard)

    def intercept_service(self, continuation, handler_call_details):
        return self._handlers.get(handler_call_details.method, continuation(handler_call_details))
