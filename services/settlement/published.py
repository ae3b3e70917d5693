"""What the settlement service lets other packages read (the only module of services/settlement
that another package may import: the `published_only` import contract).

Tables, for reading only; only services/settlement writes them:
* `tier_prices`: the tier tables by effective date (the batch prices each day's views);
* `month_closings`: which months are closed (the batch copies a closed day before it
  recomputes it; the data version counts closings; the archive archives closed months only);
* `closed_lines`: a closed month's frozen statement lines (the statistics service shows a
  closed month's frozen figures).
"""

from __future__ import annotations

from services.settlement.tables import closed_lines, month_closings, tier_prices

__all__ = ["closed_lines", "month_closings", "tier_prices"]
