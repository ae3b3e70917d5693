"""Money helpers (DESIGN.md section 2, "Money"): exact Decimal amounts, never floats.

Line amounts are exact decimals; a statement truncates its exact total toward zero to whole
KRW once, for the payable amount. Amounts cross the API as decimal strings ("810000.0").
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation

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
