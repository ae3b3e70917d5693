"""SQL access for the video service: videos, the play log and resume positions."""

from __future__ import annotations

import pymysql
import sqlalchemy as sa
from sqlalchemy.dialects.mysql.base import MySQLDialect

from services.account.published import accounts
from services.common.db import dbapi_connection, inserted_id
from services.video import sql_literals
from services.video.tables import archived_months, play_event_ids, plays, resume_positions, videos


def insert_video(conn: sa.Connection, *, seller_id: int, title: str, duration_sec: int, created_at_us: int) -> int:
    result = conn.execute(
        sa.insert(videos).values(
            seller_id=seller_id, title=title, duration_sec=duration_sec, created_at_us=created_at_us
        )
    )
    return inserted_id(result)


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
    rows = conn.execute(sa.select(videos.c.video_id, videos.c.duration_sec).where(videos.c.video_id.in_(video_ids)))
    return {int(r.video_id): int(r.duration_sec) for r in rows}


def existing_accounts(conn: sa.Connection, account_ids: list[int]) -> set[int]:
    if not account_ids:
        return set()
    rows = conn.execute(sa.select(accounts.c.account_id).where(accounts.c.account_id.in_(account_ids)))
    return {int(r.account_id) for r in rows}


# --- the play log -----------------------------------------------------------------------
# Rows are tuples (event_id, video_id, viewer_id, started_at_us, local_day as an ISO date
# string, start_position_sec, end_position_sec); received_at_us is the same for every row
# of a call.
#
# event_id's uniqueness lives in play_event_ids (migration 0014: a partitioned `plays` cannot
# hold a unique key without local_day): each statement below inserts the event ids first,
# into play_event_ids, and then the plays of the ids it inserted, in the same transaction.
# What is said below of "an insert of a key" is of play_event_ids.
#
# Which rows a call stored must be exact even when another client races with the same
# event_ids. Two ways, chosen by `exact_strategy` (the one place that decides):
# - RETURNING (MariaDB >= 10.5, SQLite >= 3.35): INSERT IGNORE / INSERT OR IGNORE ...
#   RETURNING event_id names the rows this statement inserted; InnoDB makes our insert of a
#   key wait for another transaction's insert of it to commit (ours is ignored) or roll back
#   (ours goes in).
# - SELECT_THEN_INSERT (MySQL 8, which has no INSERT ... RETURNING): read which event_ids
#   exist, then a plain INSERT (not IGNORE) of the others. A concurrent writer that inserted
#   one of them in between makes the INSERT fail with a duplicate key (1062, after waiting
#   for that writer to commit): the caller rolls back and tries the whole call again. When
#   the INSERT succeeds, every row it names is ours.

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
_STORED_COLUMNS = "event_id, video_id, viewer_id, started_at_us, start_position_sec, end_position_sec"
# SQLite allows 32,766 bound variables per statement.
_SQLITE_ROWS_PER_STATEMENT = 3_000


RETURNING = "returning"
SELECT_THEN_INSERT = "select_then_insert"
EXACT_STRATEGIES = (RETURNING, SELECT_THEN_INSERT)
DUPLICATE_KEY = 1062  # MySQL/MariaDB: ER_DUP_ENTRY


def _is_sqlite(conn: sa.Connection) -> bool:
    return conn.dialect.name == "sqlite"


def exact_strategy(conn: sa.Connection, forced: str | None = None) -> str:
    """How `insert_plays_exactly` learns which rows are ours on this server.

    RETURNING on SQLite and MariaDB, SELECT_THEN_INSERT on MySQL (no INSERT ... RETURNING).
    `forced` picks SELECT_THEN_INSERT on MariaDB too (tests run the MySQL 8 path on the real
    MariaDB this way); RETURNING cannot be forced where the server lacks it, and SQLite
    always uses RETURNING (one writer: nothing to race with).
    """
    if forced is not None and forced not in EXACT_STRATEGIES:
        raise ValueError(f"unknown exact insert strategy {forced!r}: one of {EXACT_STRATEGIES}")
    if _is_sqlite(conn):
        return RETURNING
    native = RETURNING if isinstance(conn.dialect, MySQLDialect) and conn.dialect.is_mariadb else SELECT_THEN_INSERT
    if forced == RETURNING and native != RETURNING:
        raise ValueError("INSERT ... RETURNING needs MariaDB >= 10.5; this server is MySQL")
    return forced or native


