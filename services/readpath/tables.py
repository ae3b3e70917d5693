"""The read path's own table: the heartbeat the batch beats on the primary and the read
services read on each replica (services/readpath/replicas.py writes and reads it)."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.tables import metadata

# One row (id 1) that the primary's batch instances update every second and after each
# job's commit; read on a replica it tells how far behind the replica is (lag = now -
# beat_us) and whether it has applied a job's figures (seq; replicas.py).
replica_heartbeat = sa.Table(
    "replica_heartbeat",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("beat_us", sa.BigInteger, nullable=False),
)
