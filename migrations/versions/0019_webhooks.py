"""webhooks: endpoints, the transactional outbox (events) and deliveries

DESIGN.md section 2b "Webhooks" (docs/webhooks.md): admins register endpoints; the owners of
money actions insert an event in the same transaction as the action; the dispatcher fans each
event out into one delivery per subscribed endpoint and sends them, signed, with retries.
New tables only: nothing existing changes.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("endpoint_id", Id, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.String(255), nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.BigInteger, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("endpoint_id", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("event_id", Id, autoincrement=True, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.Column("fanned_out", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_webhook_events"),
    )
    op.create_index("ix_webhook_events_fanned_out_event_id", "webhook_events", ["fanned_out", "event_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", Id, autoincrement=True, nullable=False),
        sa.Column("endpoint_id", sa.BigInteger, nullable=False),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.BigInteger, nullable=False),
        sa.Column("next_attempt_at_us", sa.BigInteger, nullable=False),
        sa.Column("first_attempt_at_us", sa.BigInteger, nullable=True),
        sa.Column("lease_until_us", sa.BigInteger, nullable=False),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.Column("delivered_at_us", sa.BigInteger, nullable=True),
        sa.Column("created_at_us", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_id_event_id"),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_at_us", "webhook_deliveries", ["status", "next_attempt_at_us"]
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_events")
    op.drop_table("webhook_endpoints")
