"""the audit log (DESIGN.md section 2b, "Audit log"): audit_log and its chain head

`audit_log`: append-only, hash-chained entries of every admin or money action
(services/audit, domain/audit_chain.py). `audit_chain_head`: one row, the last entry's seq
and hash; seeded here with the empty chain (seq 0, the GENESIS hash), since every append
updates that row (services/audit/published.append).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at_us"), "audit_log", ["at_us"], unique=False)
    op.create_index(op.f("ix_audit_log_actor_id_seq"), "audit_log", ["actor_id", "seq"], unique=False)
    op.create_index(op.f("ix_audit_log_action_seq"), "audit_log", ["action", "seq"], unique=False)
    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("audit_chain_head")
    op.drop_index(op.f("ix_audit_log_action_seq"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_actor_id_seq"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at_us"), table_name="audit_log")
    op.drop_table("audit_log")
