"""The few SQL spellings that differ between MariaDB/MySQL and SQLite.

The steps write one SQL text per statement and take the engine-specific pieces from here.
Money: MariaDB computes in exact DECIMAL. SQLite has no decimal type: Money columns hold
exact decimal text there (services/common/sqltypes.Money) and the steps compute money with the
exact functions of services/common/money_sql.py (money_units_dot, money_sum), never with
SQLite's float arithmetic; every digit of DECIMAL(24, 4) survives.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from domain.money import STORAGE_SCALE


@dataclass(frozen=True)
class Dialect:
    name: str  # "mysql" (MariaDB too) or "sqlite"

    @classmethod
    def of(cls, conn: sa.Connection) -> Dialect:
        name = conn.dialect.name
        if name in ("mysql", "mariadb"):
            return cls("mysql")
        if name == "sqlite":
            return cls("sqlite")
        raise NotImplementedError(f"the batch steps do not support the {name} dialect")

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def greatest(self, *args: str) -> str:
        return f"{'MAX' if self.is_sqlite else 'GREATEST'}({', '.join(args)})"

    def least(self, *args: str) -> str:
        return f"{'MIN' if self.is_sqlite else 'LEAST'}({', '.join(args)})"

    def int_div(self, numerator: str, denominator: str) -> str:
        """Integer division, truncating (operands are integers)."""
        if self.is_sqlite:
            return f"(({numerator}) / ({denominator}))"
        return f"(({numerator}) DIV ({denominator}))"

    def bytewise(self, column: str) -> str:
        """A string compared byte by byte. event_id has a NO PAD binary collation since
        migration 0005 (utf8mb4_bin, before it, is PAD SPACE: 'a' sorted after 'a\\t'); the
        CAST to the raw bytes keeps the order byte-wise whatever the column's collation.
        SQLite's BINARY already compares bytes."""
        return column if self.is_sqlite else f"CAST({column} AS BINARY)"

    def price_param(self, price: Decimal) -> Decimal | int:
        """A unit price as a bound value: exact DECIMAL, or integer ten-thousandths on SQLite."""
        units = price.scaleb(STORAGE_SCALE)
        if units != units.to_integral_value():
            raise ValueError(f"price {price} has more than {STORAGE_SCALE} decimal places")
        return int(units) if self.is_sqlite else price

    def price_total(self, terms: list[tuple[str, str]]) -> str:
        """The exact sum of price x count over (price_param, integer count) terms, as stored
        into a Money column (SQLite: one money_units_dot call per row, integer arithmetic)."""
        if self.is_sqlite:
            return f"money_units_dot({', '.join(f'{price}, {count}' for price, count in terms)})"
        return f"({' + '.join(f'{price} * {count}' for price, count in terms)})"

    def money_sum(self, column: str) -> str:
        """Exact SUM of a Money column (SQLite: the money_sum aggregate, exact integer arithmetic)."""
        return f"money_sum({column})" if self.is_sqlite else f"SUM({column})"

    def upsert(self, keys: list[str], columns: list[str]) -> str:
        """The tail of an INSERT ... SELECT that overwrites the row with the same key."""
        if self.is_sqlite:
            sets = ", ".join(f"{c} = excluded.{c}" for c in columns)
            return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
        sets = ", ".join(f"{c} = VALUES({c})" for c in columns)
        return f"ON DUPLICATE KEY UPDATE {sets}"

    def upsert_add(self, keys: list[str], columns: list[str]) -> str:
        """The tail of an INSERT ... SELECT that adds the new values to the existing row's."""
        if self.is_sqlite:
            sets = ", ".join(f"{c} = {c} + excluded.{c}" for c in columns)
            return f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
        sets = ", ".join(f"{c} = {c} + VALUES({c})" for c in columns)
        return f"ON DUPLICATE KEY UPDATE {sets}"

    def concat_pairs(self, key: str, value: str) -> str:
        """Aggregate: `key:value` of every row of the group joined by commas, in no set order
        (MariaDB's limit, group_concat_max_len, is raised by the daily step's session settings)."""
        if self.is_sqlite:
            return f"group_concat({key} || ':' || {value}, ',')"
        return f"GROUP_CONCAT({key}, ':', {value} SEPARATOR ',')"

    @property
    def select_where_true(self) -> str:
        # SQLite needs a WHERE before ON CONFLICT in INSERT ... SELECT (parsing ambiguity).
        return "WHERE 1 = 1" if self.is_sqlite else ""

    def drop_temp_table(self, name: str) -> str:
        if self.is_sqlite:
            return f"DROP TABLE IF EXISTS temp.{name}"
        return f"DROP TEMPORARY TABLE IF EXISTS {name}"

    def create_temp_table(self, name: str, columns: str) -> str:
        if self.is_sqlite:
            return f"CREATE TEMP TABLE {name} ({columns})"
        return f"CREATE TEMPORARY TABLE {name} ({columns}) ENGINE=MEMORY"


def text_with_dates(sql: str, *date_params: str) -> sa.TextClause:
    """sa.text() whose named date parameters bind as DATE on every engine (ISO text on SQLite)."""
    clause = sa.text(sql)
    if date_params:
        clause = clause.bindparams(*(sa.bindparam(name, type_=sa.Date) for name in date_params))
    return clause
