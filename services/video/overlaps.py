"""The plays that may take part in the stream limit, kept as plays are written.

DESIGN.md section 2 "Counted view" 5 (domain/counted_views.py `over_stream_limit`,
`is_running`): a playback is over the limit when it starts while two earlier playbacks of the
same viewer are running. So a playback can be over the limit, or count towards another's,
only if its running time and another playback of the same viewer touch: one of the two starts
while the other runs. Most playbacks touch none, and the batch's stream-limit step
(batch/steps/streams.py) sweeps only what is kept here instead of every play of the day:

- `viewer_overlaps`: a copy of every play that touches another (both of each pair);
- `viewer_busy_days`: (day, viewer) pairs whose plays the step reads whole, from `plays`
  through `ix_plays_viewer`, for the day and the next one. A new play goes there instead of
  being checked when more than NEARBY_LIMIT plays of its viewer lie within its reach: the
  check's cost stays bounded whatever a client sends (thousands of one viewer's plays at one
  instant would otherwise cost each new play a read of all of them).

Why it gives the same figures (docs/rules.md, "How the batch computes them"): take a play P over
the limit and two plays running at its start. Of the three, the one stored last found the
other two within its reach: it either copied itself and every play it touches, P's partners
included, or marked its viewer busy on its day, which is P's day or the day before (a running
time is at most DURATION_MAX_SEC / SPEED = 12 h).

Kept by the database, not by each writer: triggers on `plays` check a new play (AFTER INSERT)
and drop a removed play's copy (AFTER DELETE), so that ingest, the archive's restore, the
benchmarks' loaders and the tests' fixtures all keep it, whatever path they write by. A
play's video must exist when the play is stored (ingest refuses others): its duration is read.

Concurrency: two transactions storing touching plays of one viewer must not both miss the
other. MariaDB runs the reads of a trigger fired by an INSERT as locking reads: a check that
meets another transaction's uncommitted play of the viewer waits for its commit and then sees
it. Two such checks can wait for each other (each transaction's play in the other's range), so
ingest first takes its viewers' rows in `viewer_ingest_locks` (repository.lock_viewers, in
viewer order) and holds them to its commit: a second ingest of a viewer waits before it
inserts anything, and its checks then see the first one's plays under READ COMMITTED even on
an engine whose trigger reads would not lock. SQLite has one writer at a time.
(tests/integration/test_viewer_overlaps_race.py.)

Running time as the rules define it: watch time = max(0, min(end, duration) - start) and a
play runs from its start for watch time / MAX_PLAYBACK_SPEED, compared in microseconds times
MAX_PLAYBACK_SPEED so that half seconds stay integers. A play of an unknown video never runs.
"""

from __future__ import annotations

import sqlalchemy as sa

from domain import counted_views

SPEED = counted_views.MAX_PLAYBACK_SPEED
# More plays of the viewer than this within a new play's reach: the viewer's day is read
# whole by the batch instead of the play being checked (bounded work per stored play).
NEARBY_LIMIT = 16
INSERT_TRIGGER = "plays_mark_viewer_overlaps"
DELETE_TRIGGER = "plays_unmark_viewer_overlaps"
COLUMNS = (
    "local_day",
    "viewer_id",
    "started_at_us",
    "play_id",
    "video_id",
    "start_position_sec",
    "end_position_sec",
)


def _watch_us(play: str, duration: str, *, mysql: bool) -> str:
    """A play's watch time in microseconds (DESIGN 2 "Watch time"), NULL for an unknown video."""
    greatest, least = ("GREATEST", "LEAST") if mysql else ("MAX", "MIN")
    return f"{greatest}(0, {least}({play}.end_position_sec, {duration}) - {play}.start_position_sec) * 1000000"


