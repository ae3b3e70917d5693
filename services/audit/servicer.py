"""gRPC adapter: AuditService messages <-> the audit use cases (service.py)."""

from __future__ import annotations

import sqlalchemy as sa

from domain.audit_chain import AuditEntry
from paysystem.v1 import audit_pb2, audit_pb2_grpc
from services.audit import service
from services.common.auth import current_principal
from services.common.proto_time import timestamp
from services.common.server import ServiceContext


def entry_message(entry: AuditEntry) -> audit_pb2.AuditEntry:
    return audit_pb2.AuditEntry(
        seq=entry.seq,
        actor_id=entry.actor_id,
        action=entry.action,
        target=entry.target,
        request_id=entry.request_id,
        at=timestamp(entry.at_us),
        before=entry.before,
        after=entry.after,
        prev_hash=entry.prev_hash,
        hash=entry.hash,
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    @property
    def _engine(self) -> sa.Engine:
        return self._ctx.engine

    def ListAuditEntries(self, request, context):
        principal = current_principal()
        where = service.audit_filter(
            getattr(request, "from"), request.to, request.actor_id, request.action, self._ctx.settings.zone
        )
        page = service.list_entries(
            service.sql_unit_of_work(self._engine), principal, where, request.page_size, request.page_token
        )
        return audit_pb2.AuditPage(
            entries=[entry_message(e) for e in page.entries], next_page_token=page.next_page_token
        )
