"""The rules of DESIGN.md section 2 as SQL fragments, one named function per rule.

Each fragment is an expression over one play (a plays row under the alias given, or a
windowed play that adds prev_started_at_us, prev_watch_sec and duration_sec)
joined with its video `v`; the per-play amounts read the classified play `c` (start_sec,
end_sec, duration_sec, self_view, counted). Named parameters: :day_start_us and :day_end_us,
the local day's bounds. domain/counted_views.py states each rule in Python; tests/reference.py is the
oracle both are tested against.
"""

from __future__ import annotations

from batch.steps.dialect import Dialect
from domain import counted_views


def self_view_sql(p: str) -> str:
    # DESIGN 2 "Counted view" 1 (counted_views.is_self_view): the seller's own playbacks never count.
    return f"(v.seller_id = {p}.viewer_id)"


def watch_time_of_sql(d: Dialect, start: str, end: str, duration: str) -> str:
    # DESIGN 2 "Watch time" (counted_views.watch_time_sec): min(end, duration) - start, never negative.
    return d.greatest("0", f"{d.least(end, duration)} - {start}")


def overlap_sql(p: str) -> str:
    # DESIGN 2 "Counted view" 3 (counted_views.is_overlap): play `p` started before its previous
    # playback (prev_started_at_us, prev_watch_sec) could have ended at 2x:
    # started_at < prev.started_at + watch(prev) / 2, exact (both sides times 2, integers).
    return f"""({p}.prev_started_at_us IS NOT NULL
        AND ({p}.started_at_us - {p}.prev_started_at_us) * {counted_views.MAX_PLAYBACK_SPEED}
            < {p}.prev_watch_sec * 1000000)"""


def repeat_sql(p: str) -> str:
    # DESIGN 2 "Counted view" 2 (counted_views.is_repeat): play `p` started less than 30 s after its
    # previous playback (prev_started_at_us), counted or not. Exactly 30 s apart counts.
    return f"""({p}.prev_started_at_us IS NOT NULL
        AND {p}.started_at_us - {p}.prev_started_at_us < {counted_views.REPEAT_WINDOW_US})"""


def over_stream_limit_sql(running: str) -> str:
    # DESIGN 2 "Counted view" 5 (counted_views.over_stream_limit): `running`, the number of the
    # viewer's earlier plays (any video) running at the play's start, is MAX_STREAMS or more.
    return f"({running} >= {counted_views.MAX_STREAMS})"


def over_limit_flag_sql(s: str) -> str:
    # DESIGN 2 "Counted view" 5 (counted_views.over_stream_limit): 1 when the play has a row `s` in
    # stream_limited_plays (LEFT JOINed on its key), written by the viewer-keyed step.
    return f"(CASE WHEN {s}.event_id IS NULL THEN 0 ELSE 1 END)"


def stream_limited_sql(p: str) -> str:
    # DESIGN 2 "Counted view" 5 (counted_views.over_stream_limit): play `p` (over_limit, from
    # over_limit_flag_sql) started while two earlier plays of its viewer were running.
    return f"({p}.over_limit = 1)"


def over_daily_cap_sql(nth: str) -> str:
    # DESIGN 2 "Counted view" 4 (counted_views.DAILY_VIEW_CAP, counted_views.classify_plays): `nth`, the rank
    # of a play among its viewer's plays of the video that day passing rules 1-3 and 5, is
    # past 10.
    return f"({nth} > {counted_views.DAILY_VIEW_CAP})"


def previous_day_start_sql(p: str, tail: str) -> str:
    # DESIGN 2 "Counted view" 2-3: the start of the latest playback of the same viewer and
    # video before the day, the previous playback of the pair's first play of the day, if it
    # started late enough to be followed by a repeat or an overlap: looked up in `tail`, the
    # pair's latest play of the last max(30 s, duration / 2) before the day (daily.py).
    return f"""(SELECT t.started_at_us FROM {tail} t
        WHERE t.video_id = {p}.video_id AND t.viewer_id = {p}.viewer_id)"""


def previous_day_watch_sql(p: str, tail: str) -> str:
    # DESIGN 2 "Counted view" 3: the watch time of that previous playback.
    return f"""(SELECT t.watch_time_sec FROM {tail} t
        WHERE t.video_id = {p}.video_id AND t.viewer_id = {p}.viewer_id)"""


def bad_row_sql(p: str) -> str:
    # DESIGN 3 "skip nothing": a play the rules cannot price fails the partition.
    return f"""(CASE WHEN v.video_id IS NULL OR v.duration_sec < 0
                 OR {p}.start_position_sec < 0 OR {p}.end_position_sec < {p}.start_position_sec
                 OR {p}.started_at_us < :day_start_us OR {p}.started_at_us >= :day_end_us
               THEN 1 ELSE 0 END)"""


def watch_time_sql(d: Dialect) -> str:
    # DESIGN 2 "Watch time" (counted_views.earns_watch_time): every playback except the seller's own
    # (pass 1; overlapping ones are taken back by the exclusion pass).
    clamped = watch_time_of_sql(d, "c.start_sec", "c.end_sec", "c.duration_sec")
    return f"(CASE WHEN c.self_view = 1 THEN 0 ELSE {clamped} END)"


def ad_views_sql(d: Dialect) -> str:
    # DESIGN 2 "Ads" (counted_views.ad_views): marks 300k < duration with start < mark <= end, only
    # for counted views: floor(min(end, duration - 1) / 300) - floor(start / 300), >= 0.
    step = counted_views.AD_INTERVAL_SEC
    marks = (
        f"{d.int_div(d.least('c.end_sec', 'c.duration_sec - 1'), str(step))} - {d.int_div('c.start_sec', str(step))}"
    )
    return f"(CASE WHEN c.counted = 1 THEN {d.greatest('0', marks)} ELSE 0 END)"


def tier_revenue_sql(
    d: Dialect, table: counted_views.TierTable, before: str, after: str, prefix: str
) -> tuple[str, dict[str, object]]:
    # DESIGN 2 "Prices" (counted_views.TierTable.revenue): marginal tiers over the running total; the
    # units numbered [before, after) are priced by the tier each falls in.
    terms: list[tuple[str, str]] = []
    params: dict[str, object] = {}
    for i, (lower, upper, price) in enumerate(table.ranges()):
        top = after if upper is None else d.least(after, f":{prefix}_upper_{i}")
        overlap = d.greatest("0", f"{top} - {d.greatest(before, f':{prefix}_lower_{i}')}")
        terms.append((f":{prefix}_price_{i}", overlap))
        params[f"{prefix}_lower_{i}"] = lower
        if upper is not None:
            params[f"{prefix}_upper_{i}"] = upper
        params[f"{prefix}_price_{i}"] = d.price_param(price)
    return d.price_total(terms), params
