"""What the audit service lets other packages use (the only module of services/audit another
package may import: the `published_only` import contract).

An owner records an admin or money action with ONE call, inside the transaction of the action
itself, so the entry commits or rolls back with it:

    uow.audit.record(AuditEvent(principal.account_id, "payout.mark", f"payout:{payout_id}",
                                before=summary_json({...}), after=summary_json({...})), clock.now_us())

where the owner's SQL unit of work answers `audit` with `SqlAuditTrail(self.connection)`
(services/common/unit_of_work.Audited; the fakes record into a list). Code that has a
connection but no unit of work calls `append(conn, event, at_us)`.
"""

from __future__ import annotations

import sqlalchemy as sa

from domain.audit_chain import AuditEntry, AuditEvent, chained
from services.audit.tables import audit_chain_head, audit_log
from services.common.request_ids import current_request_id

HEAD_ID = 1


class ChainHeadMissing(RuntimeError):
    """The chain head row (seeded by migration 0018) is gone: nothing can be appended."""


def append(conn: sa.Connection, event: AuditEvent, at_us: int, *, request_id: str | None = None) -> AuditEntry:
    """Appends `event` in `conn`'s transaction (the caller commits or rolls back) and returns
    the entry; the request id is the current call's unless given.

    The tail is serialized by UPDATING the chain head first, before reading it: the update
    takes the head row's lock on MariaDB (held until the transaction ends, so a concurrent
    append waits, then reads the new head) and SQLite's database write lock (which has no
    SELECT ... FOR UPDATE, and where a read-then-write transaction could fail to upgrade).
    Two appends therefore never read the same head, and the chain cannot fork."""
    moved = conn.execute(
        sa.update(audit_chain_head)
        .where(audit_chain_head.c.id == HEAD_ID)
        .values(last_seq=audit_chain_head.c.last_seq + 1)
    )
    if moved.rowcount != 1:
        raise ChainHeadMissing("audit_chain_head has no row 1: run the migrations (0018 seeds it)")
    seq, prev_hash = conn.execute(
        sa.select(audit_chain_head.c.last_seq, audit_chain_head.c.last_hash).where(audit_chain_head.c.id == HEAD_ID)
    ).one()
    entry = chained(int(seq), event, request_id=request_id or current_request_id(), at_us=at_us, prev_hash=prev_hash)
    conn.execute(
        sa.insert(audit_log).values(
            seq=entry.seq,
            actor_id=entry.actor_id,
            action=entry.action,
            target=entry.target,
            request_id=entry.request_id,
            at_us=entry.at_us,
            before=entry.before,
            after=entry.after,
            prev_hash=entry.prev_hash,
            hash=entry.hash,
        )
    )
    conn.execute(sa.update(audit_chain_head).where(audit_chain_head.c.id == HEAD_ID).values(last_hash=entry.hash))
    return entry


class SqlAuditTrail:
    """services/common/unit_of_work.AuditTrail on a unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def record(self, event: AuditEvent, at_us: int) -> None:
        append(self._conn, event, at_us)


__all__ = ["AuditEvent", "ChainHeadMissing", "SqlAuditTrail", "append"]
