"""maker-checker and idempotency keys (DESIGN.md section 2b, docs/ledger.md)

`approved_by`, `approved_at_us` on month_closings: the admin other than the closer who
approved the month's payouts, and when (NULL until then; months closed before this migration
are not approved: their PENDING payouts wait for an approval like new ones).

`idempotency_keys`: one row per caller and Idempotency-Key of a money-moving POST, the
request's fingerprint and the stored answer (services/settlement/idempotency.py). The key is
compared byte by byte with no padding, like event ids (migration 0005).

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _key_type(bind):
    if bind.dialect.name in ("mysql", "mariadb"):
        collation = "utf8mb4_nopad_bin" if getattr(bind.dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
        return mysql.VARCHAR(255, charset="utf8mb4", collation=collation)
    return sa.String(255)


def upgrade() -> None:
    with op.batch_alter_table("month_closings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_by", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("approved_at_us", sa.BigInteger(), nullable=True))
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("idem_key", _key_type(op.get_bind()), nullable=False),
        sa.Column("method", sa.String(128), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary(2**24 - 1), nullable=True),
        sa.Column("created_at_us", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "idem_key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at_us"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("month_closings", schema=None) as batch_op:
        batch_op.drop_column("approved_at_us")
        batch_op.drop_column("approved_by")
