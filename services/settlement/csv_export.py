"""Use cases: a statement and a ledger as CSV files (docs/ledger.md, "CSV files").

The files are what a seller opens in a spreadsheet program: UTF-8 with a byte-order mark (so
that Korean titles are read as UTF-8, not the locale's code page), RFC 4180 quoting, one header
row, one row per line or entry, and the totals last. Amounts are the API's exact decimal strings
(services/common/money.to_api_string). A title that a spreadsheet would read as a formula is
prefixed with an apostrophe (`spreadsheet_text`).

The same bytes go through Envoy (google.api.HttpBody) and to the CLI's files: both call these
use cases.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Sequence

import sqlalchemy as sa

from domain import money
from domain.periods import month_name
from services.common.auth import Principal
from services.common.proto_time import timestamp
from services.readpath.readside import ReadSide
from services.settlement import approvals, balances, service, taxes

CONTENT_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"

# OWASP "CSV Injection": a cell starting with one of these is a formula (or a DDE call) to
# Excel, LibreOffice or Google Sheets. The apostrophe itself is escaped too, so that removing
# one leading apostrophe always gives the title back (see `original_text`).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED = (*FORMULA_TRIGGERS, "'")

STATEMENT_HEADER = (
    "kind",
    "video_id",
    "title",
    "original_month",
    "views",
    "ad_views",
    "video_revenue",
    "ad_revenue",
    "adjustments",
    "amount",
    "payable_krw",
    "currency",
    "status",
    "closed_at",
    "data_through",
)
LEDGER_HEADER = (
    "kind",
    "entry_id",
    "posted_at",
    "posted_month",
    "original_month",
    "video_id",
    "title",
    "payout_id",
    "amount",
    "currency",
)

TAX_SUMMARY_HEADER = ("month", "gross_krw", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw", "currency")


@dataclasses.dataclass(frozen=True)
class CsvFile:
    filename: str
    data: bytes


def spreadsheet_text(text: str) -> str:
    """Free text (a title) as a cell no spreadsheet turns into a formula: an apostrophe is
    prefixed when the text starts with = + - @ a tab, a carriage return or an apostrophe."""
    return "'" + text if text.startswith(_ESCAPED) else text


def original_text(cell: str) -> str:
    """The inverse of `spreadsheet_text`, for programs that read the files back."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_ESCAPED) else cell


def _instant(epoch_us: int | None) -> str:
    # The JSON API's form of a Timestamp (RFC 3339, UTC), so both read the same.
    return "" if epoch_us is None else timestamp(epoch_us).ToJsonString()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; fields quoted only when needed
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def render_statement(statement: service.Statement) -> bytes:
    """LINE rows, then ADJUSTMENT rows (a monthly statement of a closed month), then one
    TOTAL row: the sums, the total (lines + adjustments), payable_krw and the status."""
    api = money.to_api_string
    rows: list[tuple[object, ...]] = [
        (
            "LINE",
            line.video_id,
            spreadsheet_text(line.title),
            "",
            line.views,
            line.ad_views,
            api(line.video_revenue),
            api(line.ad_revenue),
            "",
            api(line.amount),
            "",
            "",
            "",
            "",
            "",
        )
        for line in statement.lines
    ]
    rows.extend(
        (
            "ADJUSTMENT",
            a.video_id,
            spreadsheet_text(a.title),
            month_name(a.original_month),
            "",
            "",
            "",
            "",
            "",
            api(a.amount),
            "",
            "",
            "",
            "",
            "",
        )
        for a in statement.adjustments
    )
    rows.append(
        (
            "TOTAL",
            "",
            "",
            "",
            sum(line.views for line in statement.lines),
            sum(line.ad_views for line in statement.lines),
            api(statement.video_revenue),
            api(statement.ad_revenue),
            api(statement.adjustments_total),
            api(statement.total),
            statement.payable_krw,
            statement.currency,
            statement.status.value,
            _instant(statement.closed_at_us),
            statement.data_through.isoformat() if statement.data_through else "",
        )
    )
    return csv_bytes(STATEMENT_HEADER, rows)


