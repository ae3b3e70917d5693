"""plays by month: RANGE partitions on MariaDB, event ids in play_event_ids, archived months

Issue #17 item 5 (docs/scaling.md, "History that grows"). On MySQL/MariaDB `plays` becomes
PARTITION BY RANGE COLUMNS(local_day), one partition per month (`pYYYYMM`) from the oldest
stored month to three months ahead, plus `pmax` (MAXVALUE), so that ingest never fails for
a day with no partition of its own. MySQL requires every unique key of a partitioned table to
hold the partition column: the primary key becomes (play_id, local_day) (play_id stays
AUTO_INCREMENT and unique in practice) and event_id's unique key moves to a new table,
`play_event_ids` (event_id PK, local_day), which ingest writes in the same transaction as the
play (services/video/repository.py); it is filled here from the stored plays. `plays` keeps a
plain index on event_id (the duplicate / conflict reads).

On SQLite nothing is partitioned and the primary key stays play_id (SQLite autoincrements
only an INTEGER PRIMARY KEY); the unique key moves to play_event_ids all the same, so both
engines run one ingest path.

`archived_months`: one row per month whose raw playbacks were archived to a file and removed
(services/video/archive.py); `archive_fence`: one row that every ingest transaction reads
with a shared lock and an archival updates first, so that no ingest transaction that missed
the archival's mark can still commit a playback into the month being archived.

On a large `plays` the ALTERs copy the table: run this in a maintenance window.

Revision ID: 0014
Revises: 0013
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from services.video import partitions as plays_partitions

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _event_id_type(bind):
    if bind.dialect.name in ("mysql", "mariadb"):
        collation = "utf8mb4_nopad_bin" if getattr(bind.dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
        return mysql.VARCHAR(128, charset="utf8mb4", collation=collation)
    return sa.String(128)


def upgrade() -> None:
    bind = op.get_bind()
    is_mysql = bind.dialect.name in ("mysql", "mariadb")
    op.create_table(
        "play_event_ids",
        sa.Column("event_id", _event_id_type(bind), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_play_event_ids")),
    )
    op.execute("INSERT INTO play_event_ids (event_id, local_day) SELECT event_id, local_day FROM plays")
    op.create_table(
        "archived_months",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("plays", sa.BigInteger(), nullable=True),
        sa.Column("kept_plays", sa.BigInteger(), nullable=True),
        sa.Column("marked_at_us", sa.BigInteger(), nullable=False),
        sa.Column("archived_at_us", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_archived_months")),
    )
    op.create_table(
        "archive_fence",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_fence")),
    )
    op.execute("INSERT INTO archive_fence (id, version) VALUES (1, 0)")
    if not is_mysql:
        with op.batch_alter_table("plays") as batch_op:
            batch_op.drop_constraint("uq_plays_event_id", type_="unique")
            batch_op.create_index("ix_plays_event_id", ["event_id"])
        return
    op.execute(
        "ALTER TABLE plays DROP INDEX uq_plays_event_id, ADD INDEX ix_plays_event_id (event_id),"
        " DROP PRIMARY KEY, ADD PRIMARY KEY (play_id, local_day)"
    )
    oldest = bind.execute(sa.text("SELECT MIN(local_day) FROM plays")).scalar()
    today = dt.datetime.now(dt.UTC).date()
    first = min(oldest, today) if oldest is not None else today
    last = plays_partitions.months_between(today, today)[0]
    for _ in range(plays_partitions.DEFAULT_MONTHS_AHEAD):
        last = plays_partitions.next_month(last)
    clauses = [plays_partitions.partition_clause(m) for m in plays_partitions.months_between(first, last)]
    clauses.append(f"PARTITION {plays_partitions.CATCH_ALL} VALUES LESS THAN (MAXVALUE)")
    op.execute(f"ALTER TABLE plays PARTITION BY RANGE COLUMNS(local_day) ({', '.join(clauses)})")


def downgrade() -> None:
    # Fails (duplicate key) if two stored plays share an event_id, which play_event_ids
    # prevented; archived plays are not brought back (restore them first).
    bind = op.get_bind()
    if bind.dialect.name in ("mysql", "mariadb"):
        op.execute("ALTER TABLE plays REMOVE PARTITIONING")
        op.execute(
            "ALTER TABLE plays DROP PRIMARY KEY, ADD PRIMARY KEY (play_id),"
            " DROP INDEX ix_plays_event_id, ADD UNIQUE INDEX uq_plays_event_id (event_id)"
        )
    else:
        with op.batch_alter_table("plays") as batch_op:
            batch_op.drop_index("ix_plays_event_id")
            batch_op.create_unique_constraint("uq_plays_event_id", ["event_id"])
    op.drop_table("archive_fence")
    op.drop_table("archived_months")
    op.drop_table("play_event_ids")
