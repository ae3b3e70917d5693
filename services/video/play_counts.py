"""Plays stored per local day (`play_day_counts`), kept in the writers' own transactions.

Why: the batch's late-data check (batch/computed_days.py) compares each computed
day's `plays_read` with the plays the day holds now. Counting them from `plays` cost about
0.1 s per million stored plays before every run; these counts make the check cost a few rows
per day, whatever the history's size (docs/scaling.md, "History that grows").

Every writer of `plays` adds what it stored, in the same transaction as the rows (so a
snapshot never sees a play without its count, or the reverse): ingest through `add`; a bulk
load that bypasses ingest calls `recount` for the days it loaded. Each call adds to one of
`SLOTS` rows per day, picked at random, so concurrent ingest transactions rarely wait on the
same row lock; a day's count is the sum of its slots. Plays are never deleted, except by the
archival of a closed month (services/video/archive.py), which keeps these counts: the
archived days' statistics stay current.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, sqlite

from services.video.tables import play_day_counts

SLOTS = 8


def add(conn: sa.Connection, plays_by_day: Mapping[dt.date | str, int], *, slot: int | None = None) -> None:
    """Adds `plays_by_day` (local day, as a date or ISO string -> plays stored) to the counts,
    on `slot` (0..SLOTS-1; random if None: a test that holds two writers open picks theirs)."""
    if not plays_by_day:
        return
    slot = random.randrange(SLOTS) if slot is None else slot
    rows = sorted(  # one lock order for every writer
        (_as_date(day), n) for day, n in plays_by_day.items() if n
    )
    if rows:
        conn.execute(_upsert_adding(conn), [{"local_day": d, "slot": slot, "plays": n} for d, n in rows])


def per_day(conn: sa.Connection) -> dict[dt.date, int]:
    """local day -> plays stored (archived plays included), for every day that has plays."""
    t = play_day_counts
    total = sa.func.sum(t.c.plays).label("plays")
    query = sa.select(t.c.local_day, total).group_by(t.c.local_day).having(total > 0)
    return {row.local_day: int(row.plays) for row in conn.execute(query)}


def recount(conn: sa.Connection, days: Iterable[dt.date] | None = None) -> None:
    """Sets the counts of `days` (every day if None) to what `plays` holds: for bulk loads
    that bypass ingest. Not for days whose plays are archived (their rows are gone)."""
    t = play_day_counts
    plays = sa.table("plays", sa.column("local_day", sa.Date))
    recounted = sa.select(plays.c.local_day, sa.literal(0).label("slot"), sa.func.count().label("plays"))
    if days is None:
        conn.execute(sa.delete(t))
    else:
        chosen = sorted(set(days))
        if not chosen:
            return
        conn.execute(sa.delete(t).where(t.c.local_day.in_(chosen)))
        recounted = recounted.where(plays.c.local_day.in_(chosen))
    recounted = recounted.group_by(plays.c.local_day)
    conn.execute(sa.insert(t).from_select(["local_day", "slot", "plays"], recounted))


def _upsert_adding(conn: sa.Connection) -> sa.Insert:
    t = play_day_counts
    if conn.dialect.name == "sqlite":
        on_sqlite = sqlite.insert(t)
        return on_sqlite.on_conflict_do_update(
            index_elements=[t.c.local_day, t.c.slot], set_={"plays": t.c.plays + on_sqlite.excluded.plays}
        )
    on_mysql = mysql.insert(t)
    return on_mysql.on_duplicate_key_update(plays=t.c.plays + on_mysql.inserted.plays)


def _as_date(day: dt.date | str) -> dt.date:
    return day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
