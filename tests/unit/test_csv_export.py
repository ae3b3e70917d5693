"""The CSV files' rendering (services/settlement/csv_export.py, docs/ledger.md "CSV files"):
read back with the csv module, every title and amount must come back exactly."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import ledger
from domain.periods import Period
from services.settlement import balances, csv_export
from services.settlement.service import AdjustmentLine, Statement, StatementLine, Status

BOM = b"\xef\xbb\xbf"
HOSTILE_TITLES = [
    'Say "hi", then leave',
    "two\nlines\r\nand a CR\rhere",
    '한국어 제목, 쉼표와 "따옴표"',
    '=HYPERLINK("http://evil.example","click")',
    "+1 trick",
    "-2+3",
    "@SUM(A1:A9)",
    "\tTabbed",
    "\rCarriage",
    "'quoted already",
    "'=both",
    "",
    "plain",
]


def parse(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    text = data[len(BOM) :].decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def statement(titles: list[str], closed: bool = True) -> Statement:
    lines = tuple(
        StatementLine(100 + i, title, views=10 * i, ad_views=i, video_revenue=Decimal("1.2345"), ad_revenue=Decimal(i))
        for i, title in enumerate(titles)
    )
    adjustments = (AdjustmentLine(dt.date(2021, 1, 1), 100, titles[0] if titles else "", Decimal("-0.0005")),)
    return Statement(
        seller_id=7,
        period=Period.MONTHLY,
        period_start=dt.date(2021, 2, 1),
        period_end=dt.date(2021, 2, 28),
        lines=lines,
        data_through=dt.date(2021, 3, 5),
        status=Status.CLOSED if closed else Status.OPEN,
        closed_at_us=1_614_600_000_123_456 if closed else None,
        adjustments=adjustments if closed else (),
    )


def test_a_statement_has_one_header_its_lines_its_adjustments_and_the_totals_last():
    rows = parse(csv_export.render_statement(statement(["a", "b, c"])))
    assert rows[0] == list(csv_export.STATEMENT_HEADER)
    by = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [r["kind"] for r in by] == ["LINE", "LINE", "ADJUSTMENT", "TOTAL"]
    assert [(r["video_id"], r["title"], r["amount"]) for r in by[:3]] == [
        ("100", "a", "1.2345"),
        ("101", "b, c", "2.2345"),
        ("100", "a", "-0.0005"),
    ]
    assert by[2]["original_month"] == "2021-01"
    total = by[3]
    # 2 * 1.2345 + (0 + 1) - 0.0005 = 3.4685; truncated once: 3
    assert (total["video_revenue"], total["ad_revenue"], total["adjustments"], total["amount"]) == (
        "2.469",
        "1.0",
        "-0.0005",
        "3.4685",
    )
    assert (total["payable_krw"], total["currency"], total["status"]) == ("3", "KRW", "CLOSED")
    assert (total["views"], total["ad_views"]) == ("10", "1")
    assert total["closed_at"] == "2021-03-01T12:00:00.123456Z"
    assert total["data_through"] == "2021-03-05"


def test_an_open_statement_has_no_closed_at_and_an_empty_one_prints_its_zeros():
    rows = parse(csv_export.render_statement(statement([], closed=False)))
    assert len(rows) == 2
    total = dict(zip(rows[0], rows[1], strict=True))
    assert (total["kind"], total["amount"], total["payable_krw"], total["status"], total["closed_at"]) == (
        "TOTAL",
        "0.0",
        "0",
        "OPEN",
        "",
    )


def test_hostile_titles_round_trip_and_none_starts_with_a_formula_character():
    rows = parse(csv_export.render_statement(statement(HOSTILE_TITLES)))
    cells = [row[2] for row in rows[1 : 1 + len(HOSTILE_TITLES)]]
    assert [csv_export.original_text(c) for c in cells] == HOSTILE_TITLES
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert cells[3] == '\'=HYPERLINK("http://evil.example","click")'
    assert cells[9] == "''quoted already"  # escaped too, so that one apostrophe always comes off
    assert cells[2] == '한국어 제목, 쉼표와 "따옴표"'  # no prefix: not a formula


def test_negative_amounts_stay_numbers():
    rows = parse(csv_export.render_statement(statement(["x"])))
    assert rows[2][rows[0].index("amount")] == "-0.0005"  # amounts are never prefixed


@settings(max_examples=300, deadline=None)
@given(
    titles=st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=30), min_size=1, max_size=5),
    cents=st.lists(st.integers(min_value=-(10**22), max_value=10**22), min_size=1, max_size=5),
)
def test_any_title_and_amount_round_trips(titles, cents):
    amounts = [Decimal(c).scaleb(-4) for c in cents]
    lines = tuple(
        StatementLine(i + 1, titles[i % len(titles)], 0, 0, amounts[i], Decimal(0)) for i in range(len(amounts))
    )
    s = Statement(7, Period.DAILY, dt.date(2021, 2, 1), dt.date(2021, 2, 1), lines, None)
    rows = parse(csv_export.render_statement(s))
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert [csv_export.original_text(r[header.index("title")]) for r in body] == [line.title for line in lines]
    assert [Decimal(r[header.index("amount")]) for r in body] == amounts
    assert all("E" not in r[header.index("amount")] for r in body)
    assert Decimal(total[header.index("amount")]) == sum(amounts, Decimal(0))


def entry(entry_id, kind, amount, title="", video_id=None, original=None, payout_id=None) -> balances.Entry:
    return balances.Entry(
        entry_id=entry_id,
        kind=kind,
        posted_month=dt.date(2021, 2, 1),
        original_month=original,
        video_id=video_id,
        payout_id=payout_id,
        amount=Decimal(amount),
        posted_at_us=1_614_600_000_000_000,
        title=title,
    )


def test_a_ledger_lists_its_entries_then_the_sum_of_the_range():
    entries = [
        entry(1, ledger.EntryKind.EARNING, "10000.5", "=cmd|' /C calc'!A0", video_id=5),
        entry(2, ledger.EntryKind.ADJUSTMENT, "-0.25", '뮤직비디오, "공식"', video_id=5, original=dt.date(2021, 1, 1)),
        entry(3, ledger.EntryKind.PAYOUT, "-10000", payout_id=9),
    ]
    rows = parse(csv_export.render_ledger(entries))
    assert rows[0] == list(csv_export.LEDGER_HEADER)
    by = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["kind"], r["entry_id"], r["amount"]) for r in by] == [
        ("EARNING", "1", "10000.5"),
        ("ADJUSTMENT", "2", "-0.25"),
        ("PAYOUT", "3", "-10000.0"),
        ("TOTAL", "", "0.25"),
    ]
    assert by[0]["title"] == "'=cmd|' /C calc'!A0"
    assert by[1]["title"] == '뮤직비디오, "공식"' and by[1]["original_month"] == "2021-01"
    assert (by[2]["payout_id"], by[2]["video_id"], by[2]["title"]) == ("9", "", "")
    assert by[0]["posted_at"] == "2021-03-01T12:00:00Z" and by[0]["posted_month"] == "2021-02"


def test_an_empty_ledger_is_a_header_and_a_zero_total():
    rows = parse(csv_export.render_ledger([]))
    assert rows[1][0] == "TOTAL" and rows[1][rows[0].index("amount")] == "0.0"
