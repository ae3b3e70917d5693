"""Wrapping gRPC method handlers once per method, for the interceptors (errors, auth, metrics)."""

from __future__ import annotations

from collections.abc import Callable

import grpc


def accept_serialized(serializer: Callable | None) -> Callable | None:
    """A response serializer that also takes the message already serialized, as bytes.

    Read models are cached as serialized messages: a handler returns those bytes as they are
    instead of parsing them into a message that gRPC would serialize again.
    """
    if serializer is None or getattr(serializer, "accepts_serialized", False):
        return serializer

    def serialize(message) -> bytes:
        return message if type(message) is bytes else serializer(message)

    serialize.accepts_serialized = True  # type: ignore[attr-defined]  # a mark on the function, read above
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
    if handler.stream_stream:
        return grpc.stream_stream_rpc_method_handler(
            wrap(handler.stream_stream, True), handler.request_deserializer, serializer
        )
    raise ValueError(f"a method handler without a behavior: {handler!r}")


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