def mysql_error_code(exc: BaseException) -> int | None:
    """The MySQL error number of a driver error, raw (the statements here run on the DBAPI
    cursor, whose errors SQLAlchemy does not wrap) or wrapped by SQLAlchemy; None otherwise."""
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if not isinstance(orig, pymysql.err.MySQLError):
        return None
    args = getattr(orig, "args", ())
    return args[0] if args and isinstance(args[0], int) else None


def insert_plays(
    conn: sa.Connection, rows: list[tuple], received_at_us: int, *, bound: bool = False
) -> set[str] | None:
    """Inserts the rows whose event_id is new and returns the event_ids inserted.

    On MySQL this first tries without RETURNING (reading back a row per event costs more
    than the insert): if every row went in, all are ours; if none did, none are (a resent
    batch). Otherwise it returns None and the caller rolls back and calls
    `insert_plays_exactly`, which says exactly which rows it inserted.
    """
    if not rows:
        return set()
    if _is_sqlite(conn):
        return insert_plays_returning(conn, rows, received_at_us)
    count = _mysql_execute(conn, *_mysql_insert_ids(conn, rows, returning=False, bound=bound))
    if count == len(rows):
        _mysql_execute(conn, *_mysql_insert(conn, rows, received_at_us, returning=False, ignore=False, bound=bound))
        return {row[0] for row in rows}
    return set() if count == 0 else None


def insert_plays_exactly(
    conn: sa.Connection, rows: list[tuple], received_at_us: int, *, forced: str | None = None
) -> tuple[set[str], dict[str, tuple]]:
    """Inserts the rows whose event_id is new; returns the event_ids this call inserted and
    the stored content (as `stored_plays` gives it) of the others.

    With SELECT_THEN_INSERT this raises the driver's duplicate-key error (DUPLICATE_KEY)
    when a concurrent transaction inserted one of the missing event_ids meanwhile: roll back
    and call again (the event is then found by the SELECT).
    """
    if exact_strategy(conn, forced) == RETURNING:
        inserted = insert_plays_returning(conn, rows, received_at_us)
        return inserted, stored_plays(conn, [row[0] for row in rows if row[0] not in inserted])
    known = existing_event_ids(conn, [row[0] for row in rows])
    missing = [row for row in rows if row[0] not in known]
    if missing:
        _mysql_execute(conn, *_mysql_insert_ids(conn, missing, returning=False, ignore=False))
        _mysql_execute(conn, *_mysql_insert(conn, missing, received_at_us, returning=False, ignore=False))
    return {row[0] for row in missing}, stored_plays(conn, sorted(known))


def insert_plays_returning(
    conn: sa.Connection, rows: list[tuple], received_at_us: int, *, bound: bool = False
) -> set[str]:
    columns = ", ".join(PLAY_COLUMNS)
    inserted: set[str] = set()
    if _is_sqlite(conn):
        one = "(" + ", ".join("?" * len(PLAY_COLUMNS)) + ")"
        for start in range(0, len(rows), _SQLITE_ROWS_PER_STATEMENT):
            chunk = rows[start : start + _SQLITE_ROWS_PER_STATEMENT]
            sql = (
                "INSERT OR IGNORE INTO play_event_ids (event_id, local_day)"
                f" VALUES {', '.join(['(?, ?)'] * len(chunk))} RETURNING event_id"
            )
            result = conn.exec_driver_sql(sql, tuple(v for row in chunk for v in (row[0], row[4])))
            ours = {r[0] for r in result}
            inserted.update(ours)
            chunk = [row for row in chunk if row[0] in ours]
            if chunk:
                sql = f"INSERT INTO plays ({columns}) VALUES {', '.join([one] * len(chunk))}"
                conn.exec_driver_sql(sql, tuple(v for row in chunk for v in (*row, received_at_us)))
        return inserted
    cursor = dbapi_connection(conn).cursor()
    try:
        cursor.execute(*_mysql_insert_ids(conn, rows, returning=True, bound=bound))
        inserted.update(r[0] for r in cursor.fetchall())
    finally:
        cursor.close()
    to_store = rows if len(inserted) == len(rows) else [row for row in rows if row[0] in inserted]
    if to_store:
        _mysql_execute(conn, *_mysql_insert(conn, to_store, received_at_us, returning=False, ignore=False, bound=bound))
    return inserted


def _mysql_execute(conn: sa.Connection, sql: str, args: list | None = None) -> int:
    cursor = dbapi_connection(conn).cursor()
    try:
        return cursor.execute(sql, args)
    finally:
        cursor.close()


def _placeholders(per_row: int, rows: int) -> str:
    one = "(" + ",".join(["%s"] * per_row) + ")"
    return ",".join([one] * rows)


