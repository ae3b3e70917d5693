"""SQL for statements: a seller's per-video lines for one day, ISO week or month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import TracebackType

import sqlalchemy as sa

from batch.published import (
    daily_video_stats,
    days_to_compute,
    frozen_daily_stats,
    frozen_days,
    period_video_stats,
    read_data_state,
)
from domain.ledger import EntryKind, PayoutStatus
from domain.periods import Period
from services.audit.published import SqlAuditTrail
from services.common.db import SqlTransaction
from services.common.money_sql import money_is_nonzero, money_sum
from services.settlement import ledger_repository, payouts_repository, taxes_repository
from services.settlement.ports import (
    AdjustmentLine,
    Closing,
    Entry,
    Line,
    NewPayout,
    PaidEntries,
    Payout,
    PendingAdjustment,
    WriteConflict,
)
from services.settlement.tables import closed_lines
from services.video.published import videos


def statement_lines(conn: sa.Connection, seller_id: int, period: Period, start: dt.date) -> list[Line]:
    """A seller's lines with a non-zero amount, by video_id. A day reads daily rows (index
    seller_id, day); a week or a month reads the batch's period rows (index seller_id, period,
    period_start), which are the sums of exactly that period's days, so a week across two
    months is whole."""
    if period is Period.DAILY:
        t = daily_video_stats
        where = [t.c.seller_id == seller_id, t.c.day == start]
    else:
        t = period_video_stats
        where = [t.c.seller_id == seller_id, t.c.period == period.value, t.c.period_start == start]
    title = sa.func.coalesce(videos.c.title, "")
    figures = (t.c.video_id, t.c.views, t.c.ad_views, t.c.video_revenue, t.c.ad_revenue)

    def lines_of(*columns):
        return conn.execute(
            sa.select(*columns)
            .select_from(t.outerjoin(videos, videos.c.video_id == t.c.video_id))
            .where(*where, money_is_nonzero(t.c.video_revenue, t.c.ad_revenue))
            .order_by(t.c.video_id)
        )

    if conn.dialect.name in ("mysql", "mariadb"):
        # One text column per line instead of six: pymysql parses every column of every row
        # in Python (the saving is measured in docs/statistics_settlement.md).
        # MySQL writes DECIMAL and BIGINT exactly; the title comes last, so a tab inside it
        # stays in it (split at most 5 times).
        return [_parse_line(text) for text in lines_of(sa.func.concat_ws("\t", *figures, title)).scalars()]
    return [
        (video_id, line_title, int(views), int(ad_views), Decimal(video_revenue), Decimal(ad_revenue))
        for video_id, views, ad_views, video_revenue, ad_revenue, line_title in lines_of(*figures, title)
    ]


def _parse_line(text: str) -> Line:
    video_id, views, ad_views, video_revenue, ad_revenue, title = text.split("\t", 5)
    return int(video_id), title, int(views), int(ad_views), Decimal(video_revenue), Decimal(ad_revenue)


def closed_month_lines(conn: sa.Connection, seller_id: int, month: dt.date) -> list[Line]:
    """A closed month's frozen lines (closed_lines), by video_id."""
    c = closed_lines.c
    title = sa.func.coalesce(videos.c.title, "")
    rows = conn.execute(
        sa.select(c.video_id, title, c.views, c.ad_views, c.video_revenue, c.ad_revenue)
        .select_from(closed_lines.outerjoin(videos, videos.c.video_id == c.video_id))
        .where(c.seller_id == seller_id, c.month == month)
        .order_by(c.video_id)
    )
    return [_line(row) for row in rows]


