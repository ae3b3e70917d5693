"""SQL of the webhooks: the endpoint registry, the outbox's fan-out and the deliveries'
claims (docs/webhooks.md "Delivery"). Plain functions on a connection inside the caller's
transaction (registry.py and dispatcher.py hold the transactions)."""

from __future__ import annotations

import dataclasses
import enum

import sqlalchemy as sa

from services.webhooks.tables import webhook_deliveries, webhook_endpoints, webhook_events


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@dataclasses.dataclass(frozen=True)
class Endpoint:
    endpoint_id: int
    url: str
    events: tuple[str, ...]
    created_at_us: int


@dataclasses.dataclass(frozen=True)
class Delivery:
    delivery_id: int
    endpoint_id: int
    event_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at_us: int
    last_status_code: int | None
    last_error: str
    delivered_at_us: int | None
    created_at_us: int


@dataclasses.dataclass(frozen=True)
class Claimed:
    """A delivery a dispatcher holds until lease_until_us, with what it sends."""

    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    event_id: int
    event_type: str
    payload: str
    event_created_at_us: int
    attempts: int
    first_attempt_at_us: int | None
    lease_until_us: int


# --- the registry ----------------------------------------------------------------------------


def add_endpoint(conn: sa.Connection, url: str, events: tuple[str, ...], secret: str, by: int, now_us: int) -> int:
    result = conn.execute(
        sa.insert(webhook_endpoints).values(
            url=url, events=",".join(events), secret=secret, created_at_us=now_us, created_by=by, active=True
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def _endpoint(row: sa.Row) -> Endpoint:
    return Endpoint(int(row.endpoint_id), row.url, tuple(row.events.split(",")), int(row.created_at_us))


def endpoints(conn: sa.Connection) -> list[Endpoint]:
    """The active endpoints, by endpoint_id (no secrets: they are never read back out)."""
    e = webhook_endpoints.c
    rows = conn.execute(
        sa.select(e.endpoint_id, e.url, e.events, e.created_at_us).where(e.active == sa.true()).order_by(e.endpoint_id)
    )
    return [_endpoint(row) for row in rows]


def endpoint(conn: sa.Connection, endpoint_id: int) -> Endpoint | None:
    e = webhook_endpoints.c
    row = conn.execute(
        sa.select(e.endpoint_id, e.url, e.events, e.created_at_us).where(
            e.endpoint_id == endpoint_id, e.active == sa.true()
        )
    ).one_or_none()
    return None if row is None else _endpoint(row)


def deactivate_endpoint(conn: sa.Connection, endpoint_id: int) -> bool:
    e = webhook_endpoints.c
    result = conn.execute(
        sa.update(webhook_endpoints).where(e.endpoint_id == endpoint_id, e.active == sa.true()).values(active=False)
    )
    return result.rowcount == 1


def _delivery_query() -> sa.Select:
    d, ev = webhook_deliveries.c, webhook_events.c
    return sa.select(
        d.delivery_id,
        d.endpoint_id,
        d.event_id,
        ev.event_type,
        d.status,
        d.attempts,
        d.next_attempt_at_us,
        d.last_status_code,
        d.last_error,
        d.delivered_at_us,
        d.created_at_us,
    ).select_from(webhook_deliveries.join(webhook_events, ev.event_id == d.event_id))


def _delivery(row: sa.Row) -> Delivery:
    return Delivery(
        int(row.delivery_id),
        int(row.endpoint_id),
        int(row.event_id),
        row.event_type,
        DeliveryStatus(row.status),
        int(row.attempts),
        int(row.next_attempt_at_us),
        row.last_status_code,
        row.last_error or "",
        row.delivered_at_us,
        int(row.created_at_us),
    )


def deliveries(conn: sa.Connection, endpoint_id: int, *, before_delivery_id: int, limit: int) -> list[Delivery]:
    """An endpoint's deliveries, newest first, with delivery_id < before_delivery_id (0: all)."""
    d = webhook_deliveries.c
    query = _delivery_query().where(d.endpoint_id == endpoint_id)
    if before_delivery_id:
        query = query.where(d.delivery_id < before_delivery_id)
    return [_delivery(row) for row in conn.execute(query.order_by(d.delivery_id.desc()).limit(limit))]


def delivery(conn: sa.Connection, delivery_id: int) -> Delivery | None:
    row = conn.execute(_delivery_query().where(webhook_deliveries.c.delivery_id == delivery_id)).one_or_none()
    return None if row is None else _delivery(row)


def reschedule(conn: sa.Connection, delivery_id: int, now_us: int) -> None:
    """Manual redelivery: PENDING again, due now, with a new retry window."""
    conn.execute(
        sa.update(webhook_deliveries)
        .where(webhook_deliveries.c.delivery_id == delivery_id)
        .values(status=DeliveryStatus.PENDING.value, next_attempt_at_us=now_us, first_attempt_at_us=None)
    )


# --- the dispatcher --------------------------------------------------------------------------


def fan_out(conn: sa.Connection, now_us: int, limit: int) -> int:
    """Makes the deliveries of up to `limit` events not fanned out yet (one per active endpoint
    subscribed to the event's type) and marks them fanned out; the number of events. On
    MariaDB/MySQL the events are claimed with FOR UPDATE SKIP LOCKED, so concurrent
    dispatchers take different ones; SQLite has one writer at a time, and a second dispatcher
    that read the same events fails on the unique (endpoint, event) key or the fanned_out
    check below and rolls back."""
    ev = webhook_events.c
    events = conn.execute(
        sa.select(ev.event_id, ev.event_type)
        .where(ev.fanned_out == sa.false())
        .order_by(ev.event_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    if not events:
        return 0
    subscribed = endpoints(conn)
    rows = [
        {
            "endpoint_id": endpoint.endpoint_id,
            "event_id": int(event.event_id),
            "status": DeliveryStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at_us": now_us,
            "lease_until_us": 0,
            "created_at_us": now_us,
        }
        for event in events
        for endpoint in subscribed
        if event.event_type in endpoint.events
    ]
    if rows:
        conn.execute(sa.insert(webhook_deliveries), rows)
    ids = [int(event.event_id) for event in events]
    marked = conn.execute(
        sa.update(webhook_events).where(ev.event_id.in_(ids), ev.fanned_out == sa.false()).values(fanned_out=True)
    ).rowcount
    if marked != len(ids):
        raise sa.exc.IntegrityError("fan-out", None, Exception("another dispatcher fanned these events out"))
    return len(ids)


def claim_due(conn: sa.Connection, now_us: int, lease_until_us: int, limit: int) -> list[Claimed]:
    """Leases up to `limit` due deliveries, at most one per endpoint: PENDING, due, not
    leased, of an active endpoint, with no earlier (lower event id) PENDING delivery of the same
    endpoint and no earlier event still to fan out (so each endpoint gets its events in order).
    The candidates are locked FOR UPDATE SKIP LOCKED on MariaDB/MySQL (another dispatcher
    skips them); the lease is a compare-and-set, so on SQLite too only one dispatcher wins."""
    d, e, ev = webhook_deliveries.c, webhook_endpoints.c, webhook_events.c
    earlier = webhook_deliveries.alias("earlier")
    unfanned = webhook_events.alias("unfanned")
    candidates = conn.execute(
        sa.select(d.delivery_id)
        .where(
            d.status == DeliveryStatus.PENDING.value,
            d.next_attempt_at_us <= now_us,
            d.lease_until_us <= now_us,
            d.endpoint_id.in_(sa.select(e.endpoint_id).where(e.active == sa.true())),
            ~sa.exists().where(
                earlier.c.endpoint_id == d.endpoint_id,
                earlier.c.event_id < d.event_id,
                earlier.c.status == DeliveryStatus.PENDING.value,
            ),
            ~sa.exists().where(unfanned.c.fanned_out == sa.false(), unfanned.c.event_id < d.event_id),
        )
        .order_by(d.event_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars()
    claimed_ids = []
    for delivery_id in list(candidates):
        leased = conn.execute(
            sa.update(webhook_deliveries)
            .where(
                d.delivery_id == delivery_id,
                d.status == DeliveryStatus.PENDING.value,
                d.lease_until_us <= now_us,
            )
            .values(lease_until_us=lease_until_us)
        ).rowcount
        if leased == 1:
            claimed_ids.append(delivery_id)
    if not claimed_ids:
        return []
    rows = conn.execute(
        sa.select(
            d.delivery_id,
            d.endpoint_id,
            e.url,
            e.secret,
            d.event_id,
            ev.event_type,
            ev.payload,
            ev.created_at_us,
            d.attempts,
            d.first_attempt_at_us,
        )
        .select_from(
            webhook_deliveries.join(webhook_endpoints, e.endpoint_id == d.endpoint_id).join(
                webhook_events, ev.event_id == d.event_id
            )
        )
        .where(d.delivery_id.in_(claimed_ids))
        .order_by(d.event_id)
    )
    return [
        Claimed(
            int(r.delivery_id),
            int(r.endpoint_id),
            r.url,
            r.secret,
            int(r.event_id),
            r.event_type,
            r.payload,
            int(r.created_at_us),
            int(r.attempts),
            r.first_attempt_at_us,
            lease_until_us,
        )
        for r in rows
    ]


def record_attempt(
    conn: sa.Connection,
    claimed: Claimed,
    *,
    status: DeliveryStatus,
    status_code: int | None,
    error: str,
    now_us: int,
    next_attempt_at_us: int,
) -> None:
    """The outcome of one attempt; ignored when the lease was lost meanwhile (another
    dispatcher then owns the delivery and records its own attempt)."""
    d = webhook_deliveries.c
    conn.execute(
        sa.update(webhook_deliveries)
        .where(d.delivery_id == claimed.delivery_id, d.lease_until_us == claimed.lease_until_us)
        .values(
            status=status.value,
            attempts=d.attempts + 1,
            first_attempt_at_us=sa.func.coalesce(d.first_attempt_at_us, now_us),
            next_attempt_at_us=next_attempt_at_us,
            lease_until_us=0,
            last_status_code=status_code,
            last_error=error[:255] or None,
            delivered_at_us=now_us if status is DeliveryStatus.DELIVERED else None,
        )
    )
