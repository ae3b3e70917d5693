"""The webhook events the settlement use cases cause (DESIGN 2b, docs/webhooks.md "Events"):
one builder per event type, returning ports.Event for `uow.events.emit(...)`, so an event is
written in the same transaction as its change. Payload conventions, as the JSON API writes
them: ids and amounts are strings (int64 and exact decimals), counts are numbers, months
are "YYYY-MM", instants RFC 3339 in UTC.

adjustment.posted: one event per close that posted adjustments, listing the ADJUSTMENT
entries of the close (seller, original month, video, amount), rather than one event per
entry: a close is one change, and a receiver reconciling it reads one message.

A list in an event holds at most LIST_LIMIT items (the first, in the use case's order); its
`count` and totals always cover all of them, and `truncated` says whether some were left
out. A month of 100,000 sellers would otherwise make a 10 MB request (and an outbox row
larger than its column): a receiver reads the rest from the API (`list_path`, or the sellers'
ledgers for adjustments).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from domain import webhooks
from domain.ledger import PayoutStatus
from domain.money import ZERO, to_api_string
from domain.periods import month_name
from services.common.proto_time import timestamp
from services.settlement.event_ports import Event, PostedAdjustment
from services.settlement.ports import Closing, Payout

LIST_LIMIT = 100  # items of a list in one event (the module's docstring)


def rfc3339(epoch_us: int) -> str:
    """µs since the epoch as RFC 3339 UTC, as the JSON API writes timestamps (the same
    protobuf conversion the API and the CSV files use)."""
    return timestamp(epoch_us).ToJsonString()


def month_closed(closing: Closing) -> Event:
    return Event(
        webhooks.MONTH_CLOSED,
        {
            "month": month_name(closing.month),
            "closed_at": rfc3339(closing.closed_at_us),
            "sellers": closing.sellers,
            "lines": closing.lines,
            "earnings": to_api_string(closing.earnings),
            "adjustment_lines": closing.adjustment_lines,
            "adjustments": to_api_string(closing.adjustments),
            "total": to_api_string(closing.total),
            "payouts_created": closing.payouts_created,
            "payouts_krw": str(closing.payouts_krw),
            "currency": "KRW",
        },
        closing.closed_at_us,
    )


def adjustment_posted(month: dt.date, posted: list[PostedAdjustment], at_us: int) -> Event:
    return Event(
        webhooks.ADJUSTMENT_POSTED,
        {
            "month": month_name(month),
            "count": len(posted),
            "total": to_api_string(sum((a.amount for a in posted), ZERO)),
            "adjustments": [
                {
                    "seller_id": str(a.seller_id),
                    "original_month": month_name(a.original_month),
                    "video_id": str(a.video_id),
                    "amount": to_api_string(a.amount),
                }
                for a in posted[:LIST_LIMIT]
            ],
            "truncated": len(posted) > LIST_LIMIT,
            "currency": "KRW",
        },
        at_us,
    )


def _payout(payout: Payout) -> dict[str, object]:
    return {
        "payout_id": str(payout.payout_id),
        "seller_id": str(payout.seller_id),
        "month": month_name(payout.month),
        "amount_krw": str(payout.amount_krw),
        "status": payout.status.value,
    }


def payout_marked(payout: Payout) -> Event:
    """payout.paid or payout.failed, after a mark that changed the payout."""
    event_type = webhooks.PAYOUT_PAID if payout.status is PayoutStatus.PAID else webhooks.PAYOUT_FAILED
    data = {**_payout(payout), "reference": payout.reference or "", "updated_at": rfc3339(payout.updated_at_us)}
    return Event(event_type, data, payout.updated_at_us)


def payouts_approved(month: dt.date, approved_by: int, payouts: Iterable[Payout], at_us: int) -> Event:
    """For the maker-checker approval (issue 31): one event per approved month, listing its
    payouts (at most LIST_LIMIT; `list_path` pages through all of them). The approve use case calls, inside its unit of work, before its commit:
    `uow.events.emit(events.payouts_approved(month, principal.account_id, approved, now_us))`."""
    approved = list(payouts)
    return Event(
        webhooks.PAYOUTS_APPROVED,
        {
            "month": month_name(month),
            "approved_by": str(approved_by),
            "approved_at": rfc3339(at_us),
            "count": len(approved),
            "total_krw": str(sum(p.amount_krw for p in approved)),
            "payouts": [_payout(p) for p in approved[:LIST_LIMIT]],
            "truncated": len(approved) > LIST_LIMIT,
            "list_path": f"/v1/settlement/closings/{month_name(month)}/payouts?status=APPROVED",
        },
        at_us,
    )
