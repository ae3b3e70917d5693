"""SQL reads of the audit log (the ports.AuditEntries adapter). Appends: published.append."""

from __future__ import annotations

import sqlalchemy as sa

from domain.audit_chain import AuditEntry
from services.audit.ports import AuditFilter
from services.audit.published import HEAD_ID
from services.audit.tables import audit_chain_head, audit_log
from services.common.db import SqlTransaction


def _entry(row: sa.Row) -> AuditEntry:
    return AuditEntry(
        seq=int(row.seq),
        actor_id=int(row.actor_id),
        action=row.action,
        target=row.target,
        request_id=row.request_id,
        at_us=int(row.at_us),
        before=row.before,
        after=row.after,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class SqlAuditEntries:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def head(self) -> tuple[int, str]:
        row = self._conn.execute(
            sa.select(audit_chain_head.c.last_seq, audit_chain_head.c.last_hash).where(audit_chain_head.c.id == HEAD_ID)
        ).one()
        return int(row.last_seq), row.last_hash

    def newest(self, where: AuditFilter, *, before_seq: int | None, limit: int) -> list[AuditEntry]:
        c = audit_log.c
        conditions = []
        if where.first_us is not None:
            conditions.append(c.at_us >= where.first_us)
        if where.last_us is not None:
            conditions.append(c.at_us < where.last_us)
        if where.actor_id is not None:
            conditions.append(c.actor_id == where.actor_id)
        if where.action is not None:
            conditions.append(c.action == where.action)
        if before_seq is not None:
            conditions.append(c.seq < before_seq)
        query = sa.select(audit_log).where(*conditions).order_by(c.seq.desc()).limit(limit)
        return [_entry(row) for row in self._conn.execute(query)]

    def ascending(self, *, after_seq: int, limit: int) -> list[AuditEntry]:
        query = sa.select(audit_log).where(audit_log.c.seq > after_seq).order_by(audit_log.c.seq).limit(limit)
        return [_entry(row) for row in self._conn.execute(query)]


class SqlAuditUnitOfWork(SqlTransaction):
    @property
    def entries(self) -> SqlAuditEntries:
        return SqlAuditEntries(self.connection)
