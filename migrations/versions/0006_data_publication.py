"""the batch publishes how long read services may trust a data version

Before this revision the batch and every read service had to be configured with the same
PAYSYSTEM_DATA_VERSION_MAX_AGE_MS, and nothing checked it: a read service trusting its
readings longer than the batch waited could serve figures a finished job had replaced. The
batch now writes its value here before it commits new days; read services trust a reading
no longer than the value read with it (services/readpath/dataversion.py). With no row (before
the first job after the upgrade) readers trust no reading: every request reads the version.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_publication",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reader_max_age_ms", sa.BigInteger(), nullable=False),
        sa.Column("published_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_publication")),
    )


def downgrade() -> None:
    op.drop_table("data_publication")
