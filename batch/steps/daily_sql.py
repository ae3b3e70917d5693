"""The statements of the daily step (batch/steps/daily.py runs them), as SQL text per dialect.

Pass 1 (`aggregate_sql`) into the per-video temporary table TMP_AGG; pass 2: the tail of the
previous day (`tail_sql`), the classification by rules 2, 3 and 5 (`classify_sql`) into
TMP_PLAYS, and what the excluded and capped plays earned in pass 1 taken back
(`take_back_exclusions_sql`, `take_back_capped_sql`); then the running totals
(`PREVIOUS_TOTALS_SQL`) and the upserts of the daily and period rows (`daily_upsert_sql`,
`period_upsert_sql`). Each rule is one named fragment of batch/steps/fragments.py.
"""

from __future__ import annotations

from batch.steps import fragments
from batch.steps.dialect import Dialect
from domain import counted_views

TMP_AGG = "tmp_day_agg"
TMP_PLAYS = "tmp_day_plays"  # the plays of pass 2, classified by rules 2, 3 and 5
TMP_TAIL = "tmp_day_tail"  # per viewer-video pair, its latest play just before the day


def aggregate_sql(d: Dialect) -> str:
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


def tail_sql(d: Dialect) -> str:
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


def classify_sql(d: Dialect) -> str:
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
                         watch_time_sec, ad_views, start_sec, end_sec, duration_sec)
SELECT k.video_id, k.viewer_id, k.started_at_us, k.pair_plays, k.exclusion,
       k.watch_time_sec, k.ad_views, k.start_sec, k.end_sec, k.duration_sec
FROM (
    SELECT c.video_id, c.viewer_id, c.started_at_us, c.pair_plays,
           -- The attribution order of counted_views.Exclusion: the self-views are gone already.
           CASE WHEN {fragments.overlap_sql("c")} THEN {_OVERLAP}
                WHEN {fragments.stream_limited_sql("c")} THEN {_STREAM_LIMIT}
                WHEN {fragments.repeat_sql("c")} THEN {_REPEAT}
                ELSE {PASSING} END AS exclusion,
           {fragments.watch_time_sql(d)} AS watch_time_sec, {fragments.ad_views_sql(d)} AS ad_views,
           c.start_sec, c.end_sec, c.duration_sec
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
                    -- day's partitions): counted_views.over_stream_limit, decided by viewer.
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
WHERE k.exclusion <> {PASSING} OR k.pair_plays > {counted_views.DAILY_VIEW_CAP}
"""


def take_back_exclusions_sql(d: Dialect) -> str:
    """Pass 2b: overlaps, plays over the stream limit and repeats earn no view and no ad
    views; overlaps and plays over the stream limit no watch time either
    (counted_views.earns_watch_time). Subtracts what pass 1 counted for them."""
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
WHERE t.exclusion <> {PASSING}
GROUP BY t.video_id
{d.upsert_add(["video_id"], ["views", "watch_time_sec", "ad_views", *counts])}
"""


def take_back_capped_sql(d: Dialect) -> str:
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
    WHERE t.exclusion = {PASSING} AND t.pair_plays > {counted_views.DAILY_VIEW_CAP}
) r
WHERE {fragments.over_daily_cap_sql("r.nth")}
GROUP BY r.video_id
{d.upsert_add(["video_id"], ["views", "ad_views", "excluded_cap"])}
"""


# Exclusion codes in TMP_PLAYS (counted_views.Exclusion; self-views never get there).
PASSING, _OVERLAP, _REPEAT, _STREAM_LIMIT = 0, 2, 3, 5

TMP_AGG_COLUMNS = """
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

TMP_TAIL_COLUMNS = """
    video_id BIGINT NOT NULL,
    viewer_id BIGINT NOT NULL,
    started_at_us BIGINT NOT NULL,
    watch_time_sec BIGINT NOT NULL,
    PRIMARY KEY (video_id, viewer_id)
"""

TMP_PLAYS_COLUMNS = """
    video_id BIGINT NOT NULL,
    viewer_id BIGINT NOT NULL,
    started_at_us BIGINT NOT NULL,
    pair_plays BIGINT NOT NULL,
    exclusion SMALLINT NOT NULL,
    watch_time_sec BIGINT NOT NULL,
    ad_views BIGINT NOT NULL,
    start_sec BIGINT NOT NULL,  -- the play's positions and its video's duration: retention.py
    end_sec BIGINT NOT NULL,
    duration_sec BIGINT NOT NULL
"""

# DESIGN 2 "Precise points": each day is priced from the running totals at the end of the
# previous computed day of the video (never reset; 0 before its first playback).
PREVIOUS_TOTALS_SQL = f"""
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


def daily_upsert_sql(d: Dialect, view_revenue: str, ad_revenue: str) -> str:
    return f"""
INSERT INTO daily_video_stats (video_id, day, {", ".join(_DAILY_COLUMNS)})
SELECT a.video_id, :day, a.seller_id, a.views, a.watch_time_sec, a.ad_views,
       a.views_before + a.views, a.ad_views_before + a.ad_views,
       {view_revenue}, {ad_revenue}, :job_execution_id, a.plays_read,
       {", ".join("a." + c for c in _EXCLUSION_COUNTS)}
FROM {TMP_AGG} a {d.select_where_true}
{d.upsert(["video_id", "day"], _DAILY_COLUMNS)}
"""


def period_upsert_sql(d: Dialect) -> str:
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
