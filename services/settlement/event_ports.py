"""The settlement's port for webhook events (docs/webhooks.md): what a use case emits inside
its unit of work, written to the webhooks' outbox with its changes (repository.SqlEvents) or
recorded by the fake (tests/fakes/settlement.FakeEvents)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NamedTuple, Protocol


class PostedAdjustment(NamedTuple):
    seller_id: int
    original_month: dt.date
    video_id: int
    amount: Decimal


class Event(NamedTuple):
    """A webhook event (docs/webhooks.md): its type (domain/webhooks.py EVENT_TYPES), the
    JSON `data` receivers get (services/settlement/events.py builds each), and when it
    happened (µs since the epoch)."""

    event_type: str
    data: dict[str, Any]
    at_us: int


class Events(Protocol):
    def emit(self, event: Event) -> None:
        """Adds the event to the webhooks' outbox in the unit of work's transaction: it is
        sent only if that transaction commits."""
        ...
