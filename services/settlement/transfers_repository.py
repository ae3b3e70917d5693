"""SQL of the bank transfer files and of a month's payouts list (transfers.py; docs/ledger.md
"The bank transfer file"), on a SqlUnitOfWork's connection."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from domain.ledger import PayoutStatus
from services.settlement.ports import Payout
from services.settlement.repository import SqlUnitOfWork
from services.settlement.tables import payout_profiles, payouts, transfer_files
from services.settlement.taxes_repository import payout_of_row
from services.settlement.transfer_ports import TransferFile, TransferRow

_FIGURES = [c for c in transfer_files.c if c.name != "data"]


def _file(row: sa.Row) -> TransferFile:
    return TransferFile(
        month=row.month,
        part=int(row.part),
        sha256=row.sha256,
        rows=int(row.row_count),
        total_krw=int(row.total_krw),
        created_at_us=int(row.created_at_us),
        created_by=int(row.created_by),
    )


class SqlTransferFiles:
    """transfer_ports.TransferFiles on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def files(self) -> list[TransferFile]:
        t = transfer_files.c
        return [_file(row) for row in self._conn.execute(sa.select(*_FIGURES).order_by(t.month, t.part))]

    def files_of(self, month: dt.date) -> list[TransferFile]:
        t = transfer_files.c
        rows = self._conn.execute(sa.select(*_FIGURES).where(t.month == month).order_by(t.part))
        return [_file(row) for row in rows]

    def data(self, month: dt.date, part: int) -> bytes:
        t = transfer_files.c
        return bytes(self._conn.execute(sa.select(t.data).where(t.month == month, t.part == part)).scalar_one())

    def unfiled_counts(self) -> dict[dt.date, int]:
        p = payouts.c
        rows = self._conn.execute(
            sa.select(p.month, sa.func.count())
            .where(p.status == PayoutStatus.APPROVED.value, p.transfer_part.is_(None))
            .group_by(p.month)
        )
        return {month: int(count) for month, count in rows}

    def claim(self, month: dt.date, part: int, now_us: int, created_by: int) -> None:
        self._conn.execute(
            sa.insert(transfer_files).values(
                month=month,
                part=part,
                sha256="",
                row_count=0,
                total_krw=0,
                data=b"",
                created_at_us=now_us,
                created_by=created_by,
            )
        )

    def take_unfiled(self, month: dt.date, part: int) -> list[TransferRow]:
        p, f = payouts.c, payout_profiles.c
        # Set-based: one UPDATE for the whole month, then the part's rows (a payout in a file
        # stays in it whatever its status becomes).
        self._conn.execute(
            sa.update(payouts)
            .where(p.month == month, p.status == PayoutStatus.APPROVED.value, p.transfer_part.is_(None))
            .values(transfer_part=part)
        )
        rows = self._conn.execute(
            sa.select(p.payout_id, p.seller_id, f.bank_code, f.account_number, f.legal_name, p.net_krw)
            .select_from(payouts.join(payout_profiles, f.seller_id == p.seller_id))
            .where(p.month == month, p.transfer_part == part)
            .order_by(p.payout_id)
        )
        return [
            TransferRow(int(r.payout_id), int(r.seller_id), r.bank_code, r.account_number, r.legal_name, int(r.net_krw))
            for r in rows
        ]

    def store(self, file: TransferFile, data: bytes) -> None:
        t = transfer_files.c
        self._conn.execute(
            sa.update(transfer_files)
            .where(t.month == file.month, t.part == file.part)
            .values(sha256=file.sha256, row_count=file.rows, total_krw=file.total_krw, data=data)
        )

    def month_payouts(
        self, month: dt.date, status: PayoutStatus | None, *, after_payout_id: int, limit: int
    ) -> list[Payout]:
        p = payouts.c
        query = sa.select(payouts).where(p.month == month, p.payout_id > after_payout_id)
        if status is not None:
            query = query.where(p.status == status.value)
        return [payout_of_row(row) for row in self._conn.execute(query.order_by(p.payout_id).limit(limit))]


class SqlTransferUnitOfWork(SqlUnitOfWork):
    """transfer_ports.TransferUnitOfWork: the ledger's unit of work and the transfer files."""

    @property
    def transfers(self) -> SqlTransferFiles:
        return SqlTransferFiles(self.connection)
