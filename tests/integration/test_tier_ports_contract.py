"""The fake of the tier table ports (tests/fakes/tiers.py) answers as the SQL adapter
(services/settlement/tiers_repository.py) does: the same seed and the same port calls
against both, on MariaDB and SQLite, must give equal answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa

from services.settlement import tiers_repository
from services.settlement.ports import TierPrice, TierUnitOfWork, WriteConflict
from services.settlement.tables import month_closings, tier_prices
from tests.databases import fresh_engine
from tests.fakes.tiers import FakeTierTables, FakeTierUnitOfWork

JAN, JUN, JUL = dt.date(2031, 1, 1), dt.date(2031, 6, 1), dt.date(2031, 7, 1)
SEED = [
    TierPrice("VIEW", JUN, 0, Decimal("2.5")),
    TierPrice("AD", JUN, 0, Decimal("7.25")),
    TierPrice("VIEW", JUN, 1000, Decimal("1.0001")),
]


def scenario(new_uow: Callable[[], TierUnitOfWork]) -> list[object]:
    answers: list[object] = []
    with new_uow() as uow:
        answers += [uow.tiers.prices(), uow.tiers.last_closed_month()]
    with new_uow() as uow:
        uow.tiers.replace(JUN, {"VIEW": ((0, Decimal("3")), (50, Decimal("0.1234")))})  # the AD table stays
        uow.tiers.replace(
            JUL,
            {
                "VIEW": (
                    (
                        0,
                        Decimal("9"),
                    ),
                ),
                "AD": ((0, Decimal("8")),),
            },
        )
        uow.commit()
    with new_uow() as uow:
        answers.append(uow.tiers.prices())
        uow.tiers.replace(JUL, {"VIEW": ((0, Decimal("1")),), "AD": ((0, Decimal("1")),)})
        # no commit: leaving the block rolls back
    with new_uow() as uow:
        answers.append(uow.tiers.prices())
    return answers


def fake_world() -> Callable[[], TierUnitOfWork]:
    fake = FakeTierTables(rows=list(SEED), closed_months=[JAN])
    return lambda: FakeTierUnitOfWork(fake)


def seed_sql(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(tier_prices), [p._asdict() for p in SEED])
        closing = dict.fromkeys(("closed_at_us", "closed_by", "sellers", "lines", "adjustment_lines"), 1)
        closing |= {"earnings": 0, "adjustments": 0, "payouts_created": 0, "payouts_krw": 0}
        conn.execute(sa.insert(month_closings), [{"month": JAN, **closing}])


def _ours(answers: list[object]) -> list[object]:
    """Only the rows of the scenario's days (the migrations seed the 1970 table)."""
    return [[p for p in a if p.effective_from >= JUN] if isinstance(a, list) else a for a in answers]


def test_the_fake_answers_as_worked_out_by_hand():
    answers = scenario(fake_world())
    assert answers[0] == [SEED[1], SEED[0], SEED[2]]  # by day, kind ("AD" < "VIEW"), bound
    assert answers[1] == JAN
    assert (
        answers[2]
        == answers[3]
        == [
            SEED[1],
            TierPrice("VIEW", JUN, 0, Decimal("3")),
            TierPrice("VIEW", JUN, 50, Decimal("0.1234")),
            TierPrice("AD", JUL, 0, Decimal("8")),
            TierPrice("VIEW", JUL, 0, Decimal("9")),
        ]
    )


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_the_sql_adapter_answers_as_the_fake(backend, tmp_path):
    with fresh_engine(backend, "paysystem_tier_ports_", tmp_path) as engine:
        seed_sql(engine)
        sql = _ours(scenario(lambda: tiers_repository.SqlTierUnitOfWork(engine)))
    assert sql == scenario(fake_world())


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_a_duplicate_key_ends_the_sql_unit_of_work_in_write_conflict_rolled_back(backend, tmp_path):
    with fresh_engine(backend, "paysystem_tier_ports_", tmp_path) as engine:
        seed_sql(engine)
        uow = tiers_repository.SqlTierUnitOfWork(engine)
        with pytest.raises(WriteConflict) as raised, uow:
            uow.tiers.replace(JUL, {"VIEW": ((0, Decimal("1")), (0, Decimal("2")))})
        assert isinstance(raised.value.storage_error, sa.exc.IntegrityError)
        with uow:
            assert _ours([uow.tiers.prices()]) == [sorted(SEED, key=lambda p: (p.kind, p.lower_bound))]
