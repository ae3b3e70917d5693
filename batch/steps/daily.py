"""The daily step: plays of one local day -> daily_video_stats and weekly/monthly sums.

Set-based SQL inside the database (DESIGN.md section 3): per partition (a video id range)
one INSERT ... SELECT classifies and aggregates the day's plays into a small per-video
temporary table, which is checked for bad rows, given the running totals of the previous
computed day, priced by the tier table in force and upserted keyed by (video, day). The
weekly and monthly rows of the touched videos are then re-summed from their daily rows.

Each rule of DESIGN.md section 2 is one named SQL fragment below; batch/rules.py states
the same rule in Python and tests/reference.py is the oracle both are tested against.

Contract for callers (batch/jobs): per day, in ascending order, read
`current_play_watermark`, run `compute_day_partition` for every partition (each in its own
transaction, in parallel if wanted), then `finish_day`. `days_to_compute` lists the days
that are new or stale.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch import rules
from batch.steps.dialect import Dialect
from services.common.periods import Period, day_bounds_us, period_bounds

# MariaDB session sizes for the day's window sort and GROUP BY (STACK_NOTES: the 16M default
# spills to disk and costs 2x).
MYSQL_SESSION_SETTINGS = {
    "tmp_table_size": 256 * 1024 * 1024,
    "max_heap_table_size": 256 * 1024 * 1024,
    "sort_buffer_size": 64 * 1024 * 1024,
}

TMP_AGG = "tmp_day_agg"


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


# --- The rules, one SQL fragment each (columns of the windowed plays `w`, video `v`) -------

def _self_view_sql() -> str:
    # DESIGN 2 "Counted view" 1 (rules.is_self_view): the seller's own playbacks never count.
    return "(v.seller_id = w.viewer_id)"


def _repeat_sql(d: Dialect) -> str:
    # DESIGN 2 "Counted view" 2 (rules.is_repeat): started less than 30 s after the previous
    # playback of the same viewer and video, counted or not; ties on started_at ordered by
    # event_id. Equivalently: some playback before it in that order started less than 30 s
    # before it. The window (ordered by started_at only, so its sort rows stay narrow) gives
    # the previous start for the common case; two rare cases look the answer up by index:
    # the day's first playback of a pair within 30 s after midnight (the window crosses into
    # the previous day's plays) and playbacks that tie on started_at (ordered by event_id).
    earlier_within_window = f"""EXISTS (
                 SELECT 1 FROM plays q
                 WHERE q.video_id = w.video_id AND q.viewer_id = w.viewer_id
                   AND q.started_at_us > w.started_at_us - {rules.REPEAT_WINDOW_US}
                   AND q.started_at_us < w.started_at_us)"""
    tie_before = f"""EXISTS (
                 SELECT 1 FROM plays me JOIN plays t
                   ON t.video_id = me.video_id AND t.viewer_id = me.viewer_id
                  AND t.started_at_us = me.started_at_us
                  AND {d.bytewise('t.event_id')} < {d.bytewise('me.event_id')}
                 WHERE me.play_id = w.play_id)"""
    return f"""(CASE
        WHEN w.prev_started_at_us = w.started_at_us OR w.next_started_at_us = w.started_at_us
          THEN CASE WHEN {tie_before} OR {earlier_within_window} THEN 1 ELSE 0 END
        WHEN w.prev_started_at_us IS NOT NULL
          THEN CASE WHEN w.started_at_us - w.prev_started_at_us < {rules.REPEAT_WINDOW_US} THEN 1 ELSE 0 END
        WHEN w.started_at_us < :day_start_us + {rules.REPEAT_WINDOW_US}
          THEN CASE WHEN {earlier_within_window} THEN 1 ELSE 0 END
        ELSE 0 END)"""


def _bad_row_sql() -> str:
    # DESIGN 3 "skip nothing": a play the rules cannot price fails the partition.
    return """(CASE WHEN v.video_id IS NULL OR v.duration_sec < 0
                 OR w.start_sec < 0 OR w.end_sec < w.start_sec
                 OR w.started_at_us < :day_start_us OR w.started_at_us >= :day_end_us
               THEN 1 ELSE 0 END)"""


def _watch_time_sql(d: Dialect) -> str:
    # DESIGN 2 "Watch time" (rules.watch_time_sec): min(end, duration) - start, never negative,
    # every playback except the seller's own.
    clamped = d.greatest("0", f"{d.least('c.end_sec', 'c.duration_sec')} - c.start_sec")
    return f"(CASE WHEN c.self_view = 1 THEN 0 ELSE {clamped} END)"


def _ad_views_sql(d: Dialect) -> str:
    # DESIGN 2 "Ads" (rules.ad_views): marks 300k < duration with start < mark <= end, only
    # for counted views: floor(min(end, duration - 1) / 300) - floor(start / 300), >= 0.
    step = rules.AD_INTERVAL_SEC
    marks = (
        f"{d.int_div(d.least('c.end_sec', 'c.duration_sec - 1'), str(step))}"
        f" - {d.int_div('c.start_sec', str(step))}"
    )
    return f"(CASE WHEN c.counted = 1 THEN {d.greatest('0', marks)} ELSE 0 END)"


def _tier_revenue_sql(
    d: Dialect, table: rules.TierTable, before: str, after: str, prefix: str
) -> tuple[str, dict]:
    # DESIGN 2 "Prices" (rules.TierTable.revenue): marginal tiers over the running total; the
    # units numbered [before, after) are priced by the tier each falls in.
    terms, params = [], {}
    for i, (lower, upper, price) in enumerate(table.ranges()):
        top = after if upper is None else d.least(after, f":{prefix}_upper_{i}")
        overlap = d.greatest("0", f"{top} - {d.greatest(before, f':{prefix}_lower_{i}')}")
        terms.append(f":{prefix}_price_{i} * {overlap}")
        params[f"{prefix}_lower_{i}"] = lower
        if upper is not None:
            params[f"{prefix}_upper_{i}"] = upper
        params[f"{prefix}_price_{i}"] = d.price_param(price)
    return d.money_from_units(" + ".join(terms)), params


# --- The statements ------------------------------------------------------------------------

def _aggregate_sql(d: Dialect) -> str:
    """One pass over the day's plays of a partition, grouped per video."""
    return f"""
INSERT INTO {TMP_AGG} (video_id, seller_id, plays_read, views, watch_time_sec, ad_views,
                       bad_rows, first_bad_play_id)
SELECT c.video_id, MAX(c.seller_id), COUNT(*),
       SUM(c.counted), COALESCE(SUM({_watch_time_sql(d)}), 0), COALESCE(SUM({_ad_views_sql(d)}), 0),
       SUM(c.bad), MIN(CASE WHEN c.bad = 1 THEN c.play_id END)
FROM (
    SELECT w.play_id, w.video_id, w.start_sec, w.end_sec, v.seller_id, v.duration_sec,
           {_bad_row_sql()} AS bad,
           CASE WHEN {_self_view_sql()} THEN 1 ELSE 0 END AS self_view,
           CASE WHEN {_self_view_sql()} OR {_repeat_sql(d)} = 1 THEN 0 ELSE 1 END AS counted
    FROM (
        SELECT play_id, video_id, viewer_id, started_at_us,
               start_position_sec AS start_sec, end_position_sec AS end_sec,
               LAG(started_at_us) OVER pair_in_time AS prev_started_at_us,
               LEAD(started_at_us) OVER pair_in_time AS next_started_at_us
        FROM plays
        WHERE local_day = :day AND video_id >= :lo AND video_id < :hi
        WINDOW pair_in_time AS (PARTITION BY video_id, viewer_id ORDER BY started_at_us)
    ) w
    LEFT JOIN videos v ON v.video_id = w.video_id
) c
GROUP BY c.video_id
"""


