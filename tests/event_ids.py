"""Tests that write `plays` directly (bypassing ingest) write play_event_ids with them, as
ingest does (migration 0014: event_id's uniqueness lives there)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from services.video.tables import play_event_ids, plays


def insert_plays(conn: sa.Connection, rows: Mapping | Sequence[Mapping]) -> None:
    """Inserts `rows` (dicts of plays' columns) into plays and their ids into play_event_ids,
    event ids first, like ingest (a duplicate event_id fails on play_event_ids)."""
    rows = [rows] if isinstance(rows, Mapping) else list(rows)
    if not rows:
        return
    conn.execute(sa.insert(play_event_ids), [{"event_id": r["event_id"], "local_day": r["local_day"]} for r in rows])
    conn.execute(sa.insert(plays), [dict(r) for r in rows])


def record(conn: sa.Connection, rows: Sequence[Mapping]) -> None:
    """After an INSERT into plays written by hand: the event ids of `rows` (dicts with
    event_id and local_day, as a date or ISO string)."""
    if rows:
        conn.execute(
            sa.insert(play_event_ids), [{"event_id": r["event_id"], "local_day": _day(r["local_day"])} for r in rows]
        )


def copy_event_ids(conn: sa.Connection, where: str = "1 = 1", params: Mapping | None = None) -> None:
    """After a bulk load of `plays` by other means (LOAD DATA, INSERT ... SELECT): adds the
    event ids of the loaded plays (`where`, a condition on plays p) that play_event_ids lacks."""
    conn.execute(
        sa.text(
            "INSERT INTO play_event_ids (event_id, local_day) SELECT p.event_id, p.local_day FROM plays p"
            f" WHERE {where} AND NOT EXISTS (SELECT 1 FROM play_event_ids e WHERE e.event_id = p.event_id)"
        ),
        dict(params or {}),
    )


def _day(day):
    return dt.date.fromisoformat(day) if isinstance(day, str) else day
