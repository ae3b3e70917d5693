"""The fakes of the payout profile and tax ports (tests/fakes/taxes.py) answer as the SQL
adapter (services/settlement/taxes_repository.py) does, on MariaDB and SQLite: the same port
calls against both must give equal answers; the stored breakdowns are the hand-worked ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from domain.taxes import DEFAULT_RATES, Breakdown, TaxRates, TaxType
from services.settlement import repository
from services.settlement.ports import NewPayout, UnitOfWork
from tests.databases import fresh_engine
from tests.fakes.settlement import FakeUnitOfWork
from tests.fakes.taxes import business, individual

JAN, FEB = dt.date(2012, 1, 1), dt.date(2012, 2, 1)
T0, NOW = 1_330_000_000_000_000, 1_330_000_000_500_000
MARCH_TABLE = TaxRates(dt.date(2012, 3, 1), Decimal("0.033"), Decimal("0.1"), Decimal("0.1"), 0, 1, 1, 1, "1208810004")
# Hand-worked (tests/unit/test_taxes.py): 33,334 -> 1,000 + 100, net 32,234; BUSINESS 33,333 ->
# VAT 3,333, net 36,666.
TAXED_7 = Breakdown(33_334, 1_000, 100, 0, 32_234)
TAXED_8 = Breakdown(33_333, 0, 0, 3_333, 36_666)


def scenario(new_uow: Callable[[], UnitOfWork]) -> list[object]:
    answers: list[object] = []
    with new_uow() as uow:
        answers += [uow.taxes.tables(), uow.profiles.get(7), uow.profiles.tax_types()]
        uow.profiles.put(individual(7))
        uow.profiles.put(business(8))
        uow.profiles.put(business(9))
        uow.profiles.put(individual(9))  # replaced: now INDIVIDUAL
        uow.taxes.replace(MARCH_TABLE)
        uow.closings.create_payouts(
            JAN,
            [
                NewPayout(7, 33_334, TaxType.INDIVIDUAL, TAXED_7),
                NewPayout(8, 33_333, TaxType.BUSINESS, TAXED_8),
                NewPayout(10, 50_000, None, None),
            ],
            T0,
        )
        uow.taxes.issue_invoices(JAN, None, "1234567891", dt.date(2012, 2, 10), T0)
        uow.commit()
    with new_uow() as uow:
        answers += [uow.profiles.get(8), uow.profiles.get(9), uow.profiles.tax_types(), uow.taxes.tables()]
        answers += [uow.ledger.payouts_of(7), uow.ledger.payouts_of(8), uow.taxes.held_payouts(10)]
        answers += [uow.taxes.invoices(JAN), uow.taxes.invoices(FEB), uow.taxes.held_payouts(7)]
        uow.profiles.put(business(10, "1208810004"))
        answers.append(uow.taxes.release(3, TaxType.BUSINESS, Breakdown(50_000, 0, 0, 5_000, 55_000), NOW))
        answers.append(uow.taxes.release(3, TaxType.BUSINESS, Breakdown(50_000, 0, 0, 5_000, 55_000), NOW))
        uow.taxes.issue_invoices(JAN, 10, "1208810004", dt.date(2012, 2, 10), NOW)
        uow.taxes.issue_invoices(JAN, None, "1234567891", dt.date(2012, 2, 10), NOW)  # none twice
        uow.commit()
    with new_uow() as uow:
        answers += [uow.ledger.payout(3), uow.taxes.held_payouts(10), uow.taxes.invoices(JAN)]
        uow.taxes.replace(DEFAULT_RATES)  # rolled back: no commit
    with new_uow() as uow:
        answers.append(uow.taxes.tables())
    return answers


def test_the_fake_answers_as_worked_out_by_hand():
    fake = FakeUnitOfWork()
    answers = scenario(lambda: fake)
    assert answers[0] == [DEFAULT_RATES]
    jan_7, jan_8 = answers[7][0], answers[8][0]
    assert (jan_7.tax_type, jan_7.breakdown, jan_8.breakdown) == (TaxType.INDIVIDUAL, TAXED_7, TAXED_8)
    (invoice,) = answers[10]
    assert (invoice.seller_id, invoice.supply_krw, invoice.vat_krw, invoice.seller_business_number) == (
        8,
        33_333,
        3_333,
        "1234567891",
    )
    assert answers[13:15] == [True, False]
    assert [i.seller_id for i in answers[-2]] == [8, 10] and answers[-1] == [DEFAULT_RATES, MARCH_TABLE]


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_the_sql_adapter_answers_as_the_fake(backend, tmp_path):
    fake = FakeUnitOfWork()
    expected = scenario(lambda: fake)
    with fresh_engine(backend, "paysystem_tax_ports_", tmp_path) as engine:
        sql = scenario(lambda: repository.SqlUnitOfWork(engine))
    assert sql == expected