def _mysql_insert(
    conn: sa.Connection,
    rows: list[tuple],
    received_at_us: int,
    *,
    returning: bool,
    ignore: bool = True,
    bound: bool = False,
) -> tuple[str, list | None]:
    """The multi-row INSERT of `rows`: (statement, arguments) for the DBAPI cursor. By
    default the literal fast path (sql_literals.play_values); `bound`: every value a bound
    parameter (the plain version that the fast path is tested against)."""
    head = f"INSERT {'IGNORE ' if ignore else ''}INTO plays ({', '.join(PLAY_COLUMNS)}) VALUES "
    tail = " RETURNING event_id" if returning else ""
    if not bound:
        return head + sql_literals.play_values(conn, rows, received_at_us) + tail, None
    sql_literals.check_days(row[4] for row in rows)  # the same refusal on both paths
    received = int(received_at_us)
    args = [v for row in rows for v in (*row, received)]
    return head + _placeholders(len(PLAY_COLUMNS), len(rows)) + tail, args


def _mysql_insert_ids(
    conn: sa.Connection, rows: list[tuple], *, returning: bool, ignore: bool = True, bound: bool = False
) -> tuple[str, list | None]:
    """The multi-row INSERT of the rows' (event_id, local_day) into play_event_ids."""
    head = f"INSERT {'IGNORE ' if ignore else ''}INTO play_event_ids (event_id, local_day) VALUES "
    tail = " RETURNING event_id" if returning else ""
    if not bound:
        return head + sql_literals.event_id_values(conn, rows) + tail, None
    sql_literals.check_days(row[4] for row in rows)
    args = [v for row in rows for v in (row[0], row[4])]
    return head + _placeholders(2, len(rows)) + tail, args


def existing_event_ids(conn: sa.Connection, event_ids: list[str]) -> set[str]:
    """Those of `event_ids` stored already (archived plays' ids included)."""
    out: set[str] = set()
    for start in range(0, len(event_ids), _SQLITE_ROWS_PER_STATEMENT):
        chunk = event_ids[start : start + _SQLITE_ROWS_PER_STATEMENT]
        rows = conn.execute(sa.select(play_event_ids.c.event_id).where(play_event_ids.c.event_id.in_(chunk)))
        out.update(r.event_id for r in rows)
    return out


def archived_months_fenced(conn: sa.Connection) -> set[str]:
    """The archived (or being archived) months, as 'YYYY-MM', read inside an ingest
    transaction after a shared lock on archive_fence (services/video/archive.py): an archival
    that marks a month waits for this transaction to end, so a playback of a month it
    missed here cannot commit after that archival read the month's rows."""
    if not _is_sqlite(conn):
        conn.exec_driver_sql("SELECT version FROM archive_fence WHERE id = 1 LOCK IN SHARE MODE").fetchall()
    return {row.month.isoformat()[:7] for row in conn.execute(sa.select(archived_months.c.month))}


def stored_plays(conn: sa.Connection, event_ids: list[str]) -> dict[str, tuple]:
    """event_id -> (video_id, viewer_id, started_at_us, start_position_sec, end_position_sec)."""
    if not event_ids:
        return {}
    out: dict[str, tuple] = {}
    if not _is_sqlite(conn):
        cursor = dbapi_connection(conn).cursor()
        try:
            cursor.execute(
                f"SELECT {_STORED_COLUMNS} FROM plays WHERE event_id IN ({','.join(['%s'] * len(event_ids))})",
                event_ids,
            )
            for event_id, *content in cursor.fetchall():
                out[event_id] = tuple(int(v) for v in content)
        finally:
            cursor.close()
        return out
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


def upsert_resume_positions(conn: sa.Connection, rows: list[tuple], *, bound: bool = False) -> None:
    """rows: (viewer_id, video_id, position_sec, started_at_us, event_id, updated_at_us). On
    MySQL the literal fast path (sql_literals.resume_values) unless `bound`."""
    if not rows:
        return
    if _is_sqlite(conn):
        conn.exec_driver_sql(_RESUME_SQLITE, rows)
        return
    if not bound:
        _mysql_execute(conn, _RESUME_MYSQL.replace("{values}", sql_literals.resume_values(conn, rows), 1))
        return
    args = [v for row in rows for v in row]
    _mysql_execute(conn, _RESUME_MYSQL.replace("{values}", _placeholders(6, len(rows)), 1), args)


def resume_position(conn: sa.Connection, viewer_id: int, video_id: int) -> sa.Row | None:
    return conn.execute(
        sa.select(resume_positions.c.position_sec, resume_positions.c.updated_at_us).where(
            resume_positions.c.viewer_id == viewer_id, resume_positions.c.video_id == video_id
        )
    ).first()
