"""The demo's ledger walk (docs/ledger.md), all through Envoy as JSON: close the oldest month
with data, show the payouts, have a second admin approve them (the closer may not), ingest
late playbacks into the closed month, rerun the batch, show the pending difference, close and
approve the next month, print its adjustment lines, mark a payout and list what it pays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from domain.periods import month_end, month_name
from entrypoints.cli import demo_finance


class DemoCallFailed(RuntimeError):
    """An API call of the demo answered with an HTTP error."""

    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        self.status = status
        super().__init__(f"{method} {path}: HTTP {status} {body[:300]!r}")


LATE_PLAYS = 6
LATE_PASSWORD = "demo-late-viewer-password"


def walk_ledger(
    base: str,
    json_call: Callable[..., dict],
    console: Console,
    *,
    summary,
    months: tuple[dt.date, dt.date],
    admin_token: str,
    checker_token: str,
    ingest_token: str,
    rerun_batch: Callable[[], None],
    zone: ZoneInfo,
    bank_folder: Path,
) -> str | None:
    """The walk; the type of the last webhook event it caused for sure (None: it may have
    caused none, as on a second demo on the same data)."""
    seller = summary.demo_seller
    first, second = months
    token = json_call(base, "POST", "/v1/auth/token", {"username": seller.username, "password": seller.password})[
        "access_token"
    ]

    profiled = _set_profiles(base, json_call, console, summary.sellers)
    closing = json_call(base, "POST", "/v1/settlement/closings", {"month": month_name(first)}, token=admin_token)
    _print_closing(console, closing)
    _approve(base, json_call, console, month_name(first), admin_token, checker_token)
    demo_finance.write_bank_file(base, json_call, console, month_name(first), admin_token, bank_folder)
    _print_payouts(console, json_call(base, "GET", f"/v1/sellers/{seller.account_id}/payouts", token=token))
    _print_breakdowns(base, json_call, console, profiled)
    before = json_call(
        base, "GET", f"/v1/sellers/{seller.account_id}/settlements?period=MONTHLY&date={first}", token=token
    )
    console.print(f"{month_name(first)} for {seller.username}: {before['status']}, total {before['total']} KRW")

    video = next(v for v in summary.videos if int(v.seller_id) == seller.account_id)
    # A new viewer, so that no counted-view rule (overlap, repeat, daily cap) takes the late plays.
    name = f"demo-late-viewer-{seller.account_id}"
    viewer = _viewer(base, json_call, name)
    last_day = month_end(first)
    morning = dt.datetime.combine(last_day, dt.time(10), tzinfo=zone).astimezone(dt.UTC)
    events = [
        {
            "event_id": f"demo-late-{seller.account_id}-{i}",
            "video_id": str(video.video_id),
            "viewer_id": str(viewer["account_id"]),
            "started_at": (morning + dt.timedelta(minutes=45 * i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "start_position_sec": "0",
            "end_position_sec": str(min(int(video.duration_sec), 900)),
        }
        for i in range(LATE_PLAYS)
    ]
    stored = json_call(base, "POST", "/v1/plays:batch", {"events": events}, token=ingest_token)
    console.print(f"{stored['stored']} late playbacks of video {video.video_id} on {last_day}, a closed day")
    rerun_batch()
    after = json_call(
        base, "GET", f"/v1/sellers/{seller.account_id}/settlements?period=MONTHLY&date={first}", token=token
    )
    console.print(
        f"{month_name(first)} after the batch ran again: {after['status']}, total {after['total']} KRW (unchanged)"
    )
    pending = json_call(
        base, "GET", f"/v1/settlement/closings/{month_name(first)}/pending-adjustments", token=admin_token
    )
    console.print(f"pending for {month_name(first)}: {len(pending['adjustments'])} lines, {pending['total']} KRW")

    closing = json_call(base, "POST", "/v1/settlement/closings", {"month": month_name(second)}, token=admin_token)
    _print_closing(console, closing)
    _approve(base, json_call, console, month_name(second), admin_token, checker_token)
    statement = json_call(
        base, "GET", f"/v1/sellers/{seller.account_id}/settlements?period=MONTHLY&date={second}", token=token
    )
    table = Table(title=f"Adjustment lines in {seller.username}'s {month_name(second)} statement")
    for column in ("original month", "video", "title", "amount"):
        table.add_column(column, justify="left" if column == "title" else "right")
    for line in statement["adjustments"]:
        table.add_row(line["original_month"], line["video_id"], line["title"], line["amount"])
    console.print(table)
    console.print(
        f"{month_name(second)}: lines + adjustments = total {statement['total']} KRW,"
        f" payable {statement['payable_krw']} KRW"
    )
    balance = json_call(base, "GET", f"/v1/sellers/{seller.account_id}/balance", token=token)
    console.print(f"balance {balance['balance']} KRW (minimum payout {balance['minimum_payout_krw']} KRW)")
    payouts = json_call(base, "GET", f"/v1/sellers/{seller.account_id}/payouts", token=token)["payouts"]
    # The demo seller's newest APPROVED payout, else any seller's of the two months (a demo
    # run again on its data marks another one each time).
    approved = [p for p in payouts if p["status"] == "APPROVED"] or [
        p
        for month in (second, first)
        for p in json_call(
            base, "GET", f"/v1/settlement/closings/{month_name(month)}/payouts?status=APPROVED", token=admin_token
        )["payouts"]
    ]
    last_event = None
    if approved:
        payout = approved[0]
        marked = json_call(
            base,
            "POST",
            f"/v1/payouts/{payout['payout_id']}:mark",
            {"status": "PAID", "reference": "DEMO-BANK-0001"},
            token=admin_token,
        )
        console.print(f"payout {marked['payout_id']} of {marked['amount_krw']} KRW marked {marked['status']}")
        last_event = "payout.paid"
    if payouts:
        _print_paid_entries(
            json_call(base, "GET", f"/v1/payouts/{payouts[0]['payout_id']}/entries", token=token), console
        )
    return last_event


def _approve(
    base: str, json_call: Callable[..., dict], console: Console, month: str, closer_token: str, checker_token: str
) -> None:
    """Maker-checker: the closer's approval is refused (403); the second admin's is taken."""
    try:
        json_call(base, "POST", f"/v1/settlement/closings/{month}:approve", {}, token=closer_token)
    except DemoCallFailed as exc:
        if exc.status != 403:
            raise
        console.print(f"the admin who closed {month} may not approve its payouts (HTTP 403)")
    approved = json_call(base, "POST", f"/v1/settlement/closings/{month}:approve", {}, token=checker_token)
    console.print(
        f"{month}'s payouts approved by admin {approved['approved_by']} (closed by {approved['closed_by']})"
        f" at {approved['approved_at']}"
    )


def _print_paid_entries(paid: dict, console: Console) -> None:
    """What a payout pays: its entries' total + carried in = the payout + carried out."""
    payout = paid["payout"]
    console.print(
        f"payout {payout['payout_id']} ({payout['month']}, {payout['status']}) pays {len(paid['entries'])} ledger"
        f" entries: {paid['total']} + {paid['carried_in']} carried in = {payout['amount_krw']} paid +"
        f" {paid['carried_out']} carried out"
    )


