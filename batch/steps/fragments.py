"""The rules of DESIGN.md section 2 as SQL fragments, one named function per rule.

Each fragment is an expression over one play (a plays row under the alias given, or the
windowed play `w`, which adds prev_started_at_us and next_started_at_us) joined with its
video `v`; the per-play amounts read the classified play `c` (start_sec, end_sec,
duration_sec, self_view, counted). Named parameters: :day_start_us and :day_end_us, the
local day's bounds. batch/rules.py states each rule in
Python; tests/reference.py is the oracle both are tested against.
"""

from __future__ import annotations

from batch import rules
from batch.steps.dialect import Dialect


def self_view_sql(p: str) -> str:
    # DESIGN 2 "Counted view" 1 (rules.is_self_view): the seller's own playbacks never count.
    return f"(v.seller_id = {p}.viewer_id)"


def repeat_exact_sql(d: Dialect, p: str) -> str:
    # DESIGN 2 "Counted view" 2 (rules.is_repeat), by definition: play `p` started less than
    # 30 s after the previous playback of the same viewer and video (counted or not; ties on
    # started_at ordered by event_id byte-wise). Equivalently: some playback before it in that
    # order started less than 30 s before it, on any day (the window crosses midnight).
    # Two index lookups per play (ix_plays_repeat): used only where the window cannot answer.
    return f"""(CASE WHEN EXISTS (
                 SELECT 1 FROM plays q
                 WHERE q.video_id = {p}.video_id AND q.viewer_id = {p}.viewer_id
                   AND q.started_at_us > {p}.started_at_us - {rules.REPEAT_WINDOW_US}
                   AND q.started_at_us < {p}.started_at_us)
            OR EXISTS (
                 SELECT 1 FROM plays me JOIN plays t
                   ON t.video_id = me.video_id AND t.viewer_id = me.viewer_id
                  AND t.started_at_us = me.started_at_us
                  AND {d.bytewise('t.event_id')} < {d.bytewise('me.event_id')}
                 WHERE me.play_id = {p}.play_id)
          THEN 1 ELSE 0 END)"""


def repeat_by_window_sql(d: Dialect) -> str:
    # DESIGN 2 "Counted view" 2 (rules.is_repeat) for a play `w` of the day that starts 30 s
    # or more after midnight (so any playback less than 30 s before it is on the same day):
    # the window over the pair's plays of the day, ordered by started_at (narrow sort rows),
    # gives the previous start; a tie on started_at falls back to the exact rule (event_id).
    return f"""(CASE
        WHEN w.prev_started_at_us = w.started_at_us OR w.next_started_at_us = w.started_at_us
          THEN {repeat_exact_sql(d, 'w')}
        WHEN w.started_at_us - w.prev_started_at_us < {rules.REPEAT_WINDOW_US} THEN 1
        ELSE 0 END)"""


def in_first_window_of_day_sql(p: str) -> str:
    # DESIGN 2 "Counted view" 2: the 30-second window crosses midnight; plays this early in
    # the day may repeat a playback of the previous day.
    return f"({p}.started_at_us < :day_start_us + {rules.REPEAT_WINDOW_US})"


def bad_row_sql(p: str) -> str:
    # DESIGN 3 "skip nothing": a play the rules cannot price fails the partition.
    return f"""(CASE WHEN v.video_id IS NULL OR v.duration_sec < 0
                 OR {p}.start_position_sec < 0 OR {p}.end_position_sec < {p}.start_position_sec
                 OR {p}.started_at_us < :day_start_us OR {p}.started_at_us >= :day_end_us
               THEN 1 ELSE 0 END)"""


def watch_time_sql(d: Dialect) -> str:
    # DESIGN 2 "Watch time" (rules.watch_time_sec): min(end, duration) - start, never negative,
    # every playback except the seller's own.
    clamped = d.greatest("0", f"{d.least('c.end_sec', 'c.duration_sec')} - c.start_sec")
    return f"(CASE WHEN c.self_view = 1 THEN 0 ELSE {clamped} END)"


def ad_views_sql(d: Dialect) -> str:
    # DESIGN 2 "Ads" (rules.ad_views): marks 300k < duration with start < mark <= end, only
    # for counted views: floor(min(end, duration - 1) / 300) - floor(start / 300), >= 0.
    step = rules.AD_INTERVAL_SEC
    marks = (
        f"{d.int_div(d.least('c.end_sec', 'c.duration_sec - 1'), str(step))}"
        f" - {d.int_div('c.start_sec', str(step))}"
    )
    return f"(CASE WHEN c.counted = 1 THEN {d.greatest('0', marks)} ELSE 0 END)"


def tier_revenue_sql(
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
