"""Use cases: the admins' webhook endpoints and their delivery log (DESIGN 2b, docs/webhooks.md).

Every call is admin only. An endpoint's secret is stored to sign its requests and never
returned. Each use case is one transaction (services.common.db.unit_of_work) over the SQL
of repository.py: small reads and writes of this package's own tables.
"""

from __future__ import annotations

import dataclasses
import time

import sqlalchemy as sa

from domain import webhooks
from domain.errors import WebhookDeliveryNotFound, WebhookEndpointNotFound, require_positive_id
from services.common import paging
from services.common.auth import Principal, require_role
from services.common.db import unit_of_work
from services.webhooks import repository
from services.webhooks.repository import Delivery, Endpoint

_TOKEN_PREFIX = "d1:"


@dataclasses.dataclass(frozen=True)
class DeliveryPage:
    deliveries: list[Delivery]
    next_page_token: str


def _now_us() -> int:
    return time.time_ns() // 1000


def create_endpoint(engine: sa.Engine, principal: Principal, url: str, events: list[str], secret: str) -> Endpoint:
    require_role(principal, "ADMIN")
    checked_url = webhooks.check_url(url)
    checked_events = webhooks.check_events(events)
    checked_secret = webhooks.check_secret(secret)
    with unit_of_work(engine) as conn:
        endpoint_id = repository.add_endpoint(
            conn, checked_url, checked_events, checked_secret, principal.account_id, _now_us()
        )
        found = repository.endpoint(conn, endpoint_id)
    assert found is not None  # just inserted, in this transaction
    return found


def list_endpoints(engine: sa.Engine, principal: Principal) -> list[Endpoint]:
    require_role(principal, "ADMIN")
    with unit_of_work(engine) as conn:
        return repository.endpoints(conn)


def delete_endpoint(engine: sa.Engine, principal: Principal, endpoint_id: int) -> None:
    """Nothing more is sent to it (its pending deliveries stay unsent); deleting it again is
    a NotFound, like any id that names no endpoint."""
    require_role(principal, "ADMIN")
    require_positive_id(endpoint_id, "endpoint_id")
    with unit_of_work(engine) as conn:
        if not repository.deactivate_endpoint(conn, endpoint_id):
            raise WebhookEndpointNotFound(f"no endpoint {endpoint_id}", field="endpoint_id")


def list_deliveries(
    engine: sa.Engine, principal: Principal, endpoint_id: int, page_size: int, page_token: str
) -> DeliveryPage:
    """An endpoint's deliveries, newest first, paged."""
    require_role(principal, "ADMIN")
    require_positive_id(endpoint_id, "endpoint_id")
    size = paging.page_size(page_size)
    before = paging.decode_page_token(_TOKEN_PREFIX, page_token)
    with unit_of_work(engine) as conn:
        if repository.endpoint(conn, endpoint_id) is None:
            raise WebhookEndpointNotFound(f"no endpoint {endpoint_id}", field="endpoint_id")
        rows = repository.deliveries(conn, endpoint_id, before_delivery_id=before, limit=size + 1)
    page = rows[:size]
    token = paging.encode_page_token(_TOKEN_PREFIX, page[-1].delivery_id) if len(rows) > size else ""
    return DeliveryPage(page, token)


def redeliver(engine: sa.Engine, principal: Principal, delivery_id: int) -> Delivery:
    """Sends a delivery again (whatever its status): PENDING, due now, with a fresh retry
    window. It still waits for earlier pending deliveries of its endpoint (order per endpoint)."""
    require_role(principal, "ADMIN")
    require_positive_id(delivery_id, "delivery_id")
    with unit_of_work(engine) as conn:
        found = repository.delivery(conn, delivery_id)
        if found is None or repository.endpoint(conn, found.endpoint_id) is None:
            raise WebhookDeliveryNotFound(f"no delivery {delivery_id} of an active endpoint", field="delivery_id")
        repository.reschedule(conn, delivery_id, _now_us())
        again = repository.delivery(conn, delivery_id)
    assert again is not None
    return again
