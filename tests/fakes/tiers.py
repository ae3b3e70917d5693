"""In-memory fakes of services/settlement/ports.py's TierTables and TierUnitOfWork for the
tier table use-case tests (tests/unit/test_tier_use_cases.py). They keep the SQL adapter's
contract (checked against it by tests/integration/test_tier_ports_contract.py): tiers by
effective_from, kind and lower_bound; a replace makes that day's tables of the given kinds
exactly the new ones; writes kept only on commit."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from decimal import Decimal

from services.settlement.ports import TierPrice, WriteConflict
from tests.fakes.unit_of_work import SnapshotUnitOfWork


@dataclasses.dataclass
class FakeTierTables:
    """rows: the tier_prices rows; closed_months: the months closed (their first days);
    clashes: how many replaces still end as a concurrent replace of the same day would."""

    rows: list[TierPrice] = dataclasses.field(default_factory=list)
    closed_months: list[dt.date] = dataclasses.field(default_factory=list)
    clashes: int = 0
    replaces: int = 0

    def prices(self) -> list[TierPrice]:
        return sorted(self.rows, key=lambda p: (p.effective_from, p.kind, p.lower_bound))

    def last_closed_month(self) -> dt.date | None:
        return max(self.closed_months, default=None)

    def replace(self, effective_from: dt.date, tables: dict[str, tuple[tuple[int, Decimal], ...]]) -> None:
        self.replaces += 1
        if self.clashes:
            self.clashes -= 1
            raise WriteConflict(RuntimeError(f"duplicate key: a concurrent table from {effective_from}"))
        self.rows = [p for p in self.rows if not (p.effective_from == effective_from and p.kind in tables)]
        self.rows += [
            TierPrice(kind, effective_from, lower, price) for kind, tiers in tables.items() for lower, price in tiers
        ]


class FakeTierUnitOfWork(SnapshotUnitOfWork):
    """ports.TierUnitOfWork over a FakeTierTables: `committed`, `commits`; leaving the block
    without a commit puts the rows back as they were at its start."""

    def __init__(self, tiers: FakeTierTables | None = None) -> None:
        super().__init__()
        self.tiers = tiers or FakeTierTables()

    def _snapshot(self) -> list[TierPrice]:
        return copy.copy(self.tiers.rows)

    def _restore(self, saved: list[TierPrice]) -> None:
        self.tiers.rows = copy.copy(saved)