def render_ledger(entries: Sequence[balances.Entry], currency: str = service.CURRENCY) -> bytes:
    """One row per entry (by entry_id), then one TOTAL row: the sum of the range's entries."""
    api = money.to_api_string
    rows: list[tuple[object, ...]] = [
        (
            e.kind.value,
            e.entry_id,
            _instant(e.posted_at_us),
            month_name(e.posted_month),
            month_name(e.original_month) if e.original_month else "",
            e.video_id or "",
            spreadsheet_text(e.title),
            e.payout_id or "",
            api(e.amount),
            currency,
        )
        for e in entries
    ]
    total = sum((e.amount for e in entries), money.ZERO)
    rows.append(("TOTAL", "", "", "", "", "", "", "", api(total), currency))
    return csv_bytes(LEDGER_HEADER, rows)


def statement_csv(read: ReadSide, principal: Principal, seller_id: int, period: str, date: str) -> CsvFile:
    """The statement of service.get_statement (same checks, same figures), as a CSV file.
    Cached like the protobuf statement, under its own key: a repeated download costs no query."""
    planned = service.plan_statement(read, principal, seller_id, period, date)
    data = read.cached(
        planned, "stmt.csv", lambda: render_statement(service.get_statement(read, planned)), name="statement"
    )
    return CsvFile(f"statement-{seller_id}-{period.lower()}-{planned.period_start.isoformat()}.csv", data)


def ledger_csv(engine: sa.Engine, principal: Principal, seller_id: int, from_text: str, to_text: str) -> CsvFile:
    """Every ledger entry posted in months [from, to] (no pages: one file), as a CSV file."""
    entries = balances.all_ledger_entries(balances.sql_unit_of_work(engine), principal, seller_id, from_text, to_text)
    first, last = balances.month_range(from_text, to_text)
    return CsvFile(f"ledger-{seller_id}-{month_name(first)}-{month_name(last)}.csv", render_ledger(entries))


def render_tax_summary(months: Sequence[taxes.MonthTaxes], currency: str = service.CURRENCY) -> bytes:
    """One row per month of the year (zeros for a month without a taxed payout), then TOTAL."""
    figures = [(m.gross_krw, m.income_tax_krw, m.local_income_tax_krw, m.vat_krw, m.net_krw) for m in months]
    rows: list[tuple[object, ...]] = [
        (month_name(m.month), *values, currency) for m, values in zip(months, figures, strict=True)
    ]
    rows.append(("TOTAL", *(sum(column) for column in zip(*figures, strict=True)), currency))
    return csv_bytes(TAX_SUMMARY_HEADER, rows)


def tax_summary_csv(engine: sa.Engine, principal: Principal, seller_id: int, year: str) -> CsvFile:
    """A seller's yearly tax summary (taxes.yearly_summary) as a CSV file."""
    months = taxes.yearly_summary(balances.sql_unit_of_work(engine), principal, seller_id, year)
    return CsvFile(f"tax-summary-{seller_id}-{months[0].month.year}.csv", render_tax_summary(months))


def payout_entries_csv(paid: approvals.PayoutEntries) -> CsvFile:
    """The entries a payout pays (approvals.payout_entries: its checks, its figures), as the
    ledger's CSV rows, then CARRIED_IN, PAYOUT and CARRIED_OUT rows so that the file itself
    shows the reconciliation: TOTAL + CARRIED_IN = PAYOUT + CARRIED_OUT."""
    api = money.to_api_string
    data = render_ledger(paid.entries)
    payout = paid.payout
    extra = [
        ("CARRIED_IN", "", "", "", "", "", "", "", api(paid.carried_in), service.CURRENCY),
        ("PAYOUT", "", "", month_name(payout.month), "", "", "", payout.payout_id, payout.amount_krw, service.CURRENCY),
        ("CARRIED_OUT", "", "", "", "", "", "", "", api(paid.carried_out), service.CURRENCY),
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(extra)
    return CsvFile(f"payout-{payout.payout_id}-entries.csv", data + out.getvalue().encode("utf-8"))
