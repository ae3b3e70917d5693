"""The webhooks' tables (DESIGN 2b "Webhooks", docs/webhooks.md). Written only by
services/webhooks; other owners add events through services/webhooks/published.py (emit),
inside their own transaction."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.sqltypes import Id
from services.common.tables import metadata

# Registered receivers. A deleted endpoint is kept (active false) so that its delivery log
# stays readable in the database; the API no longer shows it and nothing is sent to it.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("endpoint_id", Id, primary_key=True, autoincrement=True),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("events", sa.String(255), nullable=False),  # comma-separated event types
    sa.Column("secret", sa.String(128), nullable=False),  # signs the requests; never returned
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("created_by", sa.BigInteger, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)

# The transactional outbox: a row is inserted in the same transaction as the change it
# announces, so it exists only if that change committed. `fanned_out` turns true once the
# dispatcher has made the event's deliveries (one per subscribed endpoint).
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("event_id", Id, primary_key=True, autoincrement=True),
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),  # JSON: the request body's `data`
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("fanned_out", sa.Boolean, nullable=False),
    sa.Index("ix_webhook_events_fanned_out_event_id", "fanned_out", "event_id"),
)

# One event to one endpoint. status: PENDING (to send; next_attempt_at_us says when) |
# DELIVERED (a 2xx answer) | FAILED (given up after the retry window). A dispatcher sending a
# delivery holds it until lease_until_us (another one then leaves it alone; a dispatcher that
# died mid-send lets the lease run out and the delivery is sent again: at least once).
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("delivery_id", Id, primary_key=True, autoincrement=True),
    sa.Column("endpoint_id", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.BigInteger, nullable=False),
    sa.Column("next_attempt_at_us", sa.BigInteger, nullable=False),
    sa.Column("first_attempt_at_us", sa.BigInteger, nullable=True),  # the retry window's start
    sa.Column("lease_until_us", sa.BigInteger, nullable=False),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.String(255), nullable=True),
    sa.Column("delivered_at_us", sa.BigInteger, nullable=True),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    # One delivery per endpoint and event (two dispatchers fanning out the same event: the
    # second one's insert fails and rolls back). Also the per-endpoint order's index.
    sa.UniqueConstraint("endpoint_id", "event_id"),
    sa.Index("ix_webhook_deliveries_status_next_attempt_at_us", "status", "next_attempt_at_us"),
)
