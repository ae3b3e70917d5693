"""The tier table use cases (services/settlement/tiers.py) against the in-memory fakes
(tests/fakes/tiers.py): no database. Each refusal is checked to commit nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from domain.errors import BadTierTable, RoleNotAllowed
from services.common.auth import Principal
from services.settlement import tiers
from services.settlement.ports import TierPrice
from tests.fakes.tiers import FakeTierTables, FakeTierUnitOfWork

ADMIN, SELLER = Principal(1, "admin", "ADMIN"), Principal(7, "s7", "SELLER")
EPOCH, TODAY = dt.date(1970, 1, 1), dt.date(2026, 5, 20)
SEEDED = [
    TierPrice("VIEW", EPOCH, 0, Decimal("1.0")),
    TierPrice("VIEW", EPOCH, 100_000, Decimal("0.5")),
    TierPrice("AD", EPOCH, 0, Decimal("10")),
]


def seeded(**kwargs) -> FakeTierUnitOfWork:
    return FakeTierUnitOfWork(FakeTierTables(rows=list(SEEDED), **kwargs))


def test_the_tables_are_listed_by_day_each_kind_by_lower_bound():
    uow = seeded()
    uow.tiers.rows.insert(0, TierPrice("AD", dt.date(2026, 6, 1), 0, Decimal("7.25")))
    uow.tiers.rows.insert(0, TierPrice("VIEW", dt.date(2026, 6, 1), 0, Decimal("2")))
    listed = tiers.list_tier_tables(uow, ADMIN)
    assert listed == [
        tiers.TierTable(EPOCH, ((0, Decimal("1.0")), (100_000, Decimal("0.5"))), ((0, Decimal("10")),)),
        tiers.TierTable(dt.date(2026, 6, 1), ((0, Decimal("2")),), ((0, Decimal("7.25")),)),
    ]
    assert uow.commits == 0


def test_a_scheduled_table_is_stored_and_replaces_that_days_table():
    uow = seeded()
    first = tiers.schedule_tier_table(uow, ADMIN, "2026-06-01", [(0, "2.0"), (1000, "1")], [(0, "3")], today=TODAY)
    assert first == tiers.TierTable(
        dt.date(2026, 6, 1), ((0, Decimal("2.0")), (1000, Decimal("1"))), ((0, Decimal("3")),)
    )
    again = tiers.schedule_tier_table(uow, ADMIN, "2026-06-01", [(0, "9")], [(0, "8.5")], today=TODAY)
    assert uow.commits == 2
    assert tiers.list_tier_tables(uow, ADMIN)[1:] == [again]
    assert again.video == ((0, Decimal("9")),) and again.ad == ((0, Decimal("8.5")),)


@pytest.mark.parametrize(
    ("principal", "day", "video", "closed", "error", "match"),
    [
        (SELLER, "2026-06-01", [(0, "1")], [], RoleNotAllowed, None),
        (ADMIN, "2026-05-20", [(0, "1")], [], BadTierTable, r"after today \(2026-05-20\)"),
        (ADMIN, "2026-06-30", [(0, "1")], [dt.date(2026, 6, 1)], BadTierTable, "after the last closed month"),
        (ADMIN, "2026-06-01", [(5, "1")], [], BadTierTable, "must start at lower_bound 0"),
        (ADMIN, "2026-06-01", [(0, "1.23456")], [], BadTierTable, "non-negative decimal"),
        (ADMIN, "2026-06-01", [], [], BadTierTable, "is required"),
    ],
)
def test_a_refused_table_commits_nothing(principal, day, video, closed, error, match):
    uow = seeded(closed_months=closed)
    with pytest.raises(error, match=match):
        tiers.schedule_tier_table(uow, principal, day, video, [(0, "1")], today=TODAY)
    assert uow.commits == 0 and uow.tiers.rows == SEEDED


def test_a_clash_with_a_concurrent_replace_retries_and_the_third_clash_is_raised():
    uow = seeded(clashes=2)
    table = tiers.schedule_tier_table(uow, ADMIN, "2026-07-01", [(0, "4")], [(0, "5")], today=TODAY)
    assert uow.tiers.replaces == 3 and uow.commits == 1
    assert tiers.list_tier_tables(uow, ADMIN)[-1] == table

    uow = seeded(clashes=tiers.ATTEMPTS)
    with pytest.raises(RuntimeError, match="duplicate key"):  # what the storage raised
        tiers.schedule_tier_table(uow, ADMIN, "2026-07-01", [(0, "4")], [(0, "5")], today=TODAY)
    assert uow.tiers.replaces == tiers.ATTEMPTS and uow.commits == 0 and uow.tiers.rows == SEEDED