def frozen_aware_lines(conn: sa.Connection, seller_id: int, first: dt.date, last: dt.date) -> list[Line]:
    """A seller's lines summed over the days [first, last] where some are in a closed month:
    a closed day whose daily rows the batch has since recomputed reads the copy taken just
    before (frozen_daily_stats, for the days in frozen_days); every other day reads the
    batch's daily rows (for a closed day they are still what was closed). One statement, so
    it reads one consistent state even while the batch writes."""
    f, d = frozen_daily_stats.c, daily_video_stats.c
    figures = ("video_id", "views", "ad_views", "video_revenue", "ad_revenue")
    frozen = sa.select(*(f[name] for name in figures)).where(f.seller_id == seller_id, f.day.between(first, last))
    copied_days = sa.select(frozen_days.c.day).where(frozen_days.c.day.between(first, last))
    live = sa.select(*(d[name] for name in figures)).where(
        d.seller_id == seller_id, d.day.between(first, last), d.day.not_in(copied_days)
    )
    both = sa.union_all(frozen, live).subquery("days")
    b = both.c
    video_revenue, ad_revenue = money_sum(b.video_revenue), money_sum(b.ad_revenue)
    rows = conn.execute(
        sa.select(
            b.video_id,
            sa.func.coalesce(sa.func.max(videos.c.title), ""),
            sa.func.sum(b.views),
            sa.func.sum(b.ad_views),
            video_revenue,
            ad_revenue,
        )
        .select_from(both.outerjoin(videos, videos.c.video_id == b.video_id))
        .group_by(b.video_id)
        .having(money_is_nonzero(video_revenue, ad_revenue))
        .order_by(b.video_id)
    )
    return [_line(row) for row in rows]


def _line(row) -> Line:
    video_id, title, views, ad_views, video_revenue, ad_revenue = row
    return int(video_id), title, int(views), int(ad_views), Decimal(video_revenue), Decimal(ad_revenue)


# --- the adapters of services/settlement/ports.py (the ledger's SQL: ledger_repository.py) -


class SqlStatementReader:
    """ports.StatementReader over the functions above and ledger_repository's, on one
    connection of the read path (the data state the statement reads at)."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def closed_months(self) -> dict[dt.date, int]:
        return ledger_repository.closed_months(self._conn)

    def statement_lines(self, seller_id: int, period: Period, start: dt.date) -> list[Line]:
        return statement_lines(self._conn, seller_id, period, start)

    def closed_month_lines(self, seller_id: int, month: dt.date) -> list[Line]:
        return closed_month_lines(self._conn, seller_id, month)

    def frozen_aware_lines(self, seller_id: int, first: dt.date, last: dt.date) -> list[Line]:
        return frozen_aware_lines(self._conn, seller_id, first, last)

    def adjustments_posted(self, seller_id: int, month: dt.date) -> list[AdjustmentLine]:
        return [
            AdjustmentLine(row.original_month, int(row.video_id), row.title, Decimal(row.amount))
            for row in ledger_repository.adjustments_posted(self._conn, seller_id, month)
        ]


def _entry(row: sa.Row) -> Entry:
    return Entry(
        entry_id=int(row.entry_id),
        kind=EntryKind(row.kind),
        posted_month=row.posted_month,
        original_month=row.original_month,
        video_id=row.video_id,
        payout_id=row.payout_id,
        amount=Decimal(row.amount),
        posted_at_us=int(row.posted_at_us),
        title=row.title,
    )


# The one row mapping of payouts (with the tax breakdown columns) is taxes_repository's.
_payout = taxes_repository.payout_of_row


class SqlLedger:
    """ports.Ledger over ledger_repository's functions, on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def minimum_payout_krw(self, on: dt.date, default: int) -> int:
        return ledger_repository.minimum_payout_krw(self._conn, on, default)

    def balance(self, seller_id: int) -> Decimal:
        return ledger_repository.balance(self._conn, seller_id)

    def entries(
        self, seller_id: int, first: dt.date, last: dt.date, *, after_entry_id: int, limit: int | None
    ) -> list[Entry]:
        rows = ledger_repository.entries(self._conn, seller_id, first, last, after_entry_id=after_entry_id, limit=limit)
        return [_entry(row) for row in rows]

    def payouts_of(self, seller_id: int) -> list[Payout]:
        return [_payout(row) for row in ledger_repository.payouts_of(self._conn, seller_id)]

    def payout(self, payout_id: int) -> Payout | None:
        row = ledger_repository.payout(self._conn, payout_id)
        return None if row is None else _payout(row)

    def existing_payout(self, payout_id: int) -> Payout:
        return _payout(ledger_repository.existing_payout(self._conn, payout_id))

    def settle_payout(self, payout_id: int, status: PayoutStatus, reference: str | None, now_us: int) -> bool:
        return ledger_repository.settle_payout(self._conn, payout_id, status, reference, now_us)

    def paid_entries(self, payout: Payout) -> PaidEntries:
        rows, carried_in, carried_out = payouts_repository.paid_entries(self._conn, payout.payout_id, payout.seller_id)
        return PaidEntries([_entry(row) for row in rows], carried_in, carried_out)


