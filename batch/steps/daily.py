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

Each rule of DESIGN.md section 2 is one named SQL fragment in batch/steps/fragments.py;
batch/rules.py states the same rules in Python; tests/reference.py is the oracle.

Contract for callers (batch/jobs): per day, in ascending order, read
`current_play_watermark`, run `streams.compute_stream_limit` (rule 5, keyed by viewer: the
partitions read its rows), then `compute_day_partition` for every partition of a plan that
covers every video id (each in its own transaction, in parallel if wanted), then
`finish_day` with the watermark and the smaller of the partitions' rows_read sum and the
stream step's plays_read. `days_to_compute`
lists the days that are new or stale (services/common/computed_days.py). The package exports
all of these.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch import rules
from batch.steps import fragments
from batch.steps.dialect import Dialect
from batch.steps.dialect import text_with_dates as _text
from services.common.periods import Period, day_bounds_us, period_bounds
from services.common.schema import tier_prices

# MariaDB session sizes for the day's window sort and GROUP BY: the 16M default spills to
# disk (docs/batch-jobs.md, "Session sizes").
MYSQL_SESSION_SETTINGS = {
    "tmp_table_size": 256 * 1024 * 1024,
    "max_heap_table_size": 256 * 1024 * 1024,
    "sort_buffer_size": 64 * 1024 * 1024,
}

TMP_AGG = "tmp_day_agg"
TMP_PLAYS = "tmp_day_plays"  # the plays of pass 2, classified by rules 2, 3 and 5
TMP_TAIL = "tmp_day_tail"  # per viewer-video pair, its latest play just before the day


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


# --- The statements ------------------------------------------------------------------------


def _aggregate_sql(d: Dialect) -> str:
    """Pass 1, one streaming pass over the day's plays of a partition grouped per video
    (index order, no sort): plays read, bad rows, self-views, and views, watch time and ad
    views of every playback that is not the seller's own, as if none were excluded by
    rules 2-5."""
    return f"""
INSERT INTO {TMP_AGG} (video_id, seller_id, plays_read, views, watch_time_sec, ad_views,
                       bad_rows, first_bad_play_id, excluded_self_view)
SELECT c.video_id, MAX(c.seller_id), COUNT(*), SUM(c.counted),
       COALESCE(SUM({fragments.watch_time_sql(d)}), 0),
       COALESCE(SUM({fragments.ad_views_sql(d)}), 0),
       SUM(c.bad), MIN(CASE WHEN c.bad = 1 THEN c.play_id END), SUM(c.self_view)
FROM (
    SELECT p.play_id, p.video_id, p.start_position_sec AS start_sec,
           p.end_position_sec AS end_sec, v.seller_id, v.duration_sec,
           {fragments.bad_row_sql("p")} AS bad,
           CASE WHEN {fragments.self_view_sql("p")} THEN 1 ELSE 0 END AS self_view,
           CASE WHEN {fragments.self_view_sql("p")} THEN 0 ELSE 1 END AS counted
    FROM plays p
    LEFT JOIN videos v ON v.video_id = p.video_id
    WHERE p.local_day = :day AND p.video_id >= :lo AND p.video_id < :hi
) c
GROUP BY c.video_id
"""


def _tail_sql(d: Dialect) -> str:
    """Pass 2 first reads, as one range of ix_plays_started, the plays that started in the
    last max(30 s, duration / 2) before the day (:tail_start_us, the partition's widest
    window), and keeps each viewer-video pair's latest one (ties by event_id byte-wise: the
    last) with its watch time. Only such a play can be the previous playback of a play of
    the day that rules 2-3 exclude (a repeat started less than 30 s after it, an overlap
    less than its watch time / 2 <= duration / 2 after it); any earlier one is too far back."""
    watch = fragments.watch_time_of_sql(d, "t.start_position_sec", "t.end_position_sec", "v.duration_sec")
    return f"""
INSERT INTO {TMP_TAIL} (video_id, viewer_id, started_at_us, watch_time_sec)
SELECT l.video_id, l.viewer_id, l.started_at_us, l.watch_time_sec
FROM (
    SELECT t.video_id, t.viewer_id, t.started_at_us, {watch} AS watch_time_sec,
           ROW_NUMBER() OVER (PARTITION BY t.video_id, t.viewer_id
                              ORDER BY t.started_at_us DESC, {d.bytewise("t.event_id")} DESC) AS nth
    FROM plays t
    JOIN videos v ON v.video_id = t.video_id
    WHERE t.started_at_us >= :tail_start_us AND t.started_at_us < :day_start_us
      AND t.video_id >= :lo AND t.video_id < :hi
) l
WHERE l.nth = 1
"""