_TMP_AGG_COLUMNS = """
    video_id BIGINT NOT NULL PRIMARY KEY,
    seller_id BIGINT NULL,
    plays_read BIGINT NOT NULL,
    views BIGINT NOT NULL,
    watch_time_sec BIGINT NOT NULL,
    ad_views BIGINT NOT NULL,
    bad_rows BIGINT NOT NULL,
    first_bad_play_id BIGINT NULL,
    views_before BIGINT NOT NULL DEFAULT 0,
    ad_views_before BIGINT NOT NULL DEFAULT 0
"""

# DESIGN 2 "Precise points": each day is priced from the running totals at the end of the
# previous computed day of the video (never reset; 0 before its first playback).
_PREVIOUS_TOTALS_SQL = f"""
UPDATE {TMP_AGG} SET
    views_before = COALESCE((SELECT d.cum_views FROM daily_video_stats d
                             WHERE d.video_id = {TMP_AGG}.video_id AND d.day < :day
                             ORDER BY d.day DESC LIMIT 1), 0),
    ad_views_before = COALESCE((SELECT d.cum_ad_views FROM daily_video_stats d
                                WHERE d.video_id = {TMP_AGG}.video_id AND d.day < :day
                                ORDER BY d.day DESC LIMIT 1), 0)
"""

