"""SQL of the tier tables (docs/ledger.md, "Tier tables"): tier_prices rows by kind and start
day, and the last closed month the schedule must come after. SQLAlchemy Core, for MariaDB and
SQLite alike; prices stay in the exact Numeric(12, 4) type and come back as Decimal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import TracebackType

import sqlalchemy as sa

from services.audit.published import SqlAuditTrail
from services.common.db import SqlTransaction
from services.settlement.ports import TierPrice, WriteConflict
from services.settlement.tables import month_closings, tier_prices

Tier = tuple[int, Decimal]  # (lower_bound, unit_price), as in tier_rules


def tier_rows(conn: sa.Connection) -> list[sa.Row]:
    """Every (kind, effective_from, lower_bound, unit_price), by start day, kind and bound."""
    return list(
        conn.execute(
            sa.select(
                tier_prices.c.kind, tier_prices.c.effective_from, tier_prices.c.lower_bound, tier_prices.c.unit_price
            ).order_by(tier_prices.c.effective_from, tier_prices.c.kind, tier_prices.c.lower_bound)
        )
    )


def last_closed_month(conn: sa.Connection) -> dt.date | None:
    """The first day of the newest closed month, or None before the first close."""
    return conn.execute(sa.select(sa.func.max(month_closings.c.month))).scalar_one()


def replace_tier_table(conn: sa.Connection, effective_from: dt.date, tables: dict[str, tuple[Tier, ...]]) -> None:
    """The tables from `effective_from` (kind -> tiers) become exactly `tables`: rows of that
    day for those kinds are deleted, then the new ones inserted, in the caller's transaction."""
    conn.execute(
        sa.delete(tier_prices).where(
            tier_prices.c.effective_from == effective_from, tier_prices.c.kind.in_(list(tables))
        )
    )
    conn.execute(
        sa.insert(tier_prices),
        [
            {"kind": kind, "effective_from": effective_from, "lower_bound": lower, "unit_price": price}
            for kind, tiers in tables.items()
            for lower, price in tiers
        ],
    )


# --- the adapter of ports.TierTables and ports.TierUnitOfWork -------------------------------


class SqlTierTables:
    """ports.TierTables over the functions above, on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def prices(self) -> list[TierPrice]:
        return [
            TierPrice(row.kind, row.effective_from, int(row.lower_bound), Decimal(row.unit_price))
            for row in tier_rows(self._conn)
        ]

    def last_closed_month(self) -> dt.date | None:
        return last_closed_month(self._conn)

    def replace(self, effective_from: dt.date, tables: dict[str, tuple[Tier, ...]]) -> None:
        replace_tier_table(self._conn, effective_from, tables)


class SqlTierUnitOfWork(SqlTransaction):
    """ports.TierUnitOfWork: one transaction of `engine` (engine.begin()'s) and its tier
    tables. A concurrent replace of the same day (a duplicate key, or a lock wait timeout or
    deadlock on MariaDB) ends it, rolled back, in ports.WriteConflict."""

    @property
    def tiers(self) -> SqlTierTables:
        return SqlTierTables(self.connection)

    @property
    def audit(self) -> SqlAuditTrail:
        """The audit log, appended in this transaction (services/audit/published.py)."""
        return SqlAuditTrail(self.connection)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        super().__exit__(kind, error, traceback)
        if isinstance(error, (sa.exc.IntegrityError, sa.exc.OperationalError)) and _clash(error):
            raise WriteConflict(error) from error


def _clash(exc: sa.exc.DBAPIError) -> bool:
    """A concurrent replace of the same day: a duplicate key, or a deadlock on MariaDB."""
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    return code in (1205, 1213)  # lock wait timeout, deadlock