# One INDIVIDUAL and one BUSINESS seller (DESIGN 2b); the other sellers set none, so their
# payouts are HELD until they do. 1234567891 has a valid check digit (a made-up number).
PROFILES = (
    {"legal_name": "김민지", "tax_type": "INDIVIDUAL", "bank_code": "004", "account_number": "110-234-567890"},
    {
        "legal_name": "스튜디오 데모 주식회사",
        "tax_type": "BUSINESS",
        "bank_code": "088",
        "account_number": "5512-3456-0088",
        "business_number": "123-45-67891",
    },
)


def _set_profiles(base: str, json_call: Callable[..., dict], console: Console, sellers) -> list[tuple[int, str]]:
    """PUT the payout profiles of the first two sellers; (seller_id, token) of each."""
    profiled = []
    for account, profile in zip(sellers, PROFILES, strict=False):
        login = {"username": account.username, "password": account.password}
        token = json_call(base, "POST", "/v1/auth/token", login)["access_token"]
        shown = json_call(base, "PUT", f"/v1/sellers/{account.account_id}/payout-profile", profile, token=token)
        console.print(
            f"payout profile of {account.username}: {shown['tax_type']}, {shown['legal_name']},"
            f" bank {shown['bank_code']} account {shown['account_number']} (masked)"
        )
        profiled.append((account.account_id, token))
    return profiled


def _print_breakdowns(
    base: str, json_call: Callable[..., dict], console: Console, profiled: list[tuple[int, str]]
) -> None:
    """Each profiled seller's newest payout as GET /v1/payouts/{id} shows it: its taxes."""
    table = Table(title="Payouts with their taxes (the ledger pays the gross; taxes are owed to the state)")
    for column in ("payout", "seller", "tax type", "gross", "income tax", "local income tax", "VAT", "net"):
        table.add_column(column, justify="right")
    for seller_id, token in profiled:
        payouts = json_call(base, "GET", f"/v1/sellers/{seller_id}/payouts", token=token)["payouts"]
        if not payouts:
            continue
        p = json_call(base, "GET", f"/v1/payouts/{payouts[0]['payout_id']}", token=token)
        figures = [p.get(k, "-") for k in ("gross_krw", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw")]
        table.add_row(p["payout_id"], str(seller_id), p.get("tax_type", "(held)"), *figures)
    console.print(table)


def _viewer(base: str, json_call: Callable[..., dict], name: str) -> dict:
    """Signs the late viewer up, or logs it in when an earlier demo on this data made it."""
    try:
        return json_call(base, "POST", "/v1/accounts", {"username": name, "password": LATE_PASSWORD, "role": "VIEWER"})
    except DemoCallFailed as exc:
        if exc.status != 409:
            raise
    return json_call(base, "POST", "/v1/auth/token", {"username": name, "password": LATE_PASSWORD})


def _print_closing(console: Console, closing: dict) -> None:
    console.print(
        f"[bold]closed {closing['month']}[/] at {closing['closed_at']}: {closing['lines']} lines of"
        f" {closing['sellers']} sellers, earnings {closing['earnings']} KRW, {closing['adjustment_lines']}"
        f" adjustments ({closing['adjustments']} KRW), {closing['payouts_created']} payouts"
        f" ({closing['payouts_krw']} KRW)"
    )


def _print_payouts(console: Console, payouts: dict) -> None:
    rows = payouts["payouts"]
    if not rows:
        console.print("no payout for the demo seller yet: the balance is below the minimum and rolls over")
        return
    table = Table(title="The demo seller's payouts")
    for column in ("payout", "month", "amount (KRW)", "status"):
        table.add_column(column, justify="right")
    for p in rows:
        table.add_row(p["payout_id"], p["month"], p["amount_krw"], p["status"])
    console.print(table)
