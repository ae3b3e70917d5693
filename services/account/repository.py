"""SQL access to the accounts table."""

from __future__ import annotations

import sqlalchemy as sa

from services.account.ports import StoredAccount
from services.account.tables import accounts
from services.audit.published import SqlAuditTrail
from services.common.db import SqlTransaction, inserted_id


def insert(conn: sa.Connection, *, username: str, password_hash: str, role: str, created_at_us: int) -> int | None:
    """The new account's id, or None if the username is taken."""
    try:
        with conn.begin_nested():
            result = conn.execute(
                sa.insert(accounts).values(
                    username=username, password_hash=password_hash, role=role, created_at_us=created_at_us
                )
            )
    except sa.exc.IntegrityError:
        return None
    return inserted_id(result)


def by_username(conn: sa.Connection, username: str) -> sa.Row | None:
    return conn.execute(sa.select(accounts).where(accounts.c.username == username)).first()


def update_password_hash(conn: sa.Connection, account_id: int, password_hash: str) -> None:
    conn.execute(sa.update(accounts).where(accounts.c.account_id == account_id).values(password_hash=password_hash))


def set_disabled_at(conn: sa.Connection, account_id: int, disabled_at_us: int) -> None:
    conn.execute(sa.update(accounts).where(accounts.c.account_id == account_id).values(disabled_at_us=disabled_at_us))


def by_id(conn: sa.Connection, account_id: int, *, for_update: bool = False) -> sa.Row | None:
    query = sa.select(accounts).where(accounts.c.account_id == account_id)
    return conn.execute(query.with_for_update() if for_update else query).first()


def other_active_admins(conn: sa.Connection, account_id: int) -> int:
    """Active ADMIN accounts other than this one, read under a lock (FOR UPDATE on
    MySQL/MariaDB; SQLite has a single writer): two admins demoting each other at once are
    judged one after the other, so one of them stays."""
    query = (
        sa.select(accounts.c.account_id)
        .where(accounts.c.role == "ADMIN", accounts.c.disabled_at_us.is_(None), accounts.c.account_id != account_id)
        .with_for_update()
    )
    return len(conn.execute(query).all())


def set_role(conn: sa.Connection, account_id: int, role: str) -> None:
    conn.execute(sa.update(accounts).where(accounts.c.account_id == account_id).values(role=role))


# --- the adapter of services/account/ports.py ----------------------------------------------


def _stored(row: sa.Row | None) -> StoredAccount | None:
    if row is None:
        return None
    return StoredAccount(
        account_id=row.account_id,
        username=row.username,
        password_hash=row.password_hash,
        role=row.role,
        created_at_us=row.created_at_us,
        disabled_at_us=row.disabled_at_us,
    )


class SqlAccounts:
    """ports.Accounts over the functions above, on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def add(self, *, username: str, password_hash: str, role: str, created_at_us: int) -> int | None:
        return insert(
            self._conn, username=username, password_hash=password_hash, role=role, created_at_us=created_at_us
        )

    def by_username(self, username: str) -> StoredAccount | None:
        return _stored(by_username(self._conn, username))

    def by_id(self, account_id: int, *, for_update: bool = False) -> StoredAccount | None:
        return _stored(by_id(self._conn, account_id, for_update=for_update))

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        update_password_hash(self._conn, account_id, password_hash)

    def set_disabled_at(self, account_id: int, disabled_at_us: int) -> None:
        set_disabled_at(self._conn, account_id, disabled_at_us)

    def set_role(self, account_id: int, role: str) -> None:
        set_role(self._conn, account_id, role)

    def other_active_admins(self, account_id: int) -> int:
        return other_active_admins(self._conn, account_id)


class SqlUnitOfWork(SqlTransaction):
    """ports.UnitOfWork: one transaction of `engine` (engine.begin()'s), its accounts."""

    @property
    def accounts(self) -> SqlAccounts:
        return SqlAccounts(self.connection)

    @property
    def audit(self) -> SqlAuditTrail:
        """The audit log, appended in this transaction (services/audit/published.py)."""
        return SqlAuditTrail(self.connection)
