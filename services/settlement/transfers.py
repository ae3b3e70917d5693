"""Use cases: a closed month's bank transfer file and its payouts across sellers (DESIGN.md
section 2b "Bank transfer file", docs/ledger.md "The bank transfer file").

The file has one row per APPROVED payout (bank code, account number unmasked, account holder,
net amount, memo `PaySystem YYYY-MM`), by payout_id, then a TOTAL row. It must be the same
bytes every time it is asked for, yet a HELD payout released after the approval becomes
APPROVED later. So the first download after the approval freezes part 1 (its bytes and
SHA-256 are stored, its payouts marked as in it); a payout approved after that goes into the
next part, frozen at its first download (`part=2`, ...). A stored part is only ever read
again. Every download appends an audit entry (`bank_file.download`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

from domain import ledger
from domain.audit_chain import AuditEvent, summary_json
from domain.errors import BadInput, BadRange, ClosingNotFound, TransferFileNotFound, TransferFileNotReady
from domain.periods import month_name, parse_month
from services.common import paging
from services.common.auth import Principal, require_role
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement import closing, csv_export, retries
from services.settlement.ports import Closing, Payout
from services.settlement.transfer_ports import TransferFile, TransferRow, TransferUnitOfWork

HEADER = ("kind", "payout_id", "seller_id", "bank_code", "account_number", "account_holder", "amount_krw", "memo")
MAX_PART = 1000
_TOKEN_PREFIX = "mp1:"


def memo(month_text: str) -> str:
    return f"PaySystem {month_text}"


def render_transfers(month_text: str, rows: list[TransferRow]) -> bytes:
    """The file's bytes: TRANSFER rows in the given order, then TOTAL (the sum of the net
    amounts). The CSV conventions of csv_export (UTF-8 with a byte-order mark, RFC 4180, a
    holder's name a spreadsheet would run as a formula escaped with an apostrophe)."""
    note = memo(month_text)
    lines: list[tuple[object, ...]] = [
        (
            "TRANSFER",
            r.payout_id,
            r.seller_id,
            r.bank_code,
            r.account_number,
            csv_export.spreadsheet_text(r.account_holder),
            r.net_krw,
            note,
        )
        for r in rows
    ]
    lines.append(("TOTAL", "", "", "", "", "", sum(r.net_krw for r in rows), note))
    return csv_export.csv_bytes(HEADER, lines)


def filename(month_text: str, part: int) -> str:
    return f"transfers-{month_text}.csv" if part == 1 else f"transfers-{month_text}-part{part}.csv"


@dataclasses.dataclass(frozen=True)
class MonthClosing:
    """A closing with its bank transfer files and its APPROVED payouts in none yet."""

    closing: Closing
    files: list[TransferFile]
    unfiled: int


def list_closings(uow: TransferUnitOfWork, principal: Principal) -> list[MonthClosing]:
    """Every closing, newest first (closing.list_closings), with its transfer files."""
    closings = closing.list_closings(uow, principal)
    with uow:
        files = uow.transfers.files()
        unfiled = uow.transfers.unfiled_counts()
    return [MonthClosing(c, [f for f in files if f.month == c.month], unfiled.get(c.month, 0)) for c in closings]


def transfer_file(
    uow: TransferUnitOfWork, principal: Principal, month_text: str, part: int, *, clock: Clock = SYSTEM_CLOCK
) -> tuple[TransferFile, csv_export.CsvFile]:
    """Part `part` (0 means 1) of the month's bank transfer file: the stored one, or, for the
    next part, a new one frozen now. Refused before the month is closed and approved."""
    require_role(principal, "ADMIN")
    month = parse_month(month_text, "month")
    if not 0 <= part <= MAX_PART:
        raise BadRange(f"must be 1..{MAX_PART} (0 means 1)", field="part")
    wanted = part or 1
    name = month_name(month)

    def attempt() -> tuple[TransferFile, csv_export.CsvFile]:
        with uow:
            _require_approved(name, uow.closings.closing(month))
            files = uow.transfers.files_of(month)
            now_us = clock.now_us()
            if wanted <= len(files):
                file, data = files[wanted - 1], uow.transfers.data(month, wanted)
            else:
                file, data = _freeze(uow, principal, month, wanted, len(files), now_us)
            after = {"part": wanted, "sha256": file.sha256, "rows": file.rows, "total_krw": file.total_krw}
            event = AuditEvent(principal.account_id, "bank_file.download", f"month:{name}", "", summary_json(after))
            uow.audit.record(event, now_us)
            uow.commit()
            return file, csv_export.CsvFile(filename(name, wanted), data)

    # Two first downloads at once: one freezes the part, the other reads it on its second try.
    return retries.retried(attempt)


def _require_approved(name: str, found: Closing | None) -> None:
    if found is None:
        raise TransferFileNotReady(
            f"{name} is not closed: close it and have another admin approve its payouts first", field="month"
        )
    if found.approved_by is None:
        raise TransferFileNotReady(
            f"{name}'s payouts are not approved yet: an admin other than the one who closed it approves "
            f"them (POST /v1/settlement/closings/{name}:approve) before the bank file",
            field="month",
        )


def _freeze(
    uow: TransferUnitOfWork, principal: Principal, month: dt.date, part: int, stored: int, now_us: int
) -> tuple[TransferFile, bytes]:
    """Part `part`, the next after the `stored` ones: every APPROVED payout in no file yet."""
    name = month_name(month)
    if part > stored + 1:
        raise TransferFileNotFound(f"{name} has {stored} bank file(s): the next one is part {stored + 1}", field="part")
    uow.transfers.claim(month, part, now_us, principal.account_id)
    rows = uow.transfers.take_unfiled(month, part)
    if part > 1 and not rows:
        raise TransferFileNotReady(
            f"every approved payout of {name} is in its bank file parts 1..{stored}: no part {part} yet",
            field="part",
        )
    data = render_transfers(name, rows)
    file = TransferFile(
        month,
        part,
        hashlib.sha256(data).hexdigest(),
        len(rows),
        sum(r.net_krw for r in rows),
        now_us,
        principal.account_id,
    )
    uow.transfers.store(file, data)
    return file, data


@dataclasses.dataclass(frozen=True)
class PayoutPage:
    payouts: list[Payout]
    next_page_token: str


def list_month_payouts(
    uow: TransferUnitOfWork, principal: Principal, month_text: str, status_name: str, page_size: int, page_token: str
) -> PayoutPage:
    """The payouts a closing created (of every seller), by payout_id, keyset paged; only those
    in `status_name` unless it is PAYOUT_STATUS_UNSPECIFIED (or empty)."""
    require_role(principal, "ADMIN")
    month = parse_month(month_text, "month")
    status = _status(status_name)
    size = paging.page_size(page_size)
    after = paging.decode_page_token(_TOKEN_PREFIX, page_token)
    with uow:
        if uow.closings.closing(month) is None:
            raise ClosingNotFound(f"{month_name(month)} is not closed: it has no payouts", field="month")
        rows = uow.transfers.month_payouts(month, status, after_payout_id=after, limit=size + 1)
    page = rows[:size]
    token = paging.encode_page_token(_TOKEN_PREFIX, page[-1].payout_id) if len(rows) > size else ""
    return PayoutPage(page, token)


def _status(name: str) -> ledger.PayoutStatus | None:
    if name in ("", "PAYOUT_STATUS_UNSPECIFIED"):
        return None
    try:
        return ledger.PayoutStatus(name)
    except ValueError:
        raise BadInput(f"must be one of {', '.join(s.value for s in ledger.PayoutStatus)}", field="status") from None