_DAILY_COLUMNS = [
    "seller_id", "views", "watch_time_sec", "ad_views", "cum_views", "cum_ad_views",
    "video_revenue", "ad_revenue", "job_execution_id",
]
_PERIOD_COLUMNS = ["seller_id", "views", "watch_time_sec", "ad_views", "video_revenue", "ad_revenue"]


def _daily_upsert_sql(d: Dialect, view_revenue: str, ad_revenue: str) -> str:
    return f"""
INSERT INTO daily_video_stats (video_id, day, {', '.join(_DAILY_COLUMNS)})
SELECT a.video_id, :day, a.seller_id, a.views, a.watch_time_sec, a.ad_views,
       a.views_before + a.views, a.ad_views_before + a.ad_views,
       {view_revenue}, {ad_revenue}, :job_execution_id
FROM {TMP_AGG} a {d.select_where_true}
{d.upsert(['video_id', 'day'], _DAILY_COLUMNS)}
"""


def _period_upsert_sql(d: Dialect) -> str:
    # DESIGN 2: weekly and monthly figures are exact sums of their days (a week crossing a
    # month boundary counts in each month with its days there), re-summed, never increments.
    return f"""
INSERT INTO period_video_stats (period, period_start, video_id, {', '.join(_PERIOD_COLUMNS)})
SELECT :period, :period_start, s.video_id, MAX(s.seller_id), SUM(s.views),
       SUM(s.watch_time_sec), SUM(s.ad_views),
       {d.money_sum('s.video_revenue')}, {d.money_sum('s.ad_revenue')}
FROM daily_video_stats s JOIN {TMP_AGG} a ON a.video_id = s.video_id
WHERE s.day >= :period_start AND s.day <= :period_end
GROUP BY s.video_id
{d.upsert(['period', 'period_start', 'video_id'], _PERIOD_COLUMNS)}
"""


def _text(sql: str, *date_params: str) -> sa.TextClause:
    clause = sa.text(sql)
    if date_params:
        clause = clause.bindparams(*(sa.bindparam(name, type_=sa.Date) for name in date_params))
    return clause


# --- Public API ----------------------------------------------------------------------------

