"""The account service's table: accounts (written only by services/account; others read it
through services/account/published.py)."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.sqltypes import BinaryString, Id
from services.common.tables import metadata

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", Id, primary_key=True, autoincrement=True),
    sa.Column("username", BinaryString(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    # NULL while active; when an admin disabled the account (tokens refused, no log-in).
    sa.Column("disabled_at_us", sa.BigInteger, nullable=True),
)
