"""Request decoding that answers INVALID_ARGUMENT instead of INTERNAL, and refuses oversized
repeated fields before they are parsed.

grpcio parses each request message itself, before any handler or interceptor behavior runs:
a deserializer that raises makes it log a traceback ("Exception deserializing message!") and
answer INTERNAL. So every handler's deserializer is replaced (one interceptor, the innermost,
registered in services/common/server.py for every service) by one that never raises for bad
input: it returns a `Refused` value, and the wrapped behavior raises the domain error it holds
inside the call, where the error interceptor maps it (BadInput: INVALID_ARGUMENT) and the auth
interceptor has already run (an unauthenticated caller still gets 401, not 400).

Methods with a capped repeated field (RecordPlays' and ImportPlays' `events`) are counted in
the raw bytes first: parsing 2.7 million empty events took 0.2 s of CPU on a quiet VM and
1.9 s under load, before any count could be read off the parsed message. The count walks the
top-level fields in Python and stops at the cap, so it costs at most `cap + 1` steps (a few
ms for 5,000) whatever the message's size.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator

import grpc
from google.protobuf.message import DecodeError

from domain.errors import DomainError, MalformedRequest

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class FieldCap:
    """At most `most` top-level fields in a request message of a method, refused with
    `error()`. Meant for messages whose only field is the repeated one (every top-level field
    is then one element): unknown fields count too, so a message cannot make the walk long by
    padding it with fields it does not declare."""

    most: int
    error: Callable[[], DomainError]


class Refused:
    """What a deserializer returns instead of a message it will not hand to the handler."""

    __slots__ = ("error", "log_line")

    def __init__(self, error: DomainError, log_line: str | None = None) -> None:
        self.error = error
        self.log_line = log_line


def top_level_fields_exceed(data: bytes, most: int) -> bool:
    """True when the serialized message has more than `most` top-level fields. Stops at the
    first field past `most`; a malformed message returns False at the point where it breaks
    (the parser then refuses it)."""
    pos, end, seen = 0, len(data), 0
    while pos < end:
        seen += 1
        if seen > most:
            return True
        tag, pos = _varint(data, pos, end)
        if pos < 0:
            return False
        wire = tag & 7
        if wire == 0:
            _, pos = _varint(data, pos, end)
        elif wire == 2:
            length, pos = _varint(data, pos, end)
            pos = pos + length if pos >= 0 else -1
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:  # groups (proto2 only) or an invalid wire type: the parser decides
            return False
        if pos < 0:
            return False
    return False


def _varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """(value, position after it); position -1 if the varint runs past the end."""
    value = shift = 0
    while pos < end:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            return 0, -1
    return 0, -1


def safe_deserializer(deserialize: Callable[[bytes], object], method: str, cap: FieldCap | None) -> Callable:
    """`deserialize`, returning a Refused value for a message over its cap or one that does
    not parse (never raising for bad input: grpcio would answer INTERNAL)."""
    message_name = method.rsplit("/", 1)[-1]

    def parse(data: bytes):
        if cap is not None and top_level_fields_exceed(data, cap.most):
            return Refused(cap.error())
        try:
            return deserialize(data)
        except DecodeError as exc:
            return Refused(
                MalformedRequest(f"not a valid protobuf message for {message_name} ({exc})"),
                f"malformed request to {method} ({len(data)} bytes): {exc}",
            )

    return parse


def _raise(refused: Refused):
    if refused.log_line:
        log.warning("%s", refused.log_line)
    raise refused.error


def _checked(requests: Iterator) -> Iterator:
    for request in requests:
        if type(request) is Refused:
            _raise(request)
        yield request


def _refusing(behavior: Callable, streaming_request: bool, streaming_response: bool) -> Callable:
    """The behavior, raising a Refused request's error in the call instead of running."""
    if streaming_request:
        if streaming_response:

            def stream_stream(requests, context):
                yield from behavior(_checked(requests), context)

            return stream_stream

        def stream_unary(requests, context):
            return behavior(_checked(requests), context)

        return stream_unary
    if streaming_response:

        def unary_stream(request, context):
            if type(request) is Refused:
                _raise(request)
            yield from behavior(request, context)

        return unary_stream

    def unary_unary(request, context):
        if type(request) is Refused:
            _raise(request)
        return behavior(request, context)

    return unary_unary


class DecodeInterceptor(grpc.ServerInterceptor):
    """The innermost interceptor: safe deserializers (with the method's cap, if any) and a
    behavior that turns their Refused values into the domain error."""

    def __init__(self, caps: dict[str, FieldCap] | None = None) -> None:
        self._caps = dict(caps or {})
        # Built once per method, as WrappedHandlers does for the other interceptors.
        self._entries: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        entry = self._entries.get(method)
        if entry is not None and entry[0] is handler:
            return entry[1]
        rebuilt = self._rebuild(method, handler)
        self._entries[method] = (handler, rebuilt)
        return rebuilt

    def _rebuild(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if handler.request_deserializer is None:
            return handler
        parse = safe_deserializer(handler.request_deserializer, method, self._caps.get(method))
        streaming_request = handler.request_streaming
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                _refusing(handler.unary_unary, False, False), parse, handler.response_serializer
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                _refusing(handler.unary_stream, False, True), parse, handler.response_serializer
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                _refusing(handler.stream_unary, streaming_request, False), parse, handler.response_serializer
            )
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                _refusing(handler.stream_stream, streaming_request, True), parse, handler.response_serializer
            )
        raise ValueError(f"a method handler without a behavior: {handler!r}")