def _within_reach(new: str, *, new_run: str, lookback: str, mysql: bool) -> str:
    """The plays `o` of play `new`'s viewer that may touch it: started at most `lookback` µs
    (the longest running time) before it and at most its own running time (`new_run`, its
    watch time in µs) after it. One range of ix_plays_viewer."""
    # Partition pruning on MariaDB (plays is partitioned by month on local_day): a running
    # time is at most DURATION_MAX_SEC / SPEED = 12 h, so such a play's local day is within a
    # day of the new one's; two days keep a margin for time-zone changes.
    days = f"AND o.local_day BETWEEN {new}.local_day - INTERVAL 2 DAY AND {new}.local_day + INTERVAL 2 DAY"
    return f"""o.viewer_id = {new}.viewer_id {days if mysql else ""}
          AND o.started_at_us >= {new}.started_at_us - {lookback}
          AND o.started_at_us * {SPEED} <= {new}.started_at_us * {SPEED} + {new_run}
          AND o.play_id <> {new}.play_id"""


def _touching(new: str, *, new_run: str, lookback: str, mysql: bool) -> str:
    """FROM ... WHERE of the plays `o` that touch play `new`: `new` starts while `o` runs, or
    `o` starts while `new` runs (counted_views.is_running, both sides scaled by SPEED)."""
    o_watch = _watch_us("o", "ov.duration_sec", mysql=mysql)
    return f"""
        FROM plays o LEFT JOIN videos ov ON ov.video_id = o.video_id
        WHERE {_within_reach(new, new_run=new_run, lookback=lookback, mysql=mysql)}
          AND ((o.started_at_us >= {new}.started_at_us
                AND (o.started_at_us - {new}.started_at_us) * {SPEED} < {new_run})
            OR (o.started_at_us <= {new}.started_at_us
                AND ({new}.started_at_us - o.started_at_us) * {SPEED} < {o_watch}))"""


def _nearby_count(new: str, *, new_run: str, lookback: str, mysql: bool) -> str:
    """How many plays lie within `new`'s reach, counted up to NEARBY_LIMIT + 1 only."""
    within = _within_reach(new, new_run=new_run, lookback=lookback, mysql=mysql)
    return f"(SELECT COUNT(*) FROM (SELECT 1 FROM plays o WHERE {within} LIMIT {NEARBY_LIMIT + 1}) nearby)"


def _lookback_sql(mysql: bool) -> str:
    # Rounded up to whole microseconds: a play that started this long before has stopped.
    return f"((SELECT COALESCE(MAX(duration_sec), 0) FROM videos) * 1000000 {'DIV' if mysql else '/'} {SPEED} + 1)"


def _insert(mysql: bool, table: str, columns: tuple[str, ...], select: str) -> str:
    return f"INSERT {'IGNORE' if mysql else 'OR IGNORE'} INTO {table} ({', '.join(columns)}) {select}"


def _select(alias: str, columns: tuple[str, ...]) -> str:
    return "SELECT " + ", ".join(f"{alias}.{c}" for c in columns)


BUSY_COLUMNS = ("local_day", "viewer_id")


