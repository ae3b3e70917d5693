"""The column types of the schema (services/common/tables.py, jobs_schema.py): portable between
MySQL/MariaDB (the system of record) and SQLite (the embedded default).

Ids autoincrement on both; strings compare byte by byte; money is exact on both (Money).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from domain import money

# BIGINT ids that autoincrement on SQLite too (SQLite only does so for INTEGER PRIMARY KEY).
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


# Byte-by-byte comparison on MySQL; SQLite's default collation is already BINARY.
def BinaryString(n: int) -> sa.types.TypeEngine[str]:  # noqa: N802 - used as a column type
    return sa.String(n).with_variant(mysql.VARCHAR(n, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb")


# Event ids: byte by byte with no padding (utf8mb4_bin is PAD SPACE: 'a' = 'a '). Migration
# 0005 sets utf8mb4_nopad_bin on MariaDB (the system of record) and utf8mb4_0900_bin on MySQL 8,
# which has no nopad_bin; one type cannot name both, so this one names MariaDB's.
def EventId(n: int) -> sa.types.TypeEngine[str]:  # noqa: N802 - used as a column type
    return sa.String(n).with_variant(
        mysql.VARCHAR(n, charset="utf8mb4", collation="utf8mb4_nopad_bin"), "mysql", "mariadb"
    )


def _refuse_float(value):
    if isinstance(value, float):
        raise TypeError(f"money must not be a float: {value!r}")
    return value


class Money(sa.types.TypeDecorator):
    """An exact amount with 4 decimals (ten-thousandths of a KRW), read and written as Decimal.

    MySQL/MariaDB: DECIMAL(precision, 4), exactly as a plain Numeric (the same DDL and the same
    driver conversions, no extra Python call per value). SQLite has no decimal type: a NUMERIC
    column there holds a 64-bit float (exact to ~15 digits, DECIMAL(24, 4) has 24), so the
    column is TEXT holding the canonical decimal string (money.to_storage_text). SQL arithmetic
    on it goes through the exact functions of services/common/money_sql.py, registered on every
    SQLite connection. Floats are refused on both engines.
    """

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 24):
        super().__init__(precision, money.STORAGE_SCALE, asdecimal=True)
        self.precision = precision

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Text())
        return dialect.type_descriptor(sa.Numeric(self.precision, money.STORAGE_SCALE, asdecimal=True))

    # The processors are chosen per dialect here rather than in process_bind_param /
    # process_result_value, so that MariaDB keeps Numeric's own on read (none: pymysql returns
    # Decimal) and pays nothing for SQLite's conversions; on write it only refuses floats.
    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            assert self.impl_instance.bind_processor(dialect) is None  # MySQL drivers take Decimal
            return _refuse_float
        precision = self.precision

        def process(value):
            return None if value is None else money.to_storage_text(value, precision)

        return process

    def result_processor(self, dialect, coltype):
        if dialect.name != "sqlite":
            return self.impl_instance.result_processor(dialect, coltype)

        def process(value):
            return None if value is None else money.from_storage_text(value)

        return process

    def literal_processor(self, dialect):
        if dialect.name != "sqlite":
            return self.impl_instance.literal_processor(dialect)
        precision = self.precision
        return lambda value: f"'{money.to_storage_text(value, precision)}'"
