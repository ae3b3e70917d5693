"""Pure rules of a scheduled tier table (DESIGN.md sections 2 "Prices" and 2a; docs/ledger.md,
"Tier tables"): what a table must look like and which days it may start on. No I/O.

The checks run in order of cost: sizes first (before anything is parsed), then each tier,
then the start day against today and the last closed month.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal

from domain.errors import BadTierTable
from domain.periods import schedule_problem

MAX_TIERS = 50  # per kind; the design's table has 4
PRICE_INTEGER_DIGITS = 8  # tier_prices.unit_price is Numeric(12, 4)
PRICE_DECIMALS = 4
MAX_LOWER_BOUND = 2**63 - 1  # BIGINT
KINDS = (("VIEW", "video"), ("AD", "ad"))  # (stored kind, API field)
_PRICE = re.compile(rf"[0-9]{{1,{PRICE_INTEGER_DIGITS}}}(\.[0-9]{{1,{PRICE_DECIMALS}}})?")  # ASCII digits only

Tier = tuple[int, Decimal]  # (lower_bound, unit_price)


def require_sizes(video: Sequence[object], ad: Sequence[object]) -> None:
    """Both lists present and at most MAX_TIERS each, checked before any tier is read."""
    for field, tiers in (("video", video), ("ad", ad)):
        if not tiers:
            raise BadTierTable("is required: at least one tier, the first from lower_bound 0", field=field)
        if len(tiers) > MAX_TIERS:
            raise BadTierTable(f"has {len(tiers)} tiers, at most {MAX_TIERS} are allowed", field=field)


def parse_price(text: str, field: str) -> Decimal:
    """An exact, non-negative decimal written plainly ("1.25"), at most 8 integer digits and
    4 decimal places (what Numeric(12, 4) holds without rounding)."""
    if not isinstance(text, str) or not _PRICE.fullmatch(text):
        raise BadTierTable(
            f"must be a non-negative decimal written like 1.25, at most {PRICE_INTEGER_DIGITS} digits before"
            f" the point and {PRICE_DECIMALS} after, got {str(text)[:40]!r}",
            field=field,
        )
    return Decimal(text)


def parse_tiers(pairs: list[tuple[int, str]], field: str) -> tuple[Tier, ...]:
    """Tiers of one kind: the first from 0, lower bounds strictly increasing, exact prices."""
    tiers: list[Tier] = []
    for i, (lower_bound, price_text) in enumerate(pairs):
        where = f"{field}[{i}]"
        if i == 0 and lower_bound != 0:
            raise BadTierTable(f"the first tier must start at lower_bound 0, got {lower_bound}", field=where)
        if not 0 <= lower_bound <= MAX_LOWER_BOUND:
            raise BadTierTable(f"lower_bound must be between 0 and {MAX_LOWER_BOUND}", field=where)
        if tiers and lower_bound <= tiers[-1][0]:
            raise BadTierTable(f"lower bounds must strictly increase: {lower_bound} after {tiers[-1][0]}", field=where)
        tiers.append((lower_bound, parse_price(price_text, f"{where}.unit_price")))
    return tuple(tiers)


def require_schedulable(effective_from: dt.date, today: dt.date, last_closed_month: dt.date | None) -> None:
    """DESIGN 2a (domain/periods.schedule_problem): no day the batch has priced, and no final
    figure, can change."""
    problem = schedule_problem(effective_from, today, last_closed_month)
    if problem:
        raise BadTierTable(problem, field="effective_from")
