"""gRPC adapter: SettlementService messages <-> the statement use case."""

from __future__ import annotations

from paysystem.v1 import common_pb2, settlement_pb2, settlement_pb2_grpc
from services.common.auth import current_principal
from services.common.money import to_api_string
from services.common.readside import ReadSide, enum_name
from services.settlement import service


def statement_message(statement: service.Statement) -> settlement_pb2.Statement:
    message = settlement_pb2.Statement(
        seller_id=statement.seller_id,
        period=common_pb2.Period.Value(statement.period.value),
        period_start=statement.period_start.isoformat(),
        period_end=statement.period_end.isoformat(),
        video_revenue=to_api_string(statement.video_revenue),
        ad_revenue=to_api_string(statement.ad_revenue),
        total=to_api_string(statement.total),
        payable_krw=statement.payable_krw,
        data_through=statement.data_through.isoformat() if statement.data_through else "",
        currency=statement.currency,
    )
    # lines.add builds each line in place (a list of messages would be copied in again;
    # docs/statistics_settlement.md, "Statement misses render faster").
    add_line = message.lines.add
    for line in statement.lines:
        add_line(
            video_id=line.video_id,
            title=line.title,
            views=line.views,
            ad_views=line.ad_views,
            video_revenue=to_api_string(line.video_revenue),
            ad_revenue=to_api_string(line.ad_revenue),
            amount=to_api_string(line.amount),
        )
    return message


class SettlementServicer(settlement_pb2_grpc.SettlementServiceServicer):
    def __init__(self, read: ReadSide) -> None:
        self._read = read

    def GetStatement(self, request, context):
        # The serialized message, as cached: returned as it is (handlers.accept_serialized).
        return service.get_statement(
            self._read,
            current_principal(),
            request.seller_id,
            enum_name(common_pb2.Period, request.period),
            request.date,
            render=_render,
        )


def _render(statement: service.Statement) -> bytes:
    return statement_message(statement).SerializeToString()
