"""The ingest's one fast path: the VALUES of its multi-row statements as literal SQL text.

Everything else in the video service binds parameters. These two statements carry up to
5,000 rows each, and binding every value through pymysql (which quotes each one into the
statement on the client, one Python call per value) cost 10-11 µs of client CPU per play
row against 2.8 µs for this text, measured side by side by `bench/bench_ingest.py`
(docs/ingest.md, "Bound parameters and the literal fast path"): the video service's CPU per
stored playback would roughly double.

Why the text is safe: numbers are written by int() (which refuses anything that is not an
integer), days are checked to be ISO dates, and texts are quoted by the driver's own
escape under the connection's sql_mode, the function pymysql's parameter binding calls.
tests/integration/test_ingest_literal_sql.py proves with hostile texts (quotes, backslashes,
NUL, emoji, the separator and look-alikes) that these statements store exactly what the
bound-parameter statements store.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from services.common.db import dbapi_connection

if TYPE_CHECKING:
    import pymysql

# Joins the texts for the one escape call; a text that holds it is escaped on its own.
_SEPARATOR = "\x01"


def quoted_texts(conn: sa.Connection, texts: list[str]) -> list[str]:
    """Each text as a quoted string literal, escaped by the driver in one call: the texts are
    joined with a control character that the escaping leaves alone, escaped, and split."""
    escape = cast("pymysql.Connection[Any]", dbapi_connection(conn)).escape
    joined = _SEPARATOR.join(texts)
    if joined.count(_SEPARATOR) != len(texts) - 1:
        return [escape(str(t)) for t in texts]
    return [f"'{t}'" for t in escape(joined)[1:-1].split(_SEPARATOR)]


def check_days(days) -> None:
    """Refuses any day that is not a date or an ISO date string (written as str() gives it)."""
    for day in set(days):
        if dt.date.fromisoformat(str(day)).isoformat() != str(day):
            raise ValueError(f"local_day: not an ISO date: {day!r}")


def play_values(conn: sa.Connection, rows: list[tuple], received_at_us: int) -> str:
    """rows: (event_id, video_id, viewer_id, started_at_us, local_day, start, end)."""
    check_days(row[4] for row in rows)
    ids = quoted_texts(conn, [row[0] for row in rows])
    received = int(received_at_us)
    return ",".join(
        [
            f"({event_id},{int(video_id)},{int(viewer_id)},{int(started_at_us)},"
            f"'{local_day}',{int(start)},{int(end)},{received})"
            for event_id, (_, video_id, viewer_id, started_at_us, local_day, start, end) in zip(ids, rows, strict=True)
        ]
    )


def event_id_values(conn: sa.Connection, rows: list[tuple]) -> str:
    """rows as play_values takes them: the (event_id, local_day) VALUES of play_event_ids."""
    check_days(row[4] for row in rows)
    ids = quoted_texts(conn, [row[0] for row in rows])
    return ",".join([f"({event_id},'{row[4]}')" for event_id, row in zip(ids, rows, strict=True)])


def resume_values(conn: sa.Connection, rows: list[tuple]) -> str:
    """rows: (viewer_id, video_id, position_sec, started_at_us, event_id, updated_at_us)."""
    ids = quoted_texts(conn, [row[4] for row in rows])
    return ",".join(
        [
            f"({int(viewer)},{int(video)},{int(position)},{int(started)},{event_id},{int(updated)})"
            for event_id, (viewer, video, position, started, _, updated) in zip(ids, rows, strict=True)
        ]
    )
