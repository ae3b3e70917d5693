"""What the bank transfer file and the month's payouts list (transfers.py) need from storage,
beside ports.UnitOfWork: plain values, no SQL, no gRPC. The SQL adapter is
transfers_repository.SqlTransferUnitOfWork."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Protocol

from domain import ledger
from services.settlement.ports import Payout, UnitOfWork


@dataclasses.dataclass(frozen=True)
class TransferFile:
    """A frozen bank transfer file of a month (its bytes are kept apart: `data`)."""

    month: dt.date
    part: int
    sha256: str
    rows: int
    total_krw: int
    created_at_us: int
    created_by: int


@dataclasses.dataclass(frozen=True)
class TransferRow:
    """One transfer: an APPROVED payout's net amount to its seller's account (unmasked)."""

    payout_id: int
    seller_id: int
    bank_code: str
    account_number: str
    account_holder: str
    net_krw: int


class TransferFiles(Protocol):
    def files(self) -> list[TransferFile]:
        """Every month's files, by month and part."""
        ...

    def files_of(self, month: dt.date) -> list[TransferFile]:
        """The month's files, by part."""
        ...

    def data(self, month: dt.date, part: int) -> bytes:
        """The stored bytes of an existing file."""
        ...

    def unfiled_counts(self) -> dict[dt.date, int]:
        """Per month, its APPROVED payouts that are in no file yet (months with none left out)."""
        ...

    def claim(self, month: dt.date, part: int, now_us: int, created_by: int) -> None:
        """The file's first write (figures filled in by `store`). A concurrent claim of the
        same part makes the unit of work end in WriteConflict."""
        ...

    def take_unfiled(self, month: dt.date, part: int) -> list[TransferRow]:
        """Puts every APPROVED payout of the month that is in no file yet into `part`, and
        returns the rows of `part`, by payout_id, with its sellers' payout profiles."""
        ...

    def store(self, file: TransferFile, data: bytes) -> None:
        """Fills in the claimed file's figures and bytes."""
        ...

    def month_payouts(
        self, month: dt.date, status: ledger.PayoutStatus | None, *, after_payout_id: int, limit: int
    ) -> list[Payout]:
        """The month's payouts (in `status`, or all with None) with payout_id > after_payout_id,
        by payout_id, at most `limit`."""
        ...


class TransferUnitOfWork(UnitOfWork, Protocol):
    """ports.UnitOfWork with the month's bank transfer files."""

    @property
    def transfers(self) -> TransferFiles: ...
