"""Argument rules and the TTL policy of the read side, and statement arithmetic."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.errors import BadDate, BadPeriod, NotAllowed
from domain.periods import Period, parse_day
from paysystem.v1 import common_pb2
from services.common.auth import Principal, require_seller_or_admin
from services.readpath.cache import CLOSED_TTL_SEC, OPEN_TTL_SEC, ttl_for
from services.readpath.readside import enum_name, parse_period
from services.settlement.service import Statement, StatementLine

D = dt.date


@pytest.mark.parametrize(
    "text", ["2026-02-29", "2026-13-01", "2026-1-01", "20260101", " 2026-01-01", "2026-01-01x", ""]
)
def test_a_date_that_is_not_a_real_yyyy_mm_dd_day_is_refused_naming_the_field(text):
    with pytest.raises(BadDate) as err:
        parse_day(text, "date")
    assert err.value.field == "date"


def test_a_real_date_parses():
    assert parse_day("2024-02-29", "from") == D(2024, 2, 29)


def test_period_unspecified_and_unknown_numbers_are_refused():
    for value in (common_pb2.PERIOD_UNSPECIFIED, 99):
        with pytest.raises(BadPeriod) as err:
            parse_period(enum_name(common_pb2.Period, value))
        assert err.value.field == "period"
    assert parse_period(enum_name(common_pb2.Period, common_pb2.WEEKLY)) is Period.WEEKLY


def test_a_period_not_fully_computed_or_not_yet_over_gets_the_short_ttl():
    today = D(2026, 10, 20)
    assert ttl_for(D(2026, 10, 31), D(2026, 10, 19), today) == OPEN_TTL_SEC  # month still running
    assert ttl_for(D(2026, 10, 4), D(2026, 10, 3), today) == OPEN_TTL_SEC  # a day not computed
    assert ttl_for(D(2026, 10, 4), None, today) == OPEN_TTL_SEC  # nothing computed
    assert ttl_for(D(2026, 10, 4), D(2026, 10, 19), today) == CLOSED_TTL_SEC  # all computed, past
    assert OPEN_TTL_SEC < CLOSED_TTL_SEC


def test_only_the_seller_or_an_admin_reads_figures():
    require_seller_or_admin(Principal(5, "s", "SELLER"), 5, "statement")
    require_seller_or_admin(Principal(1, "a", "ADMIN"), 5, "statement")
    for principal in (Principal(6, "s", "SELLER"), Principal(5, "v", "VIEWER"), Principal(5, "i", "INGEST")):
        with pytest.raises(NotAllowed):
            require_seller_or_admin(principal, 5, "statement")


def test_statement_totals_are_exact_sums_and_payable_truncates_once():
    lines = tuple(StatementLine(v, "", 1, 0, Decimal("0.6"), Decimal("0.0001")) for v in (1, 2, 3))
    st = Statement(7, Period.DAILY, D(2026, 1, 1), D(2026, 1, 1), lines, None)
    assert st.total == Decimal("1.8003")
    assert (st.video_revenue, st.ad_revenue) == (Decimal("1.8"), Decimal("0.0003"))
    assert st.payable_krw == 1
    assert sum(int(line.amount) for line in lines) == 0