def _closing(row: sa.Row) -> Closing:
    return Closing(
        month=row.month,
        closed_at_us=int(row.closed_at_us),
        sellers=int(row.sellers),
        lines=int(row.lines),
        earnings=Decimal(row.earnings),
        adjustment_lines=int(row.adjustment_lines),
        adjustments=Decimal(row.adjustments),
        payouts_created=int(row.payouts_created),
        payouts_krw=int(row.payouts_krw),
        closed_by=int(row.closed_by),
        approved_by=None if row.approved_by is None else int(row.approved_by),
        approved_at_us=None if row.approved_at_us is None else int(row.approved_at_us),
    )


class SqlClosings:
    """ports.Closings over ledger_repository's functions, on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def closing(self, month: dt.date) -> Closing | None:
        row = ledger_repository.closing(self._conn, month)
        return None if row is None else _closing(row)

    def closings(self) -> list[Closing]:
        return [_closing(row) for row in ledger_repository.closings(self._conn)]

    def closed_months(self) -> dict[dt.date, int]:
        return ledger_repository.closed_months(self._conn)

    def last_closed_month(self) -> dt.date | None:
        return ledger_repository.last_closed_month(self._conn)

    def days_to_compute(self, through: dt.date) -> list[dt.date]:
        return days_to_compute(self._conn, through=through)

    def reader_max_age_ms(self) -> int:
        return read_data_state(self._conn).reader_max_age_ms or 0

    def claim(self, month: dt.date, closed_by: int, now_us: int) -> None:
        ledger_repository.claim_closing(self._conn, month, closed_by, now_us)

    def freeze_lines(self, month: dt.date) -> int:
        return ledger_repository.freeze_lines(self._conn, month)

    def post_earnings(self, month: dt.date, now_us: int) -> None:
        ledger_repository.post_earnings(self._conn, month, now_us)

    def post_adjustments(self, month: dt.date, earlier: list[dt.date], now_us: int) -> None:
        ledger_repository.post_adjustments(self._conn, month, earlier, now_us)

    def pending_adjustments(self, months: list[dt.date]) -> list[PendingAdjustment]:
        return [
            PendingAdjustment(int(r.seller_id), int(r.video_id), Decimal(r.in_ledger), Decimal(r.computed))
            for r in ledger_repository.pending_adjustments(self._conn, months)
        ]

    def balances_at_least(self, minimum_krw: int) -> list[tuple[int, Decimal]]:
        return ledger_repository.balances_at_least(self._conn, minimum_krw)

    def create_payouts(self, month: dt.date, payouts: list[NewPayout], now_us: int) -> None:
        ledger_repository.create_payouts(self._conn, month, payouts, now_us)

    def finish(self, month: dt.date) -> Closing:
        return _closing(ledger_repository.finish_closing(self._conn, month))

    def approve(self, month: dt.date, approved_by: int, now_us: int) -> bool:
        return payouts_repository.approve_month(self._conn, month, approved_by, now_us)


class SqlUnitOfWork(SqlTransaction):
    """ports.UnitOfWork: one transaction of `engine` (engine.begin()'s), its ledger and
    closings. A unique key the database refuses (a month claimed by a concurrent close) ends
    it, rolled back, in ports.WriteConflict."""

    @property
    def ledger(self) -> SqlLedger:
        return SqlLedger(self.connection)

    @property
    def closings(self) -> SqlClosings:
        return SqlClosings(self.connection)

    @property
    def audit(self) -> SqlAuditTrail:
        """The audit log, appended in this transaction (services/audit/published.py)."""
        return SqlAuditTrail(self.connection)

    @property
    def profiles(self) -> taxes_repository.SqlPayoutProfiles:
        return taxes_repository.SqlPayoutProfiles(self.connection)

    @property
    def taxes(self) -> taxes_repository.SqlTaxes:
        return taxes_repository.SqlTaxes(self.connection)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        super().__exit__(kind, error, traceback)
        if isinstance(error, sa.exc.IntegrityError):
            raise WriteConflict(error) from error
