"""Exact money arithmetic in SQL on both engines (DESIGN.md section 2, "Money": never floats).

MySQL/MariaDB compute on DECIMAL exactly, with their own operators. SQLite has no decimal
type: its `+`, `*`, `SUM` and comparisons turn the TEXT of a Money column (sqltypes.Money) into
a 64-bit float. So every SQLite connection gets these deterministic functions, computing in
Python's Decimal (services/common/db.py registers them when it connects):

    money_add(a, b, ...)   exact sum, as canonical storage text; NULL if any argument is NULL
    money_mul(a, n)        exact product of an amount and a whole count, as text
    money_units_dot(u, n, v, m, ...)
                           exact u x n + v x m + ... ten-thousandths of a KRW, as text: the
                           batch's tier pricing (integer prices, counts), one call per row
    money_sign(a, b, ...)  -1, 0 or 1: the sign of the exact sum (comparisons with zero)
    money_cmp(a, b)        -1, 0 or 1: a against b (ordering, comparisons)
    money_sum(a)           aggregate: the exact sum of the non-NULL values, NULL if none

Arguments are stored amounts (text) or integers; a float (REAL) argument is an error, never a
silently rounded amount. Results are canonical text (money.to_storage_text) of up to 65 digits,
MariaDB's widest DECIMAL, as MariaDB widens the DECIMAL of `a + b` or `SUM(a)`; beyond that
the function raises. (MariaDB would refuse to store a result wider than the column's
DECIMAL(24, 4), at 10^20 KRW; SQLite keeps it, exact.)

Core queries use the constructs below, which render the plain operators on MySQL/MariaDB (the
same SQL as before, so the same speed) and the functions on SQLite. The batch's SQL text gets
the same spellings from batch/steps/dialect.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from domain import money
from services.common.sqltypes import Money

# --- the SQLite functions ------------------------------------------------------------------
# In integer ten-thousandths (money.storage_units): exact, and cheaper than Decimal. Python
# calls from SQLite cost about a microsecond each, so the batch makes one per revenue per row
# (money_units_dot over the tiers) and one per value summed (money_sum).

_WIDEST = 65  # digits of MariaDB's widest DECIMAL
_units = money.storage_units


def _text(units: int) -> str:
    return money.units_storage_text(units, _WIDEST)


def _add(*values: str | int | None) -> str | None:
    if None in values:
        return None
    return _text(sum(_units(v) for v in values if v is not None))


def _mul(value: str | int | None, count: str | int | None) -> str | None:
    if value is None or count is None:
        return None
    units = _units(value)
    if type(count) is not int:
        count = _whole(count)
    return _text(units * count) if count else "0.0000"


def _units_dot(*values: int | None) -> str | None:
    if len(values) % 2:
        raise ValueError("money_units_dot takes (ten-thousandths, count) pairs")
    if None in values:
        return None
    total = 0
    for i in range(0, len(values), 2):
        units, count = values[i], values[i + 1]
        if type(units) is not int or type(count) is not int:
            raise TypeError(f"money_units_dot multiplies integers, not {units!r} x {count!r}")
        total += units * count
    return _text(total)


def _whole(count: str | int) -> int:
    whole, fraction = divmod(_units(count), 10**money.STORAGE_SCALE)
    if fraction:
        raise ValueError(f"a count must be whole, not {count!r}")
    return whole


def _sign(*values: str | int | None) -> int | None:
    if None in values:
        return None
    total = sum(_units(v) for v in values if v is not None)
    return (total > 0) - (total < 0)


def _cmp(a: str | int | None, b: str | int | None) -> int | None:
    if a is None or b is None:
        return None
    left, right = _units(a), _units(b)
    return (left > right) - (left < right)


class _Sum:
    """The money_sum aggregate: exact, NULLs ignored, NULL over no value (as SQL's SUM)."""

    def __init__(self) -> None:
        self.total: int | None = None

    def step(self, value: str | int | None) -> None:
        # Canonical text inline (the batch sums every day of a week and a month, per video and
        # day): one Python call less per value than money.storage_units.
        if type(value) is str and value[-5:-4] == ".":
            try:
                units = int(value.replace(".", "", 1))
            except ValueError:
                units = _units(value)
        elif value is None:
            return
        else:
            units = _units(value)
        self.total = units if self.total is None else self.total + units

    def finalize(self) -> str | None:
        return None if self.total is None else _text(self.total)


def register_sqlite_functions(dbapi_connection) -> None:
    """Adds the money functions to one sqlite3 connection (deterministic: usable in indexes,
    and SQLite may factor repeated calls)."""
    dbapi_connection.create_function("money_add", -1, _add, deterministic=True)
    dbapi_connection.create_function("money_mul", 2, _mul, deterministic=True)
    dbapi_connection.create_function("money_units_dot", -1, _units_dot, deterministic=True)
    dbapi_connection.create_function("money_sign", -1, _sign, deterministic=True)
    dbapi_connection.create_function("money_cmp", 2, _cmp, deterministic=True)
    dbapi_connection.create_aggregate("money_sum", 1, _Sum)


# --- the constructs for Core queries ---------------------------------------------------------


class money_add(FunctionElement):  # noqa: N801 - reads as the SQL function it renders
    """a + b + ... exactly: `(a + b)` on MySQL/MariaDB, `money_add(a, b)` on SQLite."""

    type = Money()
    inherit_cache = True


class money_sum(FunctionElement):  # noqa: N801
    """SUM(a) exactly: `SUM(a)` on MySQL/MariaDB, the money_sum aggregate on SQLite."""

    type = Money()
    inherit_cache = True


class money_is_nonzero(FunctionElement):  # noqa: N801
    """(a + b + ...) != 0 exactly: the plain comparison on MySQL/MariaDB, money_sign on SQLite."""

    type = sa.Boolean()
    inherit_cache = True
    _is_implicitly_boolean = True  # a condition in itself: WHERE needs no "= 1"


def _terms(compiler, element, **kw) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(money_add)
def _add_default(element, compiler, **kw):
    return f"({' + '.join(_terms(compiler, element, **kw))})"


@compiles(money_add, "sqlite")
def _add_sqlite(element, compiler, **kw):
    return f"money_add({', '.join(_terms(compiler, element, **kw))})"


@compiles(money_sum)
def _sum_default(element, compiler, **kw):
    return f"SUM({compiler.process(element.clauses, **kw)})"


@compiles(money_sum, "sqlite")
def _sum_sqlite(element, compiler, **kw):
    return f"money_sum({compiler.process(element.clauses, **kw)})"


@compiles(money_is_nonzero)
def _nonzero_default(element, compiler, **kw):
    return f"({' + '.join(_terms(compiler, element, **kw))}) != 0"


@compiles(money_is_nonzero, "sqlite")
def _nonzero_sqlite(element, compiler, **kw):
    return f"money_sign({', '.join(_terms(compiler, element, **kw))}) != 0"


class money_negate(FunctionElement):  # noqa: N801
    """-a exactly: `(-a)` on MySQL/MariaDB, `money_mul(a, -1)` on SQLite (a stored amount or
    a whole number of KRW; the result is a Money)."""

    type = Money()
    inherit_cache = True


@compiles(money_negate)
def _negate_default(element, compiler, **kw):
    return f"(-({compiler.process(element.clauses, **kw)}))"


@compiles(money_negate, "sqlite")
def _negate_sqlite(element, compiler, **kw):
    return f"money_mul({compiler.process(element.clauses, **kw)}, -1)"
