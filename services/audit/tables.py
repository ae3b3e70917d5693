"""The audit log's tables (DESIGN.md section 2b, "Audit log"; the chain rules:
domain/audit_chain.py). Written only by services/audit, and only by its append: other owners
call services/audit/published.append in their own transaction, so an entry commits or rolls
back with the action it records. No code updates or deletes an entry."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.tables import metadata

audit_log = sa.Table(
    "audit_log",
    metadata,
    # Assigned by the append from the chain head (1, 2, 3, ...; never reused), not by
    # AUTO_INCREMENT: a rolled-back action must not leave a gap that looks like a deletion.
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("actor_id", sa.BigInteger, nullable=False),  # 0: the operator's local command
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("at_us", sa.BigInteger, nullable=False),
    sa.Column("before", sa.Text, nullable=False),  # JSON summary ("" when there was nothing)
    sa.Column("after", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_at_us", "at_us"),
    sa.Index("ix_audit_log_actor_id_seq", "actor_id", "seq"),
    sa.Index("ix_audit_log_action_seq", "action", "seq"),
)

# One row (id 1): the last appended entry's seq and hash. Every append updates it first, so
# appends take turns (see published.append), and the verification knows where the chain ends
# (a deleted last entry or one added after it is found).
audit_chain_head = sa.Table(
    "audit_chain_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
)
