"""In-memory fake of services/settlement/transfer_ports.py's TransferFiles over a FakeLedger's
payouts and the FakePayoutProfiles (tests/fakes/settlement.py, taxes.py): the SQL adapter's
contract (checked against it by tests/integration/test_transfer_ports_contract.py): files by
month and part, a payout put into the first part that takes it and never moved, the month's
payouts by payout_id."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt

from domain.ledger import PayoutStatus
from services.settlement.ports import Payout, WriteConflict
from services.settlement.transfer_ports import TransferFile, TransferRow
from tests.fakes.settlement import FakeUnitOfWork
from tests.fakes.taxes import FakePayoutProfiles


@dataclasses.dataclass
class FakeTransferFiles:
    """payouts: the FakeLedger's payouts dict (shared); part_of: payout_id -> its part."""

    payouts: dict[int, Payout]
    profiles: FakePayoutProfiles
    stored: dict[tuple[dt.date, int], tuple[TransferFile, bytes]] = dataclasses.field(default_factory=dict)
    part_of: dict[int, int] = dataclasses.field(default_factory=dict)

    def files(self) -> list[TransferFile]:
        return [self.stored[key][0] for key in sorted(self.stored)]

    def files_of(self, month: dt.date) -> list[TransferFile]:
        return [file for file in self.files() if file.month == month]

    def data(self, month: dt.date, part: int) -> bytes:
        return self.stored[(month, part)][1]

    def unfiled_counts(self) -> dict[dt.date, int]:
        counts: dict[dt.date, int] = {}
        for p in self.payouts.values():
            if p.status is PayoutStatus.APPROVED and p.payout_id not in self.part_of:
                counts[p.month] = counts.get(p.month, 0) + 1
        return counts

    def claim(self, month: dt.date, part: int, now_us: int, created_by: int) -> None:
        if (month, part) in self.stored:
            raise WriteConflict(KeyError(f"transfer_files {month} {part} exists"))
        self.stored[(month, part)] = (TransferFile(month, part, "", 0, 0, now_us, created_by), b"")

    def take_unfiled(self, month: dt.date, part: int) -> list[TransferRow]:
        for p in self.payouts.values():
            if p.month == month and p.status is PayoutStatus.APPROVED and p.payout_id not in self.part_of:
                self.part_of[p.payout_id] = part
        rows = []
        for payout_id in sorted(self.part_of):
            p = self.payouts[payout_id]
            profile = self.profiles.get(p.seller_id)
            if self.part_of[payout_id] == part and p.month == month and profile is not None:
                assert p.breakdown is not None  # an APPROVED payout has its breakdown
                rows.append(
                    TransferRow(
                        payout_id,
                        p.seller_id,
                        profile.bank_code,
                        profile.account_number,
                        profile.legal_name,
                        p.breakdown.net_krw,
                    )
                )
        return rows

    def store(self, file: TransferFile, data: bytes) -> None:
        self.stored[(file.month, file.part)] = (file, data)

    def month_payouts(
        self, month: dt.date, status: PayoutStatus | None, *, after_payout_id: int, limit: int
    ) -> list[Payout]:
        found = sorted(
            (
                p
                for p in self.payouts.values()
                if p.month == month and p.payout_id > after_payout_id and (status is None or p.status is status)
            ),
            key=lambda p: p.payout_id,
        )
        return found[:limit]


class FakeTransferUnitOfWork(FakeUnitOfWork):
    """transfer_ports.TransferUnitOfWork: FakeUnitOfWork with the FakeTransferFiles."""

    def _add_fakes(self) -> None:
        self.transfers = FakeTransferFiles(self.ledger.payouts, self.profiles)

    def _snapshot(self):  # type: ignore[override]
        return super()._snapshot(), copy.deepcopy(self.transfers.__dict__)

    def _restore(self, saved) -> None:  # type: ignore[override]
        rest, transfers = saved
        super()._restore(rest)
        self.transfers.stored, self.transfers.part_of = copy.deepcopy((transfers["stored"], transfers["part_of"]))
        self.transfers.payouts, self.transfers.profiles = self.ledger.payouts, self.profiles
