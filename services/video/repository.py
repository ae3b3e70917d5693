"""SQL access for the video service: videos, the play log and resume positions."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.schema import accounts, plays, resume_positions, videos


def insert_video(conn: sa.Connection, *, seller_id: int, title: str, duration_sec: int, created_at_us: int) -> int:
    result = conn.execute(
        sa.insert(videos).values(
            seller_id=seller_id, title=title, duration_sec=duration_sec, created_at_us=created_at_us
        )
    )
    return int(result.inserted_primary_key[0])


def video_by_id(conn: sa.Connection, video_id: int) -> sa.Row | None:
    return conn.execute(sa.select(videos).where(videos.c.video_id == video_id)).first()


def videos_of_seller(conn: sa.Connection, seller_id: int, *, after_video_id: int, limit: int) -> list[sa.Row]:
    return list(
        conn.execute(
            sa.select(videos)
            .where(videos.c.seller_id == seller_id, videos.c.video_id > after_video_id)
            .order_by(videos.c.video_id)
            .limit(limit)
        )
    )


def durations(conn: sa.Connection, video_ids: list[int]) -> dict[int, int]:
    """video_id -> duration_sec for those of `video_ids` that exist."""
    if not video_ids:
        return {}
    rows = conn.execute(
        sa.select(videos.c.video_id, videos.c.duration_sec).where(videos.c.video_id.in_(video_ids))
    )
    return {int(r.video_id): int(r.duration_sec) for r in rows}


def existing_accounts(conn: sa.Connection, account_ids: list[int]) -> set[int]:
    if not account_ids:
        return set()
    rows = conn.execute(sa.select(accounts.c.account_id).where(accounts.c.account_id.in_(account_ids)))
    return {int(r.account_id) for r in rows}


# --- the play log -----------------------------------------------------------------------
# Rows are tuples in PLAY_COLUMNS order. Inserts skip event_ids that already exist and
# return the event_ids they did insert (INSERT IGNORE ... RETURNING on MariaDB >= 10.5,
# INSERT OR IGNORE ... RETURNING on SQLite >= 3.35): which events this statement stored is
# then exact even when another client races with the same event_ids, because InnoDB makes
# our insert of a key wait for the other transaction's insert of it to commit or roll back.

PLAY_COLUMNS = (
    "event_id",
    "video_id",
    "viewer_id",
    "started_at_us",
    "local_day",
    "start_position_sec",
    "end_position_sec",
    "received_at_us",
)
# SQLite allows 32,766 bound variables per statement.
_SQLITE_ROWS_PER_STATEMENT = 3_000


def _is_sqlite(conn: sa.Connection) -> bool:
    return conn.dialect.name == "sqlite"


def insert_plays(conn: sa.Connection, rows: list[tuple]) -> set[str] | None:
    """Inserts the rows whose event_id is new and returns the event_ids inserted.

    On MySQL this first tries the common case, a batch of new events, without RETURNING
    (reading back a row per event costs more than the insert): if every row went in, all
    are ours. Otherwise it returns None and the caller rolls back and calls
    `insert_plays_returning`, which says exactly which rows this statement inserted.
    """
    if not rows:
        return set()
    if _is_sqlite(conn):
        return insert_plays_returning(conn, rows)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_mysql_insert(conn, rows, returning=False))
        return {row[0] for row in rows} if cursor.rowcount == len(rows) else None
    finally:
        cursor.close()


def insert_plays_returning(conn: sa.Connection, rows: list[tuple]) -> set[str]:
    columns = ", ".join(PLAY_COLUMNS)
    inserted: set[str] = set()
    if _is_sqlite(conn):
        one = "(" + ", ".join("?" * len(PLAY_COLUMNS)) + ")"
        for start in range(0, len(rows), _SQLITE_ROWS_PER_STATEMENT):
            chunk = rows[start : start + _SQLITE_ROWS_PER_STATEMENT]
            sql = f"INSERT OR IGNORE INTO plays ({columns}) VALUES {', '.join([one] * len(chunk))} RETURNING event_id"
            result = conn.exec_driver_sql(sql, tuple(v for row in chunk for v in row))
            inserted.update(r[0] for r in result)
        return inserted
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_mysql_insert(conn, rows, returning=True))
        inserted.update(r[0] for r in cursor.fetchall())
    finally:
        cursor.close()
    return inserted


def _mysql_insert(conn: sa.Connection, rows: list[tuple], *, returning: bool) -> str:
    # pymysql binds parameters by quoting them into the statement on the client; doing the
    # same here with the driver's own escaping (for the one string column, under the
    # session's sql_mode) and int()/isoformat() for the others is what binding would send,
    # at a third of the CPU cost for 5,000-row statements.
    escape = conn.connection.dbapi_connection.escape  # quoted, under the session's sql_mode
    values = ",".join(
        f"({escape(str(event_id))},{int(video_id)},{int(viewer_id)},{int(started_at_us)},"
        f"'{local_day.isoformat()}',{int(start)},{int(end)},{int(received)})"
        for event_id, video_id, viewer_id, started_at_us, local_day, start, end, received in rows
    )
    sql = f"INSERT IGNORE INTO plays ({', '.join(PLAY_COLUMNS)}) VALUES {values}"
    return sql + " RETURNING event_id" if returning else sql


def stored_plays(conn: sa.Connection, event_ids: list[str]) -> dict[str, tuple]:
    """event_id -> (video_id, viewer_id, started_at_us, start_position_sec, end_position_sec)."""
    if not event_ids:
        return {}
    out: dict[str, tuple] = {}
    for start in range(0, len(event_ids), _SQLITE_ROWS_PER_STATEMENT):
        rows = conn.execute(
            sa.select(
                plays.c.event_id,
                plays.c.video_id,
                plays.c.viewer_id,
                plays.c.started_at_us,
                plays.c.start_position_sec,
                plays.c.end_position_sec,
            ).where(plays.c.event_id.in_(event_ids[start : start + _SQLITE_ROWS_PER_STATEMENT]))
        )
        for r in rows:
            out[r.event_id] = (
                int(r.video_id),
                int(r.viewer_id),
                int(r.started_at_us),
                int(r.start_position_sec),
                int(r.end_position_sec),
            )
    return out


# --- resume positions -------------------------------------------------------------------
# A conditional upsert: a row changes only for a playback that is newer by
# (started_at_us, event_id), so a late, older event never overwrites a newer position.
# Atomic per row on both engines (InnoDB row lock; SQLite's single writer).

_RESUME_MYSQL = """
INSERT INTO resume_positions (viewer_id, video_id, position_sec, started_at_us, event_id, updated_at_us)
VALUES {values}
ON DUPLICATE KEY UPDATE
  position_sec = IF({newer}, VALUES(position_sec), position_sec),
  updated_at_us = IF({newer}, VALUES(updated_at_us), updated_at_us),
  event_id = IF({newer}, VALUES(event_id), event_id),
  started_at_us = GREATEST(started_at_us, VALUES(started_at_us))