def create_triggers_sql(dialect: str) -> list[str]:
    """The two triggers' DDL for `dialect` ("mysql" for MySQL/MariaDB, or "sqlite")."""
    mysql = dialect != "sqlite"
    new_watch = _watch_us("NEW", "nv.duration_sec", mysql=mysql)
    new_run = f"COALESCE((SELECT {new_watch} FROM videos nv WHERE nv.video_id = NEW.video_id), 0)"
    key = " AND ".join(f"{c} = OLD.{c}" for c in ("local_day", "viewer_id", "started_at_us", "play_id"))
    delete = f"DELETE FROM viewer_overlaps WHERE {key}"
    if mysql:
        # Variables: each is read once, and the common case (nothing within reach) costs one
        # short range read.
        touching = _touching("NEW", new_run="new_run", lookback="lookback", mysql=True)
        nearby = _nearby_count("NEW", new_run="new_run", lookback="lookback", mysql=True)
        insert = f"""CREATE TRIGGER {INSERT_TRIGGER} AFTER INSERT ON plays FOR EACH ROW
BEGIN
    DECLARE new_run BIGINT;
    DECLARE lookback BIGINT;
    DECLARE nearby INT;
    SET new_run = {new_run};
    SET lookback = {_lookback_sql(True)};
    SET nearby = {nearby};
    IF nearby > {NEARBY_LIMIT} THEN
        {_insert(True, "viewer_busy_days", BUSY_COLUMNS, _select("NEW", BUSY_COLUMNS) + " FROM DUAL")};
    ELSEIF nearby > 0 AND EXISTS (SELECT 1 {touching}) THEN
        {_insert(True, "viewer_overlaps", COLUMNS, f"{_select('o', COLUMNS)} {touching} UNION ALL {_select('NEW', COLUMNS)} FROM DUAL")};
    END IF;
END"""
        return [insert, f"CREATE TRIGGER {DELETE_TRIGGER} AFTER DELETE ON plays FOR EACH ROW {delete}"]
    lookback = _lookback_sql(False)
    touching = _touching("NEW", new_run=new_run, lookback=lookback, mysql=False)
    nearby = _nearby_count("NEW", new_run=new_run, lookback=lookback, mysql=False)
    insert = f"""CREATE TRIGGER {INSERT_TRIGGER} AFTER INSERT ON plays FOR EACH ROW
BEGIN
    {_insert(False, "viewer_busy_days", BUSY_COLUMNS, f"{_select('NEW', BUSY_COLUMNS)} WHERE {nearby} > {NEARBY_LIMIT}")};
    {_insert(False, "viewer_overlaps", COLUMNS, f"{_select('o', COLUMNS)} {touching} AND {nearby} <= {NEARBY_LIMIT}")};
    {_insert(False, "viewer_overlaps", COLUMNS, f"{_select('NEW', COLUMNS)} WHERE {nearby} <= {NEARBY_LIMIT} AND EXISTS (SELECT 1 {touching})")};
END"""
    return [insert, f"CREATE TRIGGER {DELETE_TRIGGER} AFTER DELETE ON plays FOR EACH ROW BEGIN {delete}; END"]


def backfill_sql(dialect: str) -> list[str]:
    """Marks, set-based, what the triggers would have marked for the plays stored: for a
    migration, or a loader that wrote plays with the triggers absent. A day with more plays
    of a viewer than NEARBY_LIMIT makes the viewer busy that day (a superset of what the
    triggers mark); the other plays are checked one by one."""
    mysql = dialect != "sqlite"
    busy = _insert(
        mysql,
        "viewer_busy_days",
        BUSY_COLUMNS,
        f"SELECT local_day, viewer_id FROM plays GROUP BY local_day, viewer_id HAVING COUNT(*) > {NEARBY_LIMIT}",
    )
    p_run = f"COALESCE({_watch_us('p', 'pv.duration_sec', mysql=mysql)}, 0)"
    touching = _touching("p", new_run=p_run, lookback=_lookback_sql(mysql), mysql=mysql)
    copies = _insert(
        mysql,
        "viewer_overlaps",
        COLUMNS,
        f"{_select('p', COLUMNS)} FROM plays p LEFT JOIN videos pv ON pv.video_id = p.video_id"
        " WHERE NOT EXISTS (SELECT 1 FROM viewer_busy_days b"
        " WHERE b.local_day = p.local_day AND b.viewer_id = p.viewer_id)"
        f" AND EXISTS (SELECT 1 {touching})",
    )
    return [busy, copies]


def drop_triggers_sql() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in (INSERT_TRIGGER, DELETE_TRIGGER)]


def _dialect(conn: sa.Connection) -> str:
    return "sqlite" if conn.dialect.name == "sqlite" else "mysql"


def create_triggers(conn: sa.Connection) -> None:
    for sql in create_triggers_sql(_dialect(conn)):
        conn.exec_driver_sql(sql)


def drop_triggers(conn: sa.Connection) -> None:
    for sql in drop_triggers_sql():
        conn.exec_driver_sql(sql)


def restore_after_bulk_load(conn: sa.Connection) -> None:
    """For a loader that dropped the triggers (`drop_triggers`) to write plays in bulk, with
    the indexes rebuilt: the triggers again, and what they would have marked, set-based."""
    create_triggers(conn)
    for sql in backfill_sql(_dialect(conn)):
        conn.exec_driver_sql(sql)