def tier_tables(conn: sa.Connection, day: dt.date) -> tuple[rules.TierTable, rules.TierTable]:
    """The VIEW and AD tier tables in force on `day` (validated; raises BadTierTable)."""
    rows = conn.execute(
        sa.text(
            "SELECT kind, effective_from, lower_bound, unit_price FROM tier_prices"
            " WHERE effective_from <= :day"
        )
        .bindparams(sa.bindparam("day", type_=sa.Date))
        .columns(
            sa.column("kind", sa.String),
            sa.column("effective_from", sa.Date),
            sa.column("lower_bound", sa.BigInteger),
            sa.column("unit_price", sa.Numeric(12, 4, asdecimal=True)),
        ),
        {"day": day},
    ).all()
    plain = [tuple(row) for row in rows]
    return (
        rules.tier_table_in_force(plain, rules.VIEW, day),
        rules.tier_table_in_force(plain, rules.AD, day),
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

    conn.execute(sa.text(d.drop_temp_table(TMP_AGG)))
    conn.execute(sa.text(d.create_temp_table(TMP_AGG, _TMP_AGG_COLUMNS)))
    try:
        conn.execute(
            _text(_aggregate_sql(d), "day"),
            {
                "day": day,
                "lo": video_id_lo,
                "hi": video_id_hi,
                "day_start_us": day_start_us,
                "day_end_us": day_end_us,
            },
        )
        rows_read, rows_written, bad_rows, first_bad = conn.execute(
            sa.text(
                f"SELECT COALESCE(SUM(plays_read), 0), COUNT(*), COALESCE(SUM(bad_rows), 0),"
                f" MIN(first_bad_play_id) FROM {TMP_AGG}"
            )
        ).one()
        if bad_rows:
            raise _describe_bad_play(conn, int(first_bad), day, day_start_us, day_end_us)
        if rows_written == 0:
            return StepCounts(rows_read=0, rows_written=0)

        conn.execute(_text(_PREVIOUS_TOTALS_SQL, "day"), {"day": day})
        view_revenue, view_params = _tier_revenue_sql(
            d, view_tiers, "a.views_before", "(a.views_before + a.views)", "view"
        )
        ad_revenue, ad_params = _tier_revenue_sql(
            d, ad_tiers, "a.ad_views_before", "(a.ad_views_before + a.ad_views)", "ad"
        )
        conn.execute(
            _text(_daily_upsert_sql(d, view_revenue, ad_revenue), "day"),
            {"day": day, "job_execution_id": job_execution_id, **view_params, **ad_params},
        )
        for period in (Period.WEEKLY, Period.MONTHLY):
            first, last = period_bounds(period, day)
            conn.execute(
                _text(_period_upsert_sql(d), "period_start", "period_end"),
                {"period": period.value, "period_start": first, "period_end": last},
            )
        return StepCounts(rows_read=int(rows_read), rows_written=int(rows_written))
    finally:
        conn.execute(sa.text(d.drop_temp_table(TMP_AGG)))


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
        reason = (
            f"end position {row.end_position_sec} before start position {row.start_position_sec}"
        )
    else:
        reason = (
            f"started_at_us {row.started_at_us} is outside local day {day}"
            f" [{day_start_us}, {day_end_us}) recorded in local_day"
        )
    return BadPlayRow(play_id, row.event_id, reason)


def finish_day(
    conn: sa.Connection,
    day: dt.date,
    *,
    play_id_watermark: int,
    job_execution_id: int | None = None,
) -> None:
    """Records `day` as computed with every play up to `play_id_watermark` (taken with
    current_play_watermark before the day's partitions started)."""
    d = Dialect.of(conn)
    conn.execute(
        _text(
            "INSERT INTO computed_days (day, play_id_watermark, computed_at_us, job_execution_id)"
            f" SELECT :day, :watermark, :now_us, :job_execution_id {d.select_where_true}"
            f" {d.upsert(['day'], ['play_id_watermark', 'computed_at_us', 'job_execution_id'])}",
            "day",
        ),
        {
            "day": day,
            "watermark": play_id_watermark,
            "now_us": time.time_ns() // 1000,
            "job_execution_id": job_execution_id,
        },
    )


def current_play_watermark(conn: sa.Connection) -> int:
    """The highest play_id stored (0 if none): plays above it arrived after this moment."""
    return int(conn.execute(sa.text("SELECT COALESCE(MAX(play_id), 0) FROM plays")).scalar_one())


def days_to_compute(conn: sa.Connection, *, through: dt.date) -> list[dt.date]:
    """Local days <= `through` to (re)compute, ascending.

    New: days with plays never computed. Stale (DESIGN 2 "Re-runs and late data"): a play
    with play_id above a computed day's watermark and local_day <= that day makes that day and
    every later computed day stale (running totals carry forward, and a late 23:59:50 play
    can turn the next day's 00:00:10 play into a repeat). A computed day after a never
    computed day with plays is stale too, for the same reason.
    """
    newest_play_by_day = {
        row.local_day: int(row.newest)
        for row in conn.execute(
            sa.text("SELECT local_day, MAX(play_id) AS newest FROM plays GROUP BY local_day")
            .columns(sa.column("local_day", sa.Date), sa.column("newest", sa.BigInteger))
        )
    }
    watermarks = {
        row.day: int(row.play_id_watermark)
        for row in conn.execute(
            sa.text("SELECT day, play_id_watermark FROM computed_days")
            .columns(sa.column("day", sa.Date), sa.column("play_id_watermark", sa.BigInteger))
        )
    }
    never_computed = {day for day in newest_play_by_day if day not in watermarks}
    recompute_from = min(never_computed, default=None)
    newest_so_far = 0
    for day in sorted(set(newest_play_by_day) | set(watermarks)):
        newest_so_far = max(newest_so_far, newest_play_by_day.get(day, 0))
        if day in watermarks and newest_so_far > watermarks[day]:
            if recompute_from is None or day < recompute_from:
                recompute_from = day
            break
    stale = set()
    if recompute_from is not None:
        stale = {day for day in watermarks if day >= recompute_from}
    return sorted(day for day in never_computed | stale if day <= through)


def video_id_bounds(conn: sa.Connection) -> tuple[int, int]:
    """(lowest id, highest id + 1) over videos and plays, for partitioning; (0, 0) if none.

    Plays count too: a play of a missing video must land in a partition to fail it.
    """
    row = conn.execute(
        sa.text(
            "SELECT (SELECT MIN(video_id) FROM videos), (SELECT MAX(video_id) FROM videos),"
            " (SELECT MIN(video_id) FROM plays), (SELECT MAX(video_id) FROM plays)"
        )
    ).one()
    lows = [value for value in (row[0], row[2]) if value is not None]
    highs = [value for value in (row[1], row[3]) if value is not None]
    if not lows:
        return 0, 0
    return int(min(lows)), int(max(highs)) + 1
