"""What the webhooks package lets other owners call (the only module of services/webhooks
another package may import: the `published_only` import contract).

`emit(conn, event_type, data)`: adds an event to the transactional outbox on the caller's
own connection, inside the caller's transaction, so the event exists only if the change it
announces commits (DESIGN 2b). The dispatcher process sends it to every endpoint subscribed
to its type. The payload of each event type is documented in docs/webhooks.md.
"""

from __future__ import annotations

import json
import time
from typing import Any

import sqlalchemy as sa

from domain.webhooks import EVENT_TYPES
from services.webhooks.tables import webhook_events


def emit(conn: sa.Connection, event_type: str, data: dict[str, Any], *, now_us: int | None = None) -> int:
    """The new event's id. `data` must be JSON as it is (strings for money and int64 ids, as
    the JSON API writes them)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    result = conn.execute(
        sa.insert(webhook_events).values(
            event_type=event_type,
            payload=json.dumps(data, separators=(",", ":"), sort_keys=True),
            created_at_us=time.time_ns() // 1000 if now_us is None else now_us,
            fanned_out=False,
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


__all__ = ["emit"]
