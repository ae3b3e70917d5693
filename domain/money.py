"""Money helpers (DESIGN.md section 2, "Money"): exact Decimal amounts, never floats.

Line amounts are exact decimals; a statement truncates its exact total toward zero to whole
KRW once, for the payable amount. Amounts cross the API as decimal strings ("810000.0").
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow

ZERO = Decimal(0)


def to_decimal(value: Decimal | int | str) -> Decimal:
    """An exact Decimal from a Decimal, an int or a decimal string; floats are refused."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"money must not be a {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal amount: {value!r}") from exc
    else:
        raise TypeError(f"not a money value: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return result


def to_api_string(amount: Decimal | int | str) -> str:
    """The exact amount as a plain decimal string with at least one fractional digit.

    Trailing zeros beyond the first fractional digit are dropped, so a DECIMAL(24,4)
    column's 810000.0000 reads "810000.0" and 1.2500 reads "1.25". No exponent notation.
    """
    # A Decimal (every amount read from the database) skips to_decimal's type checks, and
    # str() is cheaper than format() (docs/statistics_settlement.md): a 1,000-line statement
    # formats 3,000 amounts.
    # str() writes an exponent only for a positive exponent or a tiny value; then format().
    value = amount if type(amount) is Decimal and amount.is_finite() else to_decimal(amount)
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if "." not in text:
        return "0.0" if text == "-0" else text + ".0"
    text = text.rstrip("0")
    if text.endswith("."):
        text += "0"
    return "0.0" if text == "-0.0" else text


def payable_krw(amount: Decimal | int | str) -> int:
    """Whole KRW, truncated toward zero (DESIGN.md: the statement total truncates once)."""
    return int(to_decimal(amount).to_integral_value(rounding=ROUND_DOWN))


# --- Storage text (the SQLite form of a DECIMAL(p, 4) column, services/common/sqltypes.Money) ---

STORAGE_SCALE = 4  # DECIMAL(24, 4): ten-thousandths of a KRW
_UNITS_PER_KRW: int = 10**STORAGE_SCALE
_LIMITS = {precision: 10**precision for precision in (12, 24, 65)}  # the precisions in use
_QUANTUM = Decimal(1).scaleb(-STORAGE_SCALE)
_ZERO_STORED = ZERO.quantize(_QUANTUM)
# Money arithmetic for storage: wide enough that sums of DECIMAL(24, 4) values are exact, and
# any result that would need rounding raises instead (the Inexact trap).
EXACT = Context(prec=80, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])
# Storing rounds a value with more than 4 decimals half away from zero, as MariaDB's DECIMAL does.
_STORE = Context(prec=80, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])


def to_storage_text(value: Decimal | int | str, precision: int = 24) -> str:
    """The canonical exact text of an amount in a DECIMAL(precision, 4) column: 4 decimals, no
    exponent, no negative zero ("810000.0000", "-0.0001", "0.0000"). A value with more
    decimals is rounded half away from zero; one with more than precision - 4 integer digits
    is refused (MariaDB's strict mode refuses it too)."""
    amount = _STORE.quantize(to_decimal(value), _QUANTUM)
    if not amount:
        return "0.0000"
    if amount.adjusted() >= precision - STORAGE_SCALE:
        raise ValueError(f"amount {value} does not fit DECIMAL({precision}, {STORAGE_SCALE})")
    return format(amount, "f")


def from_storage_text(text: str | int) -> Decimal:
    """The exact Decimal of a stored amount, with 4 decimals as MariaDB returns DECIMAL(p, 4)."""
    if isinstance(text, str):
        amount = Decimal(text)
        if len(text) > STORAGE_SCALE and text[-STORAGE_SCALE - 1] == ".":
            return amount  # canonical: already 4 decimals
    elif isinstance(text, int) and not isinstance(text, bool):
        amount = Decimal(text)
    else:
        raise TypeError(f"a stored amount must be text, not {type(text).__name__}: {text!r}")
    return _STORE.quantize(amount, _QUANTUM) if amount else _ZERO_STORED


def storage_units(stored: str | int) -> int:
    """The exact number of ten-thousandths of a stored amount (its text, or an integer).

    For SQL arithmetic on SQLite (services/common/money_sql.py): integers are exact and far
    cheaper than Decimal. Canonical text is read directly; anything else through Decimal, and
    an amount finer than a ten-thousandth (not a DECIMAL(p, 4) value) is refused."""
    if type(stored) is str:
        if len(stored) > STORAGE_SCALE + 1 and stored[-STORAGE_SCALE - 1] == ".":
            try:  # (a try costs nothing in Python 3.11; contextlib.suppress costs 0.5 us a call)
                return int(stored.replace(".", "", 1))
            except ValueError:
                pass
        try:
            units = EXACT.scaleb(Decimal(stored), STORAGE_SCALE)
        except ArithmeticError as exc:
            raise ValueError(f"not a stored amount: {stored!r}") from exc
        if not units.is_finite() or units != units.to_integral_value():
            raise ValueError(f"not an amount of ten-thousandths: {stored!r}")
        return int(units)
    if type(stored) is int:
        return stored * _UNITS_PER_KRW
    raise TypeError(f"a stored amount is text or an integer, not {type(stored).__name__}: {stored!r}")


def units_storage_text(units: int, precision: int = 24) -> str:
    """The canonical text (as to_storage_text) of an amount of `units` ten-thousandths."""
    limit = _LIMITS.get(precision) or 10**precision
    sign = ""
    if units < 0:
        sign, units = "-", -units
    if units >= limit:
        raise ValueError(f"an amount of {sign}{units} ten-thousandths does not fit DECIMAL({precision}, 4)")
    whole, fraction = divmod(units, _UNITS_PER_KRW)
    return f"{sign}{whole}.{fraction:04d}"  # 4: STORAGE_SCALE
