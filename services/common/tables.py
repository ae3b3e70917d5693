"""The one SQLAlchemy metadata every owner defines its tables on, and the plumbing's own table.

Each table is defined by the package that writes it: accounts in services/account/tables.py;
videos and the play history in services/video/tables.py; the ledger and tier prices in
services/settlement/tables.py; the batch's figures in batch/tables.py and its job repository
in batch/jobs/tables.py; the replicas' heartbeat in services/readpath/tables.py; the webhook endpoints, outbox and
deliveries in services/webhooks/tables.py. Others read a table only through its owner's `published` module.
`migrations.schema` gathers them all for Alembic and the schema diagram.

Portable between MySQL/MariaDB (the system of record) and SQLite (the embedded default).
Instants are stored as UTC epoch microseconds in BIGINT columns: exact, ordered, and
arithmetic on them (the 30-second repeat rule) is the same integer math on both engines.
Money is DECIMAL(24, 4) on MySQL/MariaDB and exact decimal text on SQLite; counts are BIGINT
(the column types: sqltypes.py). Keys are chosen so that a video's or a seller's rows can
live on one shard (see DESIGN.md section 5).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)
