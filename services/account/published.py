"""What the account service lets other packages read (the only module of services/account that
another package may import: the `published_only` import contract).

* `accounts`: the table, for reading only (another service checks that ids name accounts).
* `role_lookup` / `bulk_role_lookup`: an account's current role, None when it is disabled or
  unknown: what every server's token check (services/common/account_status.py) asks.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from services.account.tables import accounts

__all__ = ["accounts", "bulk_role_lookup", "role_lookup"]


def role_lookup(engine: sa.Engine) -> Callable[[int], str | None]:
    """current_role(account_id) from the accounts table: its role, None if it is disabled or
    does not exist."""
    query = sa.select(accounts.c.role, accounts.c.disabled_at_us).where(
        accounts.c.account_id == sa.bindparam("account_id")
    )

    def current_role(account_id: int) -> str | None:
        with engine.connect() as conn:
            row = conn.execute(query, {"account_id": account_id}).first()
        return row.role if row is not None and row.disabled_at_us is None else None

    return current_role


def bulk_role_lookup(engine: sa.Engine, chunk: int = 1000) -> Callable[[list[int]], dict[int, str]]:
    """current_roles(account_ids): the role of each of the ids whose account exists and is
    not disabled."""

    def current_roles(account_ids: list[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        with engine.connect() as conn:
            for i in range(0, len(account_ids), chunk):
                query = sa.select(accounts.c.account_id, accounts.c.role).where(
                    accounts.c.account_id.in_(account_ids[i : i + chunk]), accounts.c.disabled_at_us.is_(None)
                )
                found.update((int(a), r) for a, r in conn.execute(query))
        return found

    return current_roles


def role_lookups(engine: sa.Engine) -> tuple[Callable[[int], str | None], Callable[[list[int]], dict[int, str]]]:
    """Both lookups, as services.common.server.run_service takes them."""
    return role_lookup(engine), bulk_role_lookup(engine)
