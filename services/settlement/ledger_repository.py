"""SQL of the ledger: closings, frozen lines, entries, payouts (docs/ledger.md).

Closing a month is a handful of set-based statements (INSERT ... SELECT) inside the caller's
transaction, so a million lines never travel through Python. Money stays in the database's
exact type; sums come back as Decimal.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from batch.published import period_video_stats
from domain.ledger import EARNED_KINDS, MARKABLE, EntryKind, PayoutStatus
from services.common.money_sql import money_add, money_is_nonzero, money_negate, money_sum
from services.common.sqltypes import Money
from services.settlement.ports import NewPayout
from services.settlement.tables import closed_lines, ledger_entries, month_closings, payout_minimums, payouts
from services.settlement.taxes_repository import breakdown_values
from services.video.published import videos

MONTHLY = "MONTHLY"


def _total(value) -> Decimal:
    """A money_sum's result: 0 when it summed no rows (SQL's SUM of nothing is NULL)."""
    return Decimal(0) if value is None else Decimal(value)


# --- closings ------------------------------------------------------------------------------


def closing(conn: sa.Connection, month: dt.date) -> sa.Row | None:
    return conn.execute(sa.select(month_closings).where(month_closings.c.month == month)).one_or_none()


def closings(conn: sa.Connection) -> list[sa.Row]:
    return list(conn.execute(sa.select(month_closings).order_by(month_closings.c.month.desc())))


def closed_months(conn: sa.Connection) -> dict[dt.date, int]:
    """Every closed month (its first day) and its closed_at_us."""
    return {
        row.month: int(row.closed_at_us)
        for row in conn.execute(sa.select(month_closings.c.month, month_closings.c.closed_at_us))
    }


def last_closed_month(conn: sa.Connection) -> dt.date | None:
    return conn.execute(sa.select(sa.func.max(month_closings.c.month))).scalar_one()


def claim_closing(conn: sa.Connection, month: dt.date, closed_by: int, now_us: int) -> None:
    """The close's first write: the month's row, figures filled in by finish_closing. A
    concurrent close of the same month blocks here on the primary key until this
    transaction ends, then fails (IntegrityError) and reads this closing instead."""
    conn.execute(
        sa.insert(month_closings).values(
            month=month,
            closed_at_us=now_us,
            closed_by=closed_by,
            sellers=0,
            lines=0,
            earnings=0,
            adjustment_lines=0,
            adjustments=0,
            payouts_created=0,
            payouts_krw=0,
        )
    )


def freeze_lines(conn: sa.Connection, month: dt.date) -> int:
    """Copies the month's per-video figures (the batch's MONTHLY rows with a non-zero
    amount: the statement's lines) into closed_lines."""
    m = period_video_stats.c
    source = sa.select(
        sa.literal(month, sa.Date).label("month"),
        m.video_id,
        m.seller_id,
        m.views,
        m.ad_views,
        m.video_revenue,
        m.ad_revenue,
    ).where(m.period == MONTHLY, m.period_start == month, money_is_nonzero(m.video_revenue, m.ad_revenue))
    columns = ["month", "video_id", "seller_id", "views", "ad_views", "video_revenue", "ad_revenue"]
    return conn.execute(sa.insert(closed_lines).from_select(columns, source)).rowcount


def post_earnings(conn: sa.Connection, month: dt.date, now_us: int) -> None:
    """One EARNING entry per frozen line of the month."""
    c = closed_lines.c
    source = sa.select(
        c.seller_id,
        sa.literal(EntryKind.EARNING.value).label("kind"),
        c.month,
        c.month.label("original_month"),
        c.video_id,
        money_add(c.video_revenue, c.ad_revenue).label("amount"),
        sa.literal(now_us, sa.BigInteger).label("posted_at_us"),
    ).where(c.month == month)
    columns = ["seller_id", "kind", "posted_month", "original_month", "video_id", "amount", "posted_at_us"]
    conn.execute(sa.insert(ledger_entries).from_select(columns, source))


