"""What the batch lets other packages read (the only module of batch/ that another package may
import: the `published_only` import contract).

* The figures, for reading only (only the batch writes them): `daily_video_stats`,
  `period_video_stats`, the frozen copies of closed days (`frozen_days`,
  `frozen_daily_stats`), `computed_days`, the audience retention
  (`video_daily_retention`), and the per-rule exclusion columns
  (`RULE_EXCLUSION_COLUMNS`).
* `days_to_compute`: which local days are not computed or stale (the ledger refuses to close
  a month that has one; the archive refuses to archive it).
* `read_data_state`: the data version read services key their caches by, with the trust
  window the batch publishes, and `publication_delay_sec`, how long a publisher of new
  figures waits before it reports them visible (batch/data_state.py; the ledger's close
  waits it out too).
"""

from __future__ import annotations

from batch.computed_days import days_to_compute
from batch.data_state import publication_delay_sec, read_data_state
from batch.tables import (
    RULE_EXCLUSION_COLUMNS,
    computed_days,
    daily_video_stats,
    frozen_daily_stats,
    frozen_days,
    period_video_stats,
    video_daily_retention,
)

__all__ = [
    "RULE_EXCLUSION_COLUMNS",
    "computed_days",
    "daily_video_stats",
    "days_to_compute",
    "frozen_daily_stats",
    "frozen_days",
    "period_video_stats",
    "publication_delay_sec",
    "read_data_state",
    "video_daily_retention",
]