# The pairs that pass 2a windows: two or more plays that day, or a single play that may follow
# a play of the tail (docs/batch-jobs.md, "Rules 3 and 4 in the daily step"): any other
# single play has no previous play to be excluded by and can reach no cap, so the window
# sort and the reads of its row and of its video would be spent on a play that pass 2a drops
# at the end. Same figures, fewer rows.
_PAIRS_OF_PASS_2 = f"""COUNT(*) > 1
                        OR (MIN(started_at_us) < :early_end_us
                            AND EXISTS (SELECT 1 FROM {TMP_TAIL} t
                                        WHERE t.video_id = plays.video_id AND t.viewer_id = plays.viewer_id))"""


# The pairs with a play over the stream limit that day (stream_limited_plays, written by the
# viewer-keyed step before the partitions): a single play of a pair can be over the limit
# through the viewer's plays of other videos, so these pairs enter pass 2a whatever their
# count. The count is the pair's plays that day, as in the first set.
_PAIRS_OVER_STREAM_LIMIT = """SELECT DISTINCT s.video_id, s.viewer_id,
                               (SELECT COUNT(*) FROM plays n
                                WHERE n.local_day = :day AND n.video_id = s.video_id
                                  AND n.viewer_id = s.viewer_id) AS plays
                        FROM stream_limited_plays s
                        WHERE s.local_day = :day AND s.video_id >= :lo AND s.video_id < :hi"""


