"""What the video service lets other packages read (the only module of services/video that
another package may import: the `published_only` import contract).

* `videos`, `plays`, `play_day_counts`: the tables, for reading only. The batch reads the
  catalogue and the play history in set-based SQL (by these names in its SQL text too); the
  read services join `videos` for titles and ownership. Only services/video writes them.
* `plays_per_day`: how many plays each local day holds (the batch's late-data check).
* `archived_days`: the local days of archived months, whose plays are gone for good.
* `RedisRealtime`, `sql_per_minute`: the realtime estimate's two stores (services/video/
  realtime.py), which ingest counts in; the statistics service reads them.
* `require_known_seller`: SellerNotFound for an id that names no seller (the read paths of a
  seller's figures answer 404 rather than zeros for it).
* `ensure_partitions`: the one maintenance call others make on the play history: monthly
  partitions ahead of today (the batch's runner calls it before a job, the CLI on demand).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from domain.errors import SellerNotFound
from domain.periods import month_end
from services.account.published import accounts
from services.video.partitions import ensure_partitions
from services.video.play_counts import per_day as plays_per_day
from services.video.realtime import RedisRealtime, sql_per_minute
from services.video.tables import archived_months, play_day_counts, plays, videos

__all__ = [
    "RedisRealtime",
    "archived_days",
    "ensure_partitions",
    "play_day_counts",
    "plays",
    "plays_per_day",
    "require_known_seller",
    "sql_per_minute",
    "videos",
]


def archived_days(conn: sa.Connection) -> set[dt.date]:
    """Every local day of the archived (or being archived) months."""
    out: set[dt.date] = set()
    for month in conn.execute(sa.select(archived_months.c.month)).scalars():
        day, last = month, month_end(month)
        while day <= last:
            out.add(day)
            day += dt.timedelta(days=1)
    return out


def require_known_seller(conn: sa.Connection, seller_id: int) -> None:
    """SellerNotFound unless an account with that id is a SELLER or owns a video (one
    primary-key read and one index probe; a known seller without figures reads as zeros)."""
    is_seller = sa.select(accounts.c.account_id).where(accounts.c.account_id == seller_id, accounts.c.role == "SELLER")
    owns_video = sa.select(videos.c.seller_id).where(videos.c.seller_id == seller_id).limit(1)
    if conn.execute(is_seller).first() is None and conn.execute(owns_video).first() is None:
        raise SellerNotFound(f"no seller {seller_id}", field="seller_id")
