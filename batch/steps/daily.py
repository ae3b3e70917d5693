"""The daily step: plays of one local day -> daily_video_stats and weekly/monthly sums.

Set-based SQL inside the database (DESIGN.md section 3), per partition (a video id range):
pass 1 streams the day's plays in index order into a small per-video temporary table (views
as if no play were excluded by rules 2-5, watch time, ad views, self-views, bad rows); if
there is no bad row, pass 2 classifies the only plays that rules 2-5 can exclude (those of
viewer-video pairs with two or more plays that day, or early enough in the day to follow a
playback of the previous day, or with a play over the stream limit, which the viewer-keyed
step batch/steps/streams.py wrote to stream_limited_plays before the partitions) by one
window over their pairs (sorting every play of the day
cost twice as much), ranks the passing plays of pairs with more than 10 plays for the daily
cap, and subtracts what the excluded plays earned in pass 1 (docs/rules.md); then the
running totals of the previous computed day are attached, the tier table in force prices the
day, and the rows are upserted keyed by (video, day), with the plays read and how many each
rule excluded. The weekly and monthly rows of the touched videos are then re-summed from
their daily rows.

The statements of both passes are in batch/steps/daily_sql.py; each rule of DESIGN.md
section 2 is one named SQL fragment in batch/steps/fragments.py; domain/counted_views.py states the
same rules in Python; tests/reference.py is the oracle.

Contract for callers (batch/jobs): per day, in ascending order, read
`current_play_watermark`, run `streams.compute_stream_limit` (rule 5, keyed by viewer: the
partitions read its rows), then `compute_day_partition` for every partition of a plan that
covers every video id (each in its own transaction, in parallel if wanted), then
`finish_day` with the watermark and the smaller of the partitions' rows_read sum and the
stream step's plays_read. `days_to_compute`
lists the days that are new or stale (batch/computed_days.py). The package exports
all of these.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.steps import daily_sql as sql
from batch.steps import fragments, retention
from batch.steps.dialect import Dialect
from batch.steps.dialect import text_with_dates as _text
from domain import counted_views
from domain.periods import Period, day_bounds_us, period_bounds
from services.settlement.published import tier_prices

# MariaDB session sizes for the day's window sort and GROUP BY: the 16M default spills to
# disk (docs/batch-jobs.md, "Session sizes").
MYSQL_SESSION_SETTINGS = {
    "tmp_table_size": 256 * 1024 * 1024,
    "max_heap_table_size": 256 * 1024 * 1024,
    "sort_buffer_size": 64 * 1024 * 1024,
    # A video's retention deltas, GROUP_CONCAT'ed (batch/steps/retention.py): at most 100
    # pairs, more than MySQL's 1024-byte default when the counts are large.
    "group_concat_max_len": 1024 * 1024,
}


@dataclass(frozen=True)
class StepCounts:
    rows_read: int  # plays of the day in the partition
    rows_written: int  # daily_video_stats rows upserted (the weekly/monthly rows follow them)


class BadPlayRow(Exception):
    """A play the batch cannot settle; the partition fails instead of skipping it."""

    def __init__(self, play_id: int, event_id: str | None, reason: str):
        self.play_id = play_id
        self.event_id = event_id
        self.reason = reason
        super().__init__(f"bad play row play_id={play_id} event_id={event_id!r}: {reason}")


# --- Public API ----------------------------------------------------------------------------


def tier_tables(conn: sa.Connection, day: dt.date) -> tuple[counted_views.TierTable, counted_views.TierTable]:
    """The VIEW and AD tier tables in force on `day` (validated; raises BadTierTable)."""
    rows = conn.execute(
        sa.text("SELECT kind, effective_from, lower_bound, unit_price FROM tier_prices WHERE effective_from <= :day")
        .bindparams(sa.bindparam("day", type_=sa.Date))
        .columns(
            sa.column("kind", sa.String),
            sa.column("effective_from", sa.Date),
            sa.column("lower_bound", sa.BigInteger),
            sa.column("unit_price", tier_prices.c.unit_price.type),
        ),
        {"day": day},
    ).all()
    plain = [tuple(row) for row in rows]
    return (
        counted_views.tier_table_in_force(plain, counted_views.VIEW, day),
        counted_views.tier_table_in_force(plain, counted_views.AD, day),
    )


def compute_day_partition(
    conn: sa.Connection,
    day: dt.date,
    video_id_lo: int,
    video_id_hi: int,
    *,
    zone: ZoneInfo,
    job_execution_id: int | None = None,
) -> StepCounts:
    """Computes (upserts) the daily rows of videos lo <= id < hi on local `day`, and the
    weekly and monthly rows of those videos for the periods containing `day`.

    Idempotent. Runs inside the caller's transaction; raises BadPlayRow (the caller rolls
    back) for a play it cannot settle.
    """
    d = Dialect.of(conn)
    day_start_us, day_end_us = day_bounds_us(day, zone)
    view_tiers, ad_tiers = tier_tables(conn, day)

    if d.is_sqlite:
        # Take SQLite's write lock first: a read snapshot upgraded to a write after another
        # partition committed would fail at once instead of waiting (busy_timeout).
        conn.execute(sa.text("DELETE FROM computed_days WHERE 1 = 0"))
    else:
        for name, value in MYSQL_SESSION_SETTINGS.items():
            conn.execute(sa.text(f"SET SESSION {name} = {int(value)}"))

    _drop_temp_tables(conn, d)
    conn.execute(sa.text(d.create_temp_table(sql.TMP_AGG, sql.TMP_AGG_COLUMNS)))
    conn.execute(sa.text(d.create_temp_table(sql.TMP_PLAYS, sql.TMP_PLAYS_COLUMNS)))
    conn.execute(sa.text(d.create_temp_table(sql.TMP_TAIL, sql.TMP_TAIL_COLUMNS)))
    conn.execute(sa.text(d.create_temp_table(retention.TMP_RET, retention.TMP_RET_COLUMNS)))
    try:
        conn.execute(
            _text(sql.aggregate_sql(d), "day"),
            {
                "day": day,
                "lo": video_id_lo,
                "hi": video_id_hi,
                "day_start_us": day_start_us,
                "day_end_us": day_end_us,
            },
        )
        # Pass 1 has failed the partition on a bad row before pass 2 can trip over it.
        rows_read, rows_written, bad_rows, first_bad = conn.execute(
            sa.text(
                f"SELECT COALESCE(SUM(plays_read), 0), COUNT(*), COALESCE(SUM(bad_rows), 0),"
                f" MIN(first_bad_play_id) FROM {sql.TMP_AGG}"
            )
        ).one()
        if bad_rows:
            raise _describe_bad_play(conn, int(first_bad), day, day_start_us, day_end_us)
        if rows_written:
            _finish_partition(
                conn, d, day, video_id_lo, video_id_hi, day_start_us, view_tiers, ad_tiers, job_execution_id
            )
    except BaseException:
        # Keep the original error: the connection may be unusable (the caller rolls back;
        # the temporary table goes with the session or is dropped on the next use).
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            _drop_temp_tables(conn, d)
        raise
    _drop_temp_tables(conn, d)
    return StepCounts(rows_read=int(rows_read), rows_written=int(rows_written))


# The per-video figures another engine computed (batch/spark/steps.py): TMP_AGG's columns.
AGGREGATE_COLUMNS = (
    "video_id",
    "seller_id",
    "plays_read",
    "views",
    "watch_time_sec",
    "ad_views",
    "excluded_self_view",
    "excluded_overlap",
    "excluded_repeat",
    "excluded_cap",
    "excluded_stream_limit",
)


# The retention deltas another engine computed: per (video, point), the counted views whose
# run of covered points starts there minus those whose run ends there (batch/steps/retention.py).
RETENTION_DELTA_COLUMNS = ("video_id", "point", "delta")


def write_partition_aggregates(
    conn: sa.Connection,
    day: dt.date,
    rows: list[dict[str, int]],
    *,
    retention_deltas: Sequence[dict[str, int]] = (),
    job_execution_id: int | None = None,
) -> int:
    """Writes back per-video figures computed elsewhere (one dict of AGGREGATE_COLUMNS per
    video with plays that day in the partition, and the retention deltas, one dict of
    RETENTION_DELTA_COLUMNS per (video, point) with a non-zero delta) through the SQL
    engine's own finishing code (price_and_upsert, retention.write_sql): same running
    totals, tiers, upserts and period sums. Returns the daily rows written. Runs inside the
    caller's transaction."""
    d = Dialect.of(conn)
    view_tiers, ad_tiers = tier_tables(conn, day)
    _drop_temp_tables(conn, d)
    conn.execute(sa.text(d.create_temp_table(sql.TMP_AGG, sql.TMP_AGG_COLUMNS)))
    conn.execute(sa.text(d.create_temp_table(retention.TMP_RET, retention.TMP_RET_COLUMNS)))
    try:
        if retention_deltas:
            conn.execute(
                sa.text(retention.insert_deltas_sql()),
                [{c: row[c] for c in RETENTION_DELTA_COLUMNS} for row in retention_deltas],
            )
        if rows:
            conn.execute(
                sa.text(
                    f"INSERT INTO {sql.TMP_AGG} ({', '.join(AGGREGATE_COLUMNS)}, bad_rows)"
                    f" VALUES ({', '.join(':' + c for c in AGGREGATE_COLUMNS)}, 0)"
                ),
                [{c: row[c] for c in AGGREGATE_COLUMNS} for row in rows],
            )
            price_and_upsert(conn, d, day, view_tiers, ad_tiers, job_execution_id)
            _write_retention(conn, d, day)
    finally:
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            _drop_temp_tables(conn, d)
    return len(rows)