def _classify_sql(d: Dialect) -> str:
    """Pass 2a: classifies by rules 2, 3 and 5 the plays that may be excluded by rules 2-5
    (rule 5 read from stream_limited_plays; a pair with such a play is selected whatever its
    count, _PAIRS_OVER_STREAM_LIMIT): those of
    viewer-video pairs with two or more plays that day, or whose single play that day is
    early enough (:early_end_us, the end of the partition's widest window after midnight) to
    follow the pair's play in the tail. Every other play is a view already counted right in
    pass 1. One window over those pairs' plays of the day gives each play's previous one;
    the first play of a pair on the day takes the pair's play in the tail, if any (start and
    watch time). Keeps only the plays that passes 2b and 2c read."""
    previous_watch = f"""CASE WHEN x.prev_started_at_us IS NOT NULL THEN x.prev_watch_sec
                 WHEN x.day_prev_started_at_us IS NOT NULL THEN {fragments.previous_day_watch_sql("x", TMP_TAIL)}
                 ELSE 0 END"""
    prev_watch = fragments.watch_time_of_sql(d, "q.prev_start_sec", "q.prev_end_sec", "v.duration_sec")
    return f"""
INSERT INTO {TMP_PLAYS} (video_id, viewer_id, started_at_us, pair_plays, exclusion,
                         watch_time_sec, ad_views)
SELECT k.video_id, k.viewer_id, k.started_at_us, k.pair_plays, k.exclusion,
       k.watch_time_sec, k.ad_views
FROM (
    SELECT c.video_id, c.viewer_id, c.started_at_us, c.pair_plays,
           -- The attribution order of rules.Exclusion: the self-views are gone already.
           CASE WHEN {fragments.overlap_sql("c")} THEN {_OVERLAP}
                WHEN {fragments.stream_limited_sql("c")} THEN {_STREAM_LIMIT}
                WHEN {fragments.repeat_sql("c")} THEN {_REPEAT}
                ELSE {_PASSING} END AS exclusion,
           {fragments.watch_time_sql(d)} AS watch_time_sec, {fragments.ad_views_sql(d)} AS ad_views
    FROM (
        SELECT x.video_id, x.viewer_id, x.started_at_us, x.pair_plays, x.start_sec, x.end_sec,
               x.duration_sec, x.over_limit, 0 AS self_view, 1 AS counted,
               COALESCE(x.prev_started_at_us, x.day_prev_started_at_us) AS prev_started_at_us,
               {previous_watch} AS prev_watch_sec
        FROM (
            SELECT w.*,
                   CASE WHEN w.prev_started_at_us IS NULL
                        THEN {fragments.previous_day_start_sql("w", TMP_TAIL)} END AS day_prev_started_at_us
            FROM (
                SELECT q.video_id, q.viewer_id, q.started_at_us, q.pair_plays, q.start_sec, q.end_sec,
                       q.over_limit, v.duration_sec, q.prev_started_at_us, {prev_watch} AS prev_watch_sec
                FROM (
                    SELECT p.video_id, p.viewer_id, p.started_at_us, pairs.plays AS pair_plays,
                           p.start_position_sec AS start_sec, p.end_position_sec AS end_sec,
                           {fragments.over_limit_flag_sql("s")} AS over_limit,
                           LAG(p.started_at_us) OVER pair_in_order AS prev_started_at_us,
                           LAG(p.start_position_sec) OVER pair_in_order AS prev_start_sec,
                           LAG(p.end_position_sec) OVER pair_in_order AS prev_end_sec
                    FROM (
                        SELECT video_id, viewer_id, COUNT(*) AS plays FROM plays
                        WHERE local_day = :day AND video_id >= :lo AND video_id < :hi
                        GROUP BY video_id, viewer_id
                        HAVING {_PAIRS_OF_PASS_2}
                        -- UNION, not UNION ALL: a pair of both sets is the same row.
                        UNION
                        {_PAIRS_OVER_STREAM_LIMIT}
                    ) pairs
                    JOIN plays p ON p.local_day = :day AND p.video_id = pairs.video_id
                                AND p.viewer_id = pairs.viewer_id
                    -- The plays over the stream limit (batch/steps/streams.py, before the
                    -- day's partitions): rules.over_stream_limit, decided by viewer.
                    LEFT JOIN stream_limited_plays s
                           ON s.local_day = :day AND s.video_id = p.video_id AND s.viewer_id = p.viewer_id
                          AND s.started_at_us = p.started_at_us AND s.event_id = p.event_id
                    WINDOW pair_in_order AS (PARTITION BY p.video_id, p.viewer_id
                                             ORDER BY p.started_at_us, {d.bytewise("p.event_id")})
                ) q
                -- The video joins after the window: its rows sort narrower (about a quarter
                -- less time for this statement, docs/batch-jobs.md). A self-view is a property
                -- of the pair (the viewer is the video's seller), so dropping those pairs after
                -- the window leaves every other pair's previous playback unchanged.
                JOIN videos v ON v.video_id = q.video_id
                WHERE NOT {fragments.self_view_sql("q")}
            ) w
        ) x
    ) c
) k
-- Only what pass 2b and 2c read: the excluded plays, and the cap's candidates.
WHERE k.exclusion <> {_PASSING} OR k.pair_plays > {rules.DAILY_VIEW_CAP}
"""


def _take_back_exclusions_sql(d: Dialect) -> str:
    """Pass 2b: overlaps, plays over the stream limit and repeats earn no view and no ad
    views; overlaps and plays over the stream limit no watch time either
    (rules.earns_watch_time). Subtracts what pass 1 counted for them."""
    counts = ["excluded_overlap", "excluded_stream_limit", "excluded_repeat"]
    return f"""
INSERT INTO {TMP_AGG} (video_id, plays_read, views, watch_time_sec, ad_views, bad_rows,
                       {", ".join(counts)})
SELECT t.video_id, 0, -COUNT(*),
       -SUM(CASE WHEN t.exclusion IN ({_OVERLAP}, {_STREAM_LIMIT}) THEN t.watch_time_sec ELSE 0 END),
       -SUM(t.ad_views), 0,
       SUM(CASE WHEN t.exclusion = {_OVERLAP} THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.exclusion = {_STREAM_LIMIT} THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.exclusion = {_REPEAT} THEN 1 ELSE 0 END)
FROM {TMP_PLAYS} t
WHERE t.exclusion <> {_PASSING}
GROUP BY t.video_id
{d.upsert_add(["video_id"], ["views", "watch_time_sec", "ad_views", *counts])}
"""


