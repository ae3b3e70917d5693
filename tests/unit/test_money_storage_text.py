"""The SQLite storage text of money (domain/money.py): one canonical form, exact both
ways, written alike by the Money type (Decimal) and the SQL functions (integer ten-thousandths)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from domain import money

LARGEST_UNITS = 10**24 - 1  # DECIMAL(24, 4)


@given(units=st.integers(min_value=-LARGEST_UNITS, max_value=LARGEST_UNITS))
@example(units=LARGEST_UNITS)
@example(units=-LARGEST_UNITS)
@example(units=0)
@example(units=-1)
def test_the_type_and_the_sql_functions_write_one_exact_text(units):
    amount = Decimal(units).scaleb(-4)
    text = money.to_storage_text(amount)
    assert text == money.units_storage_text(units)
    assert money.storage_units(text) == units
    assert money.from_storage_text(text) == amount
    whole, _, fraction = text.lstrip("-").partition(".")
    assert len(fraction) == 4 and whole == str(abs(units) // 10_000)
    assert text.startswith("-") == (units < 0)


def test_canonical_forms_and_what_mariadb_does_at_the_edges():
    assert money.to_storage_text(Decimal("810000.0")) == "810000.0000"
    assert money.to_storage_text(Decimal("-0.0000")) == "0.0000"
    assert money.to_storage_text(Decimal("1E+3")) == "1000.0000"
    # More decimals than 4: rounded half away from zero, as MariaDB stores DECIMAL(24, 4).
    assert money.to_storage_text("0.00005") == "0.0001"
    assert money.to_storage_text("-0.00005") == "-0.0001"
    assert money.to_storage_text("0.00004") == "0.0000"
    with pytest.raises(ValueError, match="does not fit"):
        money.to_storage_text(Decimal(10) ** 20)
    assert money.to_storage_text(Decimal(10) ** 8 - Decimal("0.0001"), precision=12) == "99999999.9999"
    with pytest.raises(ValueError, match="does not fit"):
        money.to_storage_text(Decimal(10) ** 8, precision=12)
    with pytest.raises(TypeError, match="float"):
        money.to_storage_text(0.1)  # type: ignore[arg-type]


def test_stored_text_that_is_not_canonical_still_reads_exactly():
    # Plain SQL may write '3' or '1e3' into a TEXT column; they still mean exact amounts.
    assert money.storage_units("3") == 30_000
    assert money.storage_units("1e3") == 10_000_000
    assert money.storage_units("-.0001") == -1
    assert money.storage_units(7) == 70_000
    assert money.from_storage_text("3") == Decimal("3.0000")
    assert str(money.from_storage_text("3")) == "3.0000"
    for bad in ("0.00001", "abc", "NaN", "Infinity"):
        with pytest.raises(ValueError):
            money.storage_units(bad)
    with pytest.raises(TypeError):
        money.storage_units(0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        money.from_storage_text(0.5)  # type: ignore[arg-type]