def describe_bad_play(conn: sa.Connection, play_id: int, day: dt.date, zone: ZoneInfo) -> BadPlayRow:
    """The BadPlayRow the SQL engine raises for play `play_id` of local `day`."""
    day_start_us, day_end_us = day_bounds_us(day, zone)
    return _describe_bad_play(conn, play_id, day, day_start_us, day_end_us)


def _drop_temp_tables(conn: sa.Connection, d: Dialect) -> None:
    for name in (sql.TMP_AGG, sql.TMP_PLAYS, sql.TMP_TAIL, retention.TMP_RET):
        conn.execute(sa.text(d.drop_temp_table(name)))


def _previous_day_window_us(conn: sa.Connection, lo: int, hi: int) -> int:
    """The widest time around midnight across which a play of the partition's videos may
    follow a playback of an earlier day: max(30 s, duration / 2) of its longest video. A
    repeat starts less than 30 s after its previous playback; an overlap less than that
    playback's watch time / 2 after it, at most duration / 2 (counted_views.is_repeat, is_overlap)."""
    longest = conn.execute(
        sa.text("SELECT COALESCE(MAX(duration_sec), 0) FROM videos WHERE video_id >= :lo AND video_id < :hi"),
        {"lo": lo, "hi": hi},
    ).scalar_one()
    half_duration_us = -(-int(longest) * 1_000_000 // counted_views.MAX_PLAYBACK_SPEED)
    return max(counted_views.REPEAT_WINDOW_US, half_duration_us)


def _finish_partition(
    conn: sa.Connection,
    d: Dialect,
    day: dt.date,
    lo: int,
    hi: int,
    day_start_us: int,
    view_tiers: counted_views.TierTable,
    ad_tiers: counted_views.TierTable,
    job_execution_id: int | None,
) -> None:
    """Pass 2, running totals, pricing and the upserts, once pass 1 found no bad row."""
    window_us = _previous_day_window_us(conn, lo, hi)
    conn.execute(
        sa.text(sql.tail_sql(d)),
        {"lo": lo, "hi": hi, "day_start_us": day_start_us, "tail_start_us": day_start_us - window_us},
    )
    conn.execute(
        _text(sql.classify_sql(d), "day"),
        {"day": day, "lo": lo, "hi": hi, "early_end_us": day_start_us + window_us},
    )
    conn.execute(sa.text(sql.take_back_exclusions_sql(d)))
    conn.execute(sa.text(sql.take_back_capped_sql(d)))
    params = {"day": day, "lo": lo, "hi": hi}
    conn.execute(_text(retention.counted_plays_sql(d), "day"), params)
    conn.execute(sa.text(retention.take_back_sql(d)))
    price_and_upsert(conn, d, day, view_tiers, ad_tiers, job_execution_id)
    _write_retention(conn, d, day)


def _write_retention(conn: sa.Connection, d: Dialect, day: dt.date) -> None:
    """The retention rows of TMP_AGG's videos from the deltas in TMP_RET (retention.py)."""
    if not d.is_sqlite:  # also on the Spark engine's path, which sets no other session size
        limit = MYSQL_SESSION_SETTINGS["group_concat_max_len"]
        conn.execute(sa.text(f"SET SESSION group_concat_max_len = {int(limit)}"))
    conn.execute(_text(retention.write_sql(d), "day"), {"day": day})


def price_and_upsert(
    conn: sa.Connection,
    d: Dialect,
    day: dt.date,
    view_tiers: counted_views.TierTable,
    ad_tiers: counted_views.TierTable,
    job_execution_id: int | None,
) -> None:
    """The finishing part both engines share, over the per-video figures in TMP_AGG: the
    running totals of the previous computed day, the tier tables in force, the daily rows
    upserted keyed by (video, day) and the weekly and monthly rows re-summed."""
    conn.execute(_text(sql.PREVIOUS_TOTALS_SQL, "day"), {"day": day})
    view_revenue, view_params = fragments.tier_revenue_sql(
        d, view_tiers, "a.views_before", "(a.views_before + a.views)", "view"
    )
    ad_revenue, ad_params = fragments.tier_revenue_sql(
        d, ad_tiers, "a.ad_views_before", "(a.ad_views_before + a.ad_views)", "ad"
    )
    conn.execute(
        _text(sql.daily_upsert_sql(d, view_revenue, ad_revenue), "day"),
        {"day": day, "job_execution_id": job_execution_id, **view_params, **ad_params},
    )
    for period in (Period.WEEKLY, Period.MONTHLY):
        first, last = period_bounds(period, day)
        conn.execute(
            _text(sql.period_upsert_sql(d), "period_start", "period_end"),
            {"period": period.value, "period_start": first, "period_end": last},
        )


def _describe_bad_play(
    conn: sa.Connection, play_id: int, day: dt.date, day_start_us: int, day_end_us: int
) -> BadPlayRow:
    row = conn.execute(
        sa.text(
            "SELECT p.event_id, p.video_id, p.started_at_us, p.start_position_sec,"
            " p.end_position_sec, v.video_id AS known_video, v.duration_sec"
            " FROM plays p LEFT JOIN videos v ON v.video_id = p.video_id WHERE p.play_id = :id"
        ),
        {"id": play_id},
    ).one()
    if row.known_video is None:
        reason = f"video {row.video_id} does not exist"
    elif row.duration_sec < 0:
        reason = f"video {row.video_id} has a negative duration {row.duration_sec}"
    elif row.start_position_sec < 0:
        reason = f"negative start position {row.start_position_sec}"
    elif row.end_position_sec < row.start_position_sec:
        reason = f"end position {row.end_position_sec} before start position {row.start_position_sec}"
    else:
        reason = (
            f"started_at_us {row.started_at_us} is outside local day {day}"
            f" [{day_start_us}, {day_end_us}) recorded in local_day"
        )
    return BadPlayRow(play_id, row.event_id, reason)
