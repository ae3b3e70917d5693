"""The fake of the transfer files port (tests/fakes/transfers.py) answers as the SQL adapter
(services/settlement/transfers_repository.py) does, on MariaDB and SQLite: the same port calls
against both must give equal answers; the rows are the hand-worked ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from domain.ledger import PayoutStatus
from domain.taxes import Breakdown, TaxType
from services.settlement.ports import NewPayout, WriteConflict
from services.settlement.transfer_ports import TransferFile, TransferRow, TransferUnitOfWork
from services.settlement.transfers_repository import SqlTransferUnitOfWork
from tests.databases import fresh_engine
from tests.fakes.taxes import business, individual
from tests.fakes.transfers import FakeTransferUnitOfWork

JAN, FEB = dt.date(2012, 1, 1), dt.date(2012, 2, 1)
T0, NOW = 1_330_000_000_000_000, 1_330_000_000_500_000
TAXED_7 = Breakdown(33_334, 1_000, 100, 0, 32_234)
TAXED_8 = Breakdown(33_333, 0, 0, 3_333, 36_666)
TAXED_10 = Breakdown(50_000, 1_500, 150, 0, 48_350)


def scenario(new_uow: Callable[[], TransferUnitOfWork]) -> list[object]:
    answers: list[object] = []
    with new_uow() as uow:
        uow.profiles.put(individual(7))
        uow.profiles.put(business(8))
        uow.closings.claim(FEB, 1, T0)
        payouts = [
            NewPayout(7, 33_334, TaxType.INDIVIDUAL, TAXED_7),
            NewPayout(8, 33_333, TaxType.BUSINESS, TAXED_8),
            NewPayout(10, 50_000, None, None),  # HELD: no profile
        ]
        uow.closings.create_payouts(FEB, payouts, T0)
        uow.commit()
    with new_uow() as uow:
        answers += [uow.transfers.files(), uow.transfers.unfiled_counts()]
        answers.append(uow.transfers.month_payouts(FEB, None, after_payout_id=0, limit=10))
        uow.closings.approve(FEB, 2, NOW)
        uow.commit()
    with new_uow() as uow:
        answers.append(uow.transfers.unfiled_counts())
        uow.transfers.claim(FEB, 1, NOW, 1)
        rows = uow.transfers.take_unfiled(FEB, 1)
        answers.append(rows)
        uow.transfers.store(TransferFile(FEB, 1, "a" * 64, len(rows), 69_900, NOW, 1), b"part one")
        uow.commit()
    with new_uow() as uow:
        answers += [uow.transfers.files(), uow.transfers.files_of(FEB), uow.transfers.files_of(JAN)]
        answers += [uow.transfers.data(FEB, 1), uow.transfers.unfiled_counts()]
    with pytest.raises(WriteConflict):  # the part exists: a second claim loses
        with new_uow() as uow:
            uow.transfers.claim(FEB, 1, NOW, 2)
    with new_uow() as uow:
        uow.profiles.put(individual(10))
        uow.taxes.release(3, TaxType.INDIVIDUAL, TAXED_10, NOW, PayoutStatus.APPROVED)
        uow.commit()
    with new_uow() as uow:
        answers.append(uow.transfers.unfiled_counts())
        answers.append(uow.transfers.month_payouts(FEB, PayoutStatus.APPROVED, after_payout_id=0, limit=10))
        answers.append(uow.transfers.month_payouts(FEB, None, after_payout_id=1, limit=1))
        uow.transfers.claim(FEB, 2, NOW, 1)
        answers.append(uow.transfers.take_unfiled(FEB, 2))  # rolled back: no commit
    with new_uow() as uow:
        answers += [uow.transfers.files(), uow.transfers.unfiled_counts()]
    return answers


def test_the_fake_answers_as_worked_out_by_hand():
    fake = FakeTransferUnitOfWork()
    answers = scenario(lambda: fake)
    assert answers[:2] == [[], {}]
    assert [(p.payout_id, p.seller_id, p.status) for p in answers[2]] == [
        (1, 7, PayoutStatus.PENDING),
        (2, 8, PayoutStatus.PENDING),
        (3, 10, PayoutStatus.HELD),
    ]
    assert answers[3] == {FEB: 2}
    assert answers[4] == [
        TransferRow(1, 7, "004", "12345678901234", "Seller 7", 32_234),
        TransferRow(2, 8, "088", "1102345678", "Company 8", 36_666),
    ]
    part1 = TransferFile(FEB, 1, "a" * 64, 2, 69_900, NOW, 1)
    assert answers[5:10] == [[part1], [part1], [], b"part one", {}]
    assert answers[10] == {FEB: 1}
    assert [p.payout_id for p in answers[11]] == [1, 2, 3] and [p.payout_id for p in answers[12]] == [2]
    assert answers[13] == [TransferRow(3, 10, "004", "12345678901234", "Seller 10", 48_350)]
    assert answers[14:] == [[part1], {FEB: 1}]


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_the_sql_adapter_answers_as_the_fake(backend, tmp_path):
    fake = FakeTransferUnitOfWork()
    expected = scenario(lambda: fake)
    with fresh_engine(backend, "paysystem_transfer_ports_", tmp_path) as engine:
        sql = scenario(lambda: SqlTransferUnitOfWork(engine))
    assert sql == expected