def _take_back_capped_sql(d: Dialect) -> str:
    """Pass 2c: the daily cap over the passing plays of pairs with more than 10 plays that
    day (no other pair can reach it). Passing plays of a pair never share a start instant
    (the later of two would be a repeat), so ordering by started_at alone is exact."""
    return f"""
INSERT INTO {TMP_AGG} (video_id, plays_read, views, watch_time_sec, ad_views, bad_rows,
                       excluded_cap)
SELECT r.video_id, 0, -COUNT(*), 0, -SUM(r.ad_views), 0, COUNT(*)
FROM (
    SELECT t.video_id, t.ad_views,
           ROW_NUMBER() OVER (PARTITION BY t.video_id, t.viewer_id ORDER BY t.started_at_us) AS nth
    FROM {TMP_PLAYS} t
    WHERE t.exclusion = {_PASSING} AND t.pair_plays > {rules.DAILY_VIEW_CAP}
) r
WHERE {fragments.over_daily_cap_sql("r.nth")}
GROUP BY r.video_id
{d.upsert_add(["video_id"], ["views", "ad_views", "excluded_cap"])}
"""


# Exclusion codes in TMP_PLAYS (rules.Exclusion; self-views never get there).
_PASSING, _OVERLAP, _REPEAT, _STREAM_LIMIT = 0, 2, 3, 5

_TMP_AGG_COLUMNS = """
    video_id BIGINT NOT NULL PRIMARY KEY,
    seller_id BIGINT NULL,
    plays_read BIGINT NOT NULL,
    views BIGINT NOT NULL,
    watch_time_sec BIGINT NOT NULL,
    ad_views BIGINT NOT NULL,
    bad_rows BIGINT NOT NULL,
    first_bad_play_id BIGINT NULL,
    excluded_self_view BIGINT NOT NULL DEFAULT 0,
    excluded_overlap BIGINT NOT NULL DEFAULT 0,
    excluded_repeat BIGINT NOT NULL DEFAULT 0,
    excluded_cap BIGINT NOT NULL DEFAULT 0,
    excluded_stream_limit BIGINT NOT NULL DEFAULT 0,
    views_before BIGINT NOT NULL DEFAULT 0,
    ad_views_before BIGINT NOT NULL DEFAULT 0
"""

_TMP_TAIL_COLUMNS = """
    video_id BIGINT NOT NULL,
    viewer_id BIGINT NOT NULL,
    started_at_us BIGINT NOT NULL,
    watch_time_sec BIGINT NOT NULL,
    PRIMARY KEY (video_id, viewer_id)
"""

_TMP_PLAYS_COLUMNS = """
    video_id BIGINT NOT NULL,
    viewer_id BIGINT NOT NULL,
    started_at_us BIGINT NOT NULL,
    pair_plays BIGINT NOT NULL,
    exclusion SMALLINT NOT NULL,
    watch_time_sec BIGINT NOT NULL,
    ad_views BIGINT NOT NULL
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

_EXCLUSION_COUNTS = [
    "excluded_self_view",
    "excluded_overlap",
    "excluded_repeat",
    "excluded_cap",
    "excluded_stream_limit",
]
_DAILY_COLUMNS = [
    "seller_id",
    "views",
    "watch_time_sec",
    "ad_views",
    "cum_views",
    "cum_ad_views",
    "video_revenue",
    "ad_revenue",
    "job_execution_id",
    "plays",
    *_EXCLUSION_COUNTS,
]
_PERIOD_COLUMNS = [
    "seller_id",
    "views",
    "watch_time_sec",
    "ad_views",
    "video_revenue",
    "ad_revenue",
    "plays",
    *_EXCLUSION_COUNTS,
]


def _daily_upsert_sql(d: Dialect, view_revenue: str, ad_revenue: str) -> str:
    return f"""
INSERT INTO daily_video_stats (video_id, day, {", ".join(_DAILY_COLUMNS)})
SELECT a.video_id, :day, a.seller_id, a.views, a.watch_time_sec, a.ad_views,
       a.views_before + a.views, a.ad_views_before + a.ad_views,
       {view_revenue}, {ad_revenue}, :job_execution_id, a.plays_read,
       {", ".join("a." + c for c in _EXCLUSION_COUNTS)}
FROM {TMP_AGG} a {d.select_where_true}
{d.upsert(["video_id", "day"], _DAILY_COLUMNS)}
"""


def _period_upsert_sql(d: Dialect) -> str:
    # DESIGN 2: weekly and monthly figures are exact sums of their days (a week crossing a
    # month boundary counts in each month with its days there), re-summed, never increments.
    return f"""