""".replace(
    "{newer}",
    # MySQL applies the assignments left to right, each seeing the ones before it: the
    # columns that `newer` reads are assigned last (and started_at_us by GREATEST, which
    # gives the same result whether or not event_id was just replaced).
    "(VALUES(started_at_us) > started_at_us OR "
    "(VALUES(started_at_us) = started_at_us AND VALUES(event_id) > event_id))",
)

_RESUME_SQLITE = """
INSERT INTO resume_positions (viewer_id, video_id, position_sec, started_at_us, event_id, updated_at_us)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (viewer_id, video_id) DO UPDATE SET
  position_sec = excluded.position_sec,
  started_at_us = excluded.started_at_us,
  event_id = excluded.event_id,
  updated_at_us = excluded.updated_at_us
WHERE excluded.started_at_us > resume_positions.started_at_us
   OR (excluded.started_at_us = resume_positions.started_at_us AND excluded.event_id > resume_positions.event_id)
"""


def upsert_resume_positions(conn: sa.Connection, rows: list[tuple]) -> None:
    """rows: (viewer_id, video_id, position_sec, started_at_us, event_id, updated_at_us)."""
    if not rows:
        return
    if _is_sqlite(conn):
        conn.exec_driver_sql(_RESUME_SQLITE, rows)
        return
    escape = conn.connection.dbapi_connection.escape  # as in _mysql_insert
    values = ",".join(
        f"({int(viewer)},{int(video)},{int(position)},{int(started)},{escape(str(event_id))},{int(updated)})"
        for viewer, video, position, started, event_id, updated in rows
    )
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_RESUME_MYSQL.replace("{values}", values, 1))
    finally:
        cursor.close()


def resume_position(conn: sa.Connection, viewer_id: int, video_id: int) -> sa.Row | None:
    return conn.execute(
        sa.select(resume_positions.c.position_sec, resume_positions.c.updated_at_us).where(
            resume_positions.c.viewer_id == viewer_id, resume_positions.c.video_id == video_id
        )
    ).first()
