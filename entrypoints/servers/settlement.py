"""Entry point: `python -m entrypoints.servers.settlement --port N --instance settlement-1`.

Readiness: SERVING while MySQL answers (the check run_service installs). Redis is optional
and deliberately not a readiness check: with Redis down, statements come from MySQL.
"""

import logging

from batch.published import read_data_state
from paysystem.v1 import settlement_pb2, settlement_pb2_grpc, webhooks_pb2, webhooks_pb2_grpc
from services.account import published as published_accounts
from services.common.server import ServiceContext, run_service
from services.readpath.readside import build_read_side
from services.settlement.closing import show_last_closed_month
from services.settlement.servicer import SettlementServicer
from services.webhooks.servicer import WebhookServicer

log = logging.getLogger(__name__)


def build(ctx: ServiceContext):
    # The last-closed-month gauge from the start, not only after this instance closes one.
    try:
        with ctx.engine.connect() as conn:
            show_last_closed_month(conn)
    except Exception:  # noqa: BLE001 - a start with the database down is logged, not fatal
        log.warning("could not read the last closed month for the metrics", exc_info=True)
    servicer = SettlementServicer(build_read_side(ctx, read_data_state), ctx.engine)
    name = settlement_pb2.DESCRIPTOR.services_by_name["SettlementService"].full_name
    # The webhooks' admin API rides on the settlement instances (topology.py, also_serves):
    # a few admin calls a day, finance's own events, no process or Envoy cluster of its own.
    webhooks_name = webhooks_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name
    return [
        (settlement_pb2_grpc.add_SettlementServiceServicer_to_server, servicer, name),
        (webhooks_pb2_grpc.add_WebhookServiceServicer_to_server, WebhookServicer(ctx.engine), webhooks_name),
    ]


def main() -> None:
    run_service("settlement", build, account_lookups=published_accounts.role_lookups)


if __name__ == "__main__":
    main()
