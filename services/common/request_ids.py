"""The request id of the call being served: Envoy gives every request an `x-request-id`
(generated at the edge, or the client's own) and passes it to the service as gRPC metadata;
the auth interceptor puts it here for the call, so that what the call records (the audit log,
services/audit) names the same id as Envoy's access log. Calls without one (direct gRPC, the
operator's local commands) get a fresh id, so every record still has one."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterable

HEADER = "x-request-id"
MAX_LENGTH = 128  # what audit_log.request_id holds; a longer client id is cut

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def from_metadata(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    for key, value in metadata or ():
        if key == HEADER:
            text = value.decode(errors="replace") if isinstance(value, bytes) else value
            return text[:MAX_LENGTH] or None
    return None


def bind(request_id: str | None) -> contextvars.Token:
    """Makes `request_id` the current one (reset with the returned token)."""
    return _current.set(request_id)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)


def current_request_id() -> str:
    """The current call's id; outside a call (or without the header) a new random one,
    prefixed "local-" so that it cannot be taken for Envoy's."""
    found = _current.get()
    return found if found else f"local-{uuid.uuid4()}"