def _differences(months: list[dt.date]) -> sa.CompoundSelect:
    """(seller_id, original_month, video_id, computed, in_ledger) for every video of the given
    closed months where what the batch computes now differs from what the ledger holds.

    Two index-driven parts instead of one GROUP BY over both sides (which MariaDB spills to
    an on-disk temporary table at a million lines): each MONTHLY row with the sum of its
    earned entries (looked up by ix_ledger_entries_original), then the entries of lines that
    have no MONTHLY row any more. Same rows as grouping both sides by (seller, month, video).
    """
    m, e = period_video_stats.c, ledger_entries.c
    earned = e.kind.in_([k.value for k in EARNED_KINDS])
    held_of_row = sa.func.coalesce(
        sa.select(money_sum(e.amount))
        .where(e.original_month == m.period_start, e.video_id == m.video_id, e.seller_id == m.seller_id, earned)
        .scalar_subquery(),
        sa.literal(0, Money()),
    )
    rows = (
        sa.select(
            m.seller_id,
            m.period_start.label("original_month"),
            m.video_id,
            money_add(m.video_revenue, m.ad_revenue).label("computed"),
            sa.type_coerce(held_of_row, Money()).label("in_ledger"),
        )
        .where(m.period == MONTHLY, m.period_start.in_(months))
        .subquery("monthly_rows")
    )
    with_row = sa.select(rows).where(money_is_nonzero(rows.c.computed, money_negate(rows.c.in_ledger)))
    has_row = sa.exists().where(
        m.period == MONTHLY, m.period_start == e.original_month, m.video_id == e.video_id, m.seller_id == e.seller_id
    )
    held_sum = money_sum(e.amount)
    without_row = (
        sa.select(e.seller_id, e.original_month, e.video_id, sa.literal(0, Money()).label("computed"), held_sum)
        .where(e.original_month.in_(months), earned, ~has_row)
        .group_by(e.seller_id, e.original_month, e.video_id)
        .having(money_is_nonzero(held_sum))
    )
    return sa.union_all(with_row, without_row)


def pending_adjustments(conn: sa.Connection, months: list[dt.date]) -> list[sa.Row]:
    if not months:
        return []
    query = _differences(months).order_by(sa.text("original_month"), sa.text("seller_id"), sa.text("video_id"))
    return list(conn.execute(query))


def post_adjustments(conn: sa.Connection, month: dt.date, earlier: list[dt.date], now_us: int) -> None:
    """One ADJUSTMENT entry, posted in `month`, per earlier closed month and video whose
    computed figure differs from the ledger's: the exact signed difference."""
    if not earlier:
        return
    diffs = _differences(earlier).subquery("diffs")
    d = diffs.c
    source = sa.select(
        d.seller_id,
        sa.literal(EntryKind.ADJUSTMENT.value).label("kind"),
        sa.literal(month, sa.Date).label("posted_month"),
        d.original_month,
        d.video_id,
        money_add(d.computed, money_negate(d.in_ledger)).label("amount"),
        sa.literal(now_us, sa.BigInteger).label("posted_at_us"),
    )
    columns = ["seller_id", "kind", "posted_month", "original_month", "video_id", "amount", "posted_at_us"]
    conn.execute(sa.insert(ledger_entries).from_select(columns, source))


def balances_at_least(conn: sa.Connection, minimum_krw: int) -> list[tuple[int, Decimal]]:
    """(seller_id, balance) of every seller whose balance is at least the minimum (compared
    in Python: SQLite's comparison of a text amount with a number is not numeric)."""
    e = ledger_entries.c
    rows = conn.execute(sa.select(e.seller_id, money_sum(e.amount)).group_by(e.seller_id))
    return [(int(seller_id), balance) for seller_id, balance in rows if balance >= minimum_krw]


def create_payouts(conn: sa.Connection, month: dt.date, new: list[NewPayout], now_us: int) -> None:
    """The payouts (PENDING with their breakdown, or HELD) and their PAYOUT entries (negative)."""
    if not new:
        return
    conn.execute(
        sa.insert(payouts),
        [
            {
                "seller_id": payout.seller_id,
                "month": month,
                "amount_krw": payout.amount_krw,
                "status": payout.status.value,
                "created_at_us": now_us,
                "updated_at_us": now_us,
                **breakdown_values(payout.tax_type, payout.breakdown),
            }
            for payout in new
        ],
    )
    p = payouts.c
    source = sa.select(
        p.seller_id,
        sa.literal(EntryKind.PAYOUT.value).label("kind"),
        p.month,
        p.payout_id,
        money_negate(p.amount_krw).label("amount"),
        sa.literal(now_us, sa.BigInteger).label("posted_at_us"),
    ).where(p.month == month)
    columns = ["seller_id", "kind", "posted_month", "payout_id", "amount", "posted_at_us"]
    conn.execute(sa.insert(ledger_entries).from_select(columns, source))


