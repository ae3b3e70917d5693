"""Use cases: the tier tables (video and ad unit prices) as managed data (docs/ledger.md,
"Tier tables").

An admin lists the tables and schedules one (both kinds at once) from a day strictly after
today and after the last closed month. Scheduling a day that already has a table replaces it:
that day is still in the future, so nothing has been priced with it. The batch already prices
each day with the table in force that day (batch/steps/daily.py, tier_tables).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

import sqlalchemy as sa

from domain import pricing
from domain.audit_chain import AuditEvent, summary_json
from domain.periods import parse_day
from services.common.auth import Principal, require_role
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement import tiers_repository
from services.settlement.ports import TierUnitOfWork
from services.settlement.retries import ATTEMPTS, retried

Tier = pricing.Tier  # (lower_bound, unit_price)


@dataclasses.dataclass(frozen=True)
class TierTable:
    effective_from: dt.date
    video: tuple[Tier, ...]
    ad: tuple[Tier, ...]


def sql_unit_of_work(engine: sa.Engine) -> TierUnitOfWork:
    """The SQL unit of work (tiers_repository.SqlTierUnitOfWork), for callers holding an
    engine: the servicer and tests. One per use case call."""
    return tiers_repository.SqlTierUnitOfWork(engine)


def list_tier_tables(uow: TierUnitOfWork, principal: Principal) -> list[TierTable]:
    """Every table, by effective date (the seeded one from 1970-01-01 first)."""
    require_role(principal, "ADMIN")
    with uow:
        prices = uow.tiers.prices()
    by_day: dict[dt.date, dict[str, list[Tier]]] = defaultdict(lambda: {"VIEW": [], "AD": []})
    for price in prices:
        by_day[price.effective_from][price.kind].append((price.lower_bound, price.unit_price))
    return [
        TierTable(effective_from=day, video=tuple(kinds["VIEW"]), ad=tuple(kinds["AD"]))
        for day, kinds in sorted(by_day.items())
    ]


def schedule_tier_table(
    uow: TierUnitOfWork,
    principal: Principal,
    effective_from: str,
    video: list[tuple[int, str]],
    ad: list[tuple[int, str]],
    *,
    today: dt.date,
    clock: Clock = SYSTEM_CLOCK,
) -> TierTable:
    """Stores the table from `effective_from` (replacing that day's table if there is one)
    and returns it as stored; BadTierTable (nothing stored) for a malformed table or a day
    that is not after today and after the last closed month."""
    require_role(principal, "ADMIN")
    pricing.require_sizes(video, ad)
    day = parse_day(effective_from, "effective_from")
    table = TierTable(
        effective_from=day,
        video=pricing.parse_tiers(video, "video"),
        ad=pricing.parse_tiers(ad, "ad"),
    )
    pricing.require_schedulable(day, today, None)

    def write() -> None:
        with uow:
            pricing.require_schedulable(day, today, uow.tiers.last_closed_month())
            uow.tiers.replace(day, {"VIEW": table.video, "AD": table.ad})
            uow.audit.record(_scheduled_event(principal, table), clock.now_us())
            uow.commit()

    # Two admins replacing one day at once: the loser's insert clashes, and it is written again.
    retried(write, ATTEMPTS)
    return table


def _scheduled_event(principal: Principal, table: TierTable) -> AuditEvent:
    """The audit entry of a scheduled table: its tiers (lower bound, unit price)."""
    tiers = {
        "video": [[lower, str(price)] for lower, price in table.video],
        "ad": [[lower, str(price)] for lower, price in table.ad],
    }
    target = f"tier_table:{table.effective_from.isoformat()}"
    return AuditEvent(principal.account_id, "tier_table.schedule", target, "", summary_json(tiers))
