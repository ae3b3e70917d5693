"""accounts.disabled_at_us: an admin can disable an account (`paysystem disable-account`)

NULL: the account is active. Otherwise the instant (UTC epoch microseconds, like every other
instant in the schema) it was disabled: its tokens are refused (within the services'
account_check_ttl_sec) and it cannot log in. Adding a nullable column with no default is a
metadata-only change on MariaDB 10.3+ and MySQL 8 (instant ADD COLUMN).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("disabled_at_us", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("disabled_at_us")