def finish_closing(conn: sa.Connection, month: dt.date) -> sa.Row:
    """Fills in the closing's figures from what the close posted, and returns the row."""
    e = ledger_entries.c
    posted = sa.select(e.seller_id, e.kind, e.amount).where(e.posted_month == month).subquery()
    q = posted.c
    earned = q.kind.in_([k.value for k in EARNED_KINDS])
    is_earning, is_adjustment = q.kind == EntryKind.EARNING.value, q.kind == EntryKind.ADJUSTMENT.value
    figures = conn.execute(
        sa.select(
            sa.func.count(sa.distinct(sa.case((earned, q.seller_id)))),
            sa.func.coalesce(sa.func.sum(sa.case((is_earning, 1), else_=0)), 0),
            money_sum(sa.case((is_earning, q.amount))),
            sa.func.coalesce(sa.func.sum(sa.case((is_adjustment, 1), else_=0)), 0),
            money_sum(sa.case((is_adjustment, q.amount))),
        )
    ).one()
    p = payouts.c
    created, paid_krw = conn.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(p.amount_krw), 0)).where(p.month == month)
    ).one()
    sellers, lines, earnings, adjustment_lines, adjustments = figures
    earnings, adjustments = _total(earnings), _total(adjustments)
    conn.execute(
        sa.update(month_closings)
        .where(month_closings.c.month == month)
        .values(
            sellers=sellers,
            lines=lines,
            earnings=earnings,
            adjustment_lines=adjustment_lines,
            adjustments=adjustments,
            payouts_created=created,
            payouts_krw=paid_krw,
        )
    )
    return conn.execute(sa.select(month_closings).where(month_closings.c.month == month)).one()


# --- minimum payout ------------------------------------------------------------------------


def minimum_payout_krw(conn: sa.Connection, on: dt.date, default: int) -> int:
    """The minimum payout in force on a day (the newest row effective on or before it)."""
    value = conn.execute(
        sa.select(payout_minimums.c.minimum_krw)
        .where(payout_minimums.c.effective_from <= on)
        .order_by(payout_minimums.c.effective_from.desc())
        .limit(1)
    ).scalar_one_or_none()
    return default if value is None else int(value)


# --- a seller's ledger, balance and payouts -------------------------------------------------


def balance(conn: sa.Connection, seller_id: int) -> Decimal:
    e = ledger_entries.c
    return _total(conn.execute(sa.select(money_sum(e.amount)).where(e.seller_id == seller_id)).scalar_one())


def entries(
    conn: sa.Connection, seller_id: int, first: dt.date, last: dt.date, *, after_entry_id: int, limit: int | None
) -> list[sa.Row]:
    """A seller's entries posted in months [first, last], by entry_id, with video titles."""
    e = ledger_entries.c
    query = (
        sa.select(*e, sa.func.coalesce(videos.c.title, "").label("title"))
        .select_from(ledger_entries.outerjoin(videos, videos.c.video_id == e.video_id))
        .where(e.seller_id == seller_id, e.posted_month >= first, e.posted_month <= last, e.entry_id > after_entry_id)
        .order_by(e.entry_id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query))


def adjustments_posted(conn: sa.Connection, seller_id: int, month: dt.date) -> list[sa.Row]:
    """The ADJUSTMENT entries a seller got at the close of `month`, with titles."""
    e = ledger_entries.c
    return list(
        conn.execute(
            sa.select(e.original_month, e.video_id, e.amount, sa.func.coalesce(videos.c.title, "").label("title"))
            .select_from(ledger_entries.outerjoin(videos, videos.c.video_id == e.video_id))
            .where(e.seller_id == seller_id, e.posted_month == month, e.kind == EntryKind.ADJUSTMENT.value)
            .order_by(e.original_month, e.video_id)
        )
    )


def payouts_of(conn: sa.Connection, seller_id: int) -> list[sa.Row]:
    return list(
        conn.execute(sa.select(payouts).where(payouts.c.seller_id == seller_id).order_by(payouts.c.payout_id.desc()))
    )


def payout(conn: sa.Connection, payout_id: int) -> sa.Row | None:
    return conn.execute(sa.select(payouts).where(payouts.c.payout_id == payout_id)).one_or_none()


def existing_payout(conn: sa.Connection, payout_id: int) -> sa.Row:
    """A payout known to exist (payouts are never deleted)."""
    return conn.execute(sa.select(payouts).where(payouts.c.payout_id == payout_id)).one()


def settle_payout(
    conn: sa.Connection, payout_id: int, status: PayoutStatus, reference: str | None, now_us: int
) -> bool:
    """Moves an APPROVED payout to `status` (compare and set); False if it was not APPROVED
    any more. A FAILED payout's money returns to the balance by a PAYOUT_REVERSAL entry."""
    moved = conn.execute(
        sa.update(payouts)
        .where(payouts.c.payout_id == payout_id, payouts.c.status == MARKABLE.value)
        .values(status=status.value, reference=reference, updated_at_us=now_us)
    ).rowcount
    if moved and status is PayoutStatus.FAILED:
        row = existing_payout(conn, payout_id)
        conn.execute(
            sa.insert(ledger_entries).values(
                seller_id=row.seller_id,
                kind=EntryKind.PAYOUT_REVERSAL.value,
                posted_month=row.month,
                payout_id=payout_id,
                amount=row.amount_krw,
                posted_at_us=now_us,
            )
        )
    return bool(moved)
