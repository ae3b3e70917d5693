"""SQL of the maker-checker approval and of what a payout pays (docs/ledger.md,
"Approving a month's payouts" and "What a payout pays"), beside ledger_repository.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from domain.ledger import APPROVABLE, EntryKind, PayoutStatus
from services.common.money_sql import money_sum
from services.settlement.tables import ledger_entries, month_closings, payouts
from services.video.published import videos

# The entries a payout pays: what the seller earned, was adjusted, or got back from a failed
# payout. PAYOUT entries are the window's bounds, not part of it.
PAID_KINDS = (EntryKind.EARNING.value, EntryKind.ADJUSTMENT.value, EntryKind.PAYOUT_REVERSAL.value)


def approve_month(conn: sa.Connection, month: dt.date, approved_by: int, now_us: int) -> bool:
    """Records the approval (compare and set on approved_by IS NULL, so of two concurrent
    approvals one writes and the other sees 0 rows), then moves the month's PENDING payouts
    to APPROVED in the same transaction; False when it was approved already."""
    c = month_closings.c
    claimed = conn.execute(
        sa.update(month_closings)
        .where(c.month == month, c.approved_by.is_(None))
        .values(approved_by=approved_by, approved_at_us=now_us)
    ).rowcount
    if not claimed:
        return False
    conn.execute(
        sa.update(payouts)
        .where(payouts.c.month == month, payouts.c.status == APPROVABLE.value)
        .values(status=PayoutStatus.APPROVED.value, updated_at_us=now_us)
    )
    return True


def _payout_entry_id(conn: sa.Connection, payout_id: int) -> int | None:
    e = ledger_entries.c
    return conn.execute(
        sa.select(e.entry_id).where(e.payout_id == payout_id, e.kind == EntryKind.PAYOUT.value)
    ).scalar_one_or_none()


def _balance_through(conn: sa.Connection, seller_id: int, entry_id: int) -> Decimal:
    e = ledger_entries.c
    total = conn.execute(
        sa.select(money_sum(e.amount)).where(e.seller_id == seller_id, e.entry_id <= entry_id)
    ).scalar_one()
    return Decimal(0) if total is None else Decimal(total)


def paid_entries(conn: sa.Connection, payout_id: int, seller_id: int) -> tuple[list[sa.Row], Decimal, Decimal]:
    """(the entries the payout pays, with video titles, carried_in, carried_out): the seller's EARNING, ADJUSTMENT
    and PAYOUT_REVERSAL entries after the previous payout's PAYOUT entry and before this one's."""
    this_entry = _payout_entry_id(conn, payout_id)
    if this_entry is None:  # every payout gets its PAYOUT entry in the close that creates it
        raise LookupError(f"payout {payout_id} has no PAYOUT entry")
    previous_payout = conn.execute(
        sa.select(sa.func.max(payouts.c.payout_id)).where(
            payouts.c.seller_id == seller_id, payouts.c.payout_id < payout_id
        )
    ).scalar_one()
    previous_entry = 0 if previous_payout is None else _payout_entry_id(conn, previous_payout) or 0
    e = ledger_entries.c
    rows = list(
        conn.execute(
            sa.select(*e, sa.func.coalesce(videos.c.title, "").label("title"))
            .select_from(ledger_entries.outerjoin(videos, videos.c.video_id == e.video_id))
            .where(
                e.seller_id == seller_id,
                e.entry_id > previous_entry,
                e.entry_id < this_entry,
                e.kind.in_(PAID_KINDS),
            )
            .order_by(e.entry_id)
        )
    )
    carried_in = _balance_through(conn, seller_id, previous_entry) if previous_entry else Decimal(0)
    return rows, carried_in, _balance_through(conn, seller_id, this_entry)
