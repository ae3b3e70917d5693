"""gRPC adapter: WebhookService messages <-> the registry use cases (registry.py). Served by
the settlement instances (entrypoints/servers/settlement.py)."""

from __future__ import annotations

import sqlalchemy as sa

from paysystem.v1 import webhooks_pb2, webhooks_pb2_grpc
from services.common.auth import current_principal
from services.common.proto_time import timestamp
from services.webhooks import registry
from services.webhooks.repository import Delivery, DeliveryStatus, Endpoint


def endpoint_message(endpoint: Endpoint) -> webhooks_pb2.WebhookEndpoint:
    return webhooks_pb2.WebhookEndpoint(
        endpoint_id=endpoint.endpoint_id,
        url=endpoint.url,
        events=list(endpoint.events),
        created_at=timestamp(endpoint.created_at_us),
    )


def delivery_message(delivery: Delivery) -> webhooks_pb2.WebhookDelivery:
    message = webhooks_pb2.WebhookDelivery(
        delivery_id=delivery.delivery_id,
        endpoint_id=delivery.endpoint_id,
        event_id=f"evt_{delivery.event_id}",
        event_type=delivery.event_type,
        status=delivery.status.value,
        attempts=delivery.attempts,
        last_status_code=delivery.last_status_code or 0,
        last_error=delivery.last_error,
        created_at=timestamp(delivery.created_at_us),
    )
    if delivery.status is DeliveryStatus.PENDING:
        message.next_attempt_at.CopyFrom(timestamp(delivery.next_attempt_at_us))
    if delivery.delivered_at_us is not None:
        message.delivered_at.CopyFrom(timestamp(delivery.delivered_at_us))
    return message


class WebhookServicer(webhooks_pb2_grpc.WebhookServiceServicer):
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def CreateWebhookEndpoint(self, request, context):
        endpoint = registry.create_endpoint(
            self._engine, current_principal(), request.url, list(request.events), request.secret
        )
        return endpoint_message(endpoint)

    def ListWebhookEndpoints(self, request, context):
        endpoints = registry.list_endpoints(self._engine, current_principal())
        return webhooks_pb2.ListWebhookEndpointsResponse(endpoints=[endpoint_message(e) for e in endpoints])

    def DeleteWebhookEndpoint(self, request, context):
        registry.delete_endpoint(self._engine, current_principal(), request.endpoint_id)
        return webhooks_pb2.DeleteWebhookEndpointResponse()

    def ListWebhookDeliveries(self, request, context):
        page = registry.list_deliveries(
            self._engine, current_principal(), request.endpoint_id, request.page_size, request.page_token
        )
        return webhooks_pb2.WebhookDeliveryPage(
            deliveries=[delivery_message(d) for d in page.deliveries], next_page_token=page.next_page_token
        )

    def RedeliverWebhook(self, request, context):
        return delivery_message(registry.redeliver(self._engine, current_principal(), request.delivery_id))
