"""Use cases: the tier tables (video and ad unit prices) as managed data (docs/ledger.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from services.common.auth import Principal

Tier = tuple[int, Decimal]  # (lower_bound, unit_price)


@dataclasses.dataclass(frozen=True)
class TierTable:
    effective_from: dt.date
    video: tuple[Tier, ...]
    ad: tuple[Tier, ...]


def list_tier_tables(engine: sa.Engine, principal: Principal) -> list[TierTable]:
    raise NotImplementedError


def schedule_tier_table(
    engine: sa.Engine,
    principal: Principal,
    effective_from: str,
    video: list[tuple[int, str]],
    ad: list[tuple[int, str]],
    *,
    today: dt.date,
) -> TierTable:
    raise NotImplementedError