INSERT INTO period_video_stats (period, period_start, video_id, {", ".join(_PERIOD_COLUMNS)})
SELECT :period, :period_start, s.video_id, MAX(s.seller_id), SUM(s.views),
       SUM(s.watch_time_sec), SUM(s.ad_views),
       {d.money_sum("s.video_revenue")}, {d.money_sum("s.ad_revenue")}, SUM(s.plays),
       {", ".join(f"SUM(s.{c})" for c in _EXCLUSION_COUNTS)}
FROM daily_video_stats s JOIN {TMP_AGG} a ON a.video_id = s.video_id
WHERE s.day >= :period_start AND s.day <= :period_end
GROUP BY s.video_id
{d.upsert(["period", "period_start", "video_id"], _PERIOD_COLUMNS)}
"""


# --- Public API ----------------------------------------------------------------------------


def tier_tables(conn: sa.Connection, day: dt.date) -> tuple[rules.TierTable, rules.TierTable]:
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

    _drop_temp_tables(conn, d)
    conn.execute(sa.text(d.create_temp_table(TMP_AGG, _TMP_AGG_COLUMNS)))
    conn.execute(sa.text(d.create_temp_table(TMP_PLAYS, _TMP_PLAYS_COLUMNS)))
    conn.execute(sa.text(d.create_temp_table(TMP_TAIL, _TMP_TAIL_COLUMNS)))
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
        # Pass 1 has failed the partition on a bad row before pass 2 can trip over it.
        rows_read, rows_written, bad_rows, first_bad = conn.execute(
            sa.text(
                f"SELECT COALESCE(SUM(plays_read), 0), COUNT(*), COALESCE(SUM(bad_rows), 0),"
                f" MIN(first_bad_play_id) FROM {TMP_AGG}"
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


def _drop_temp_tables(conn: sa.Connection, d: Dialect) -> None:
    for name in (TMP_AGG, TMP_PLAYS, TMP_TAIL):
        conn.execute(sa.text(d.drop_temp_table(name)))


def _previous_day_window_us(conn: sa.Connection, lo: int, hi: int) -> int:
    """The widest time around midnight across which a play of the partition's videos may
    follow a playback of an earlier day: max(30 s, duration / 2) of its longest video. A
    repeat starts less than 30 s after its previous playback; an overlap less than that
    playback's watch time / 2 after it, at most duration / 2 (rules.is_repeat, is_overlap)."""
    longest = conn.execute(
        sa.text("SELECT COALESCE(MAX(duration_sec), 0) FROM videos WHERE video_id >= :lo AND video_id < :hi"),
        {"lo": lo, "hi": hi},
    ).scalar_one()
    half_duration_us = -(-int(longest) * 1_000_000 // rules.MAX_PLAYBACK_SPEED)
    return max(rules.REPEAT_WINDOW_US, half_duration_us)


def _finish_partition(
    conn: sa.Connection,
    d: Dialect,
    day: dt.date,
    lo: int,
    hi: int,
    day_start_us: int,
    view_tiers: rules.TierTable,
    ad_tiers: rules.TierTable,
    job_execution_id: int | None,
) -> None:
    """Pass 2, running totals, pricing and the upserts, once pass 1 found no bad row."""
    window_us = _previous_day_window_us(conn, lo, hi)
    conn.execute(
        sa.text(_tail_sql(d)),
        {"lo": lo, "hi": hi, "day_start_us": day_start_us, "tail_start_us": day_start_us - window_us},
    )
    conn.execute(
        _text(_classify_sql(d), "day"),
        {"day": day, "lo": lo, "hi": hi, "early_end_us": day_start_us + window_us},
    )
    conn.execute(sa.text(_take_back_exclusions_sql(d)))
    conn.execute(sa.text(_take_back_capped_sql(d)))
    conn.execute(_text(_PREVIOUS_TOTALS_SQL, "day"), {"day": day})
    view_revenue, view_params = fragments.tier_revenue_sql(
        d, view_tiers, "a.views_before", "(a.views_before + a.views)", "view"
    )
    ad_revenue, ad_params = fragments.tier_revenue_sql(
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
