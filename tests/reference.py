"""The oracle: DESIGN.md section 2 written as plainly as possible, for property tests.

Deliberately naive and independent of domain/counted_views.py and batch/steps: it walks every play,
finds each play's predecessor by sorting, compares instants as exact fractions, checks the
stream limit by comparing every play with every earlier play of its viewer, counts the
passing plays of each viewer, video and day one by one, counts ad marks one by one and
prices every view and ad view one unit at a time. Slow, and obviously correct; use it on small data sets.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Video:
    video_id: int
    seller_id: int
    duration_sec: int


@dataclass(frozen=True)
class Play:
    event_id: str
    video_id: int
    viewer_id: int
    started_at_us: int
    start_position_sec: int
    end_position_sec: int


@dataclass(frozen=True)
class TierRow:
    kind: str  # VIEW | AD
    effective_from: dt.date
    lower_bound: int
    unit_price: Decimal


@dataclass(frozen=True)
class Seed:
    """Running totals of a video at the end of a day before the plays (a prior daily row)."""

    day: dt.date
    cum_views: int
    cum_ad_views: int


@dataclass(frozen=True)
class DailyRow:
    video_id: int
    day: dt.date
    seller_id: int
    views: int
    watch_time_sec: int
    ad_views: int
    cum_views: int
    cum_ad_views: int
    video_revenue: Decimal
    ad_revenue: Decimal
    # Playbacks of the day (or period) and how many each rule kept from being a view.
    plays: int = 0
    excluded_self_view: int = 0
    excluded_overlap: int = 0
    excluded_repeat: int = 0
    excluded_cap: int = 0
    excluded_stream_limit: int = 0


@dataclass(frozen=True)
class PeriodRow:
    period: str
    period_start: dt.date
    video_id: int
    seller_id: int
    views: int
    watch_time_sec: int
    ad_views: int
    video_revenue: Decimal
    ad_revenue: Decimal
    # Playbacks of the day (or period) and how many each rule kept from being a view.
    plays: int = 0
    excluded_self_view: int = 0
    excluded_overlap: int = 0
    excluded_repeat: int = 0
    excluded_cap: int = 0
    excluded_stream_limit: int = 0


DESIGN_TIERS = [
    TierRow(kind, dt.date(1970, 1, 1), bound, Decimal(price))
    for bound, view_price, ad_price in [
        (0, "1.0", "10"),
        (100_000, "1.1", "12"),
        (500_000, "1.3", "15"),
        (1_000_000, "1.5", "20"),
    ]
    for kind, price in (("VIEW", view_price), ("AD", ad_price))
]


def local_day(started_at_us: int, zone: ZoneInfo) -> dt.date:
    utc = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=started_at_us)
    return utc.astimezone(zone).date()


def unit_price(tiers: list[TierRow], kind: str, day: dt.date, count_before: int) -> Decimal:
    """The price of one unit whose cumulative count before it is `count_before`."""
    in_force = max(t.effective_from for t in tiers if t.kind == kind and t.effective_from <= day)
    bracket = max(
        (t for t in tiers if t.kind == kind and t.effective_from == in_force and t.lower_bound <= count_before),
        key=lambda t: t.lower_bound,
    )
    return bracket.unit_price


def price(tiers: list[TierRow], kind: str, day: dt.date, before: int, count: int) -> Decimal:
    total = Decimal(0)
    for n in range(before, before + count):
        total += unit_price(tiers, kind, day, n)
    return total


def over_stream_limit(videos: dict[int, Video], plays: list[Play]) -> set[str]:
    """DESIGN 2 "Counted view" 5, naively: the event_ids of the plays that start while two or
    more earlier plays of the same viewer (any video; earlier in (started_at, event_id
    byte-wise) order; whatever their own verdict) are running, a play P running at t when
    P.started_at <= t < P.started_at + watch_time(P) / 2 in exact fractions. O(n^2) per viewer."""
    by_viewer: dict[int, list[Play]] = defaultdict(list)
    for play in plays:
        by_viewer[play.viewer_id].append(play)
    over = set()
    for viewer_plays in by_viewer.values():
        ordered = sorted(viewer_plays, key=lambda p: (p.started_at_us, p.event_id.encode("utf-8")))
        for i, play in enumerate(ordered):
            running = 0
            for earlier in ordered[:i]:
                duration = videos[earlier.video_id].duration_sec
                watched = max(0, min(earlier.end_position_sec, duration) - earlier.start_position_sec)
                ends = Fraction(earlier.started_at_us) + Fraction(watched * 1_000_000, 2)
                if earlier.started_at_us <= play.started_at_us and Fraction(play.started_at_us) < ends:
                    running += 1
            if running >= 2:
                over.add(play.event_id)
    return over


def classify(
    videos: dict[int, Video], plays: list[Play], zone: ZoneInfo
) -> dict[str, tuple[bool, int, int, str | None]]:
    """event_id -> (counted view?, watch time, ad views, why not counted) for every play.

    The reason is the strongest rule that applies: SELF_VIEW, OVERLAP, STREAM_LIMIT, REPEAT,
    CAP, or None. The cap counts only the plays that pass the other four."""
    limited = over_stream_limit(videos, plays)
    by_pair: dict[tuple[int, int], list[Play]] = defaultdict(list)
    for play in plays:
        by_pair[(play.video_id, play.viewer_id)].append(play)
    result = {}
    for (video_id, viewer_id), pair_plays in by_pair.items():
        video = videos[video_id]
        pair_plays.sort(key=lambda p: (p.started_at_us, p.event_id.encode("utf-8")))
        counted_on: dict[dt.date, int] = defaultdict(int)
        for i, play in enumerate(pair_plays):
            previous = pair_plays[i - 1] if i > 0 else None
            watched = max(0, min(play.end_position_sec, video.duration_sec) - play.start_position_sec)
            own = viewer_id == video.seller_id
            overlap = repeat = False
            if previous is not None:
                previous_watched = max(
                    0, min(previous.end_position_sec, video.duration_sec) - previous.start_position_sec
                )
                # started_at < previous.started_at + watch / 2, in exact fractions of a microsecond
                overlap = Fraction(play.started_at_us) < previous.started_at_us + Fraction(
                    previous_watched * 1_000_000, 2
                )
                repeat = play.started_at_us - previous.started_at_us < 30_000_000
            streams = play.event_id in limited
            capped = False
            if not (own or overlap or streams or repeat):
                day = local_day(play.started_at_us, zone)
                counted_on[day] += 1
                capped = counted_on[day] > 10
            reason = (
                "SELF_VIEW"
                if own
                else "OVERLAP"
                if overlap
                else "STREAM_LIMIT"
                if streams
                else "REPEAT"
                if repeat
                else "CAP"
                if capped
                else None
            )
            counted = reason is None
            if own or overlap or streams:
                watched = 0
            ads = 0
            if counted:
                for mark in range(300, video.duration_sec, 300):
                    if play.start_position_sec < mark <= play.end_position_sec:
                        ads += 1
            result[play.event_id] = (counted, watched, ads, reason)
    return result


def compute_daily(
    videos: list[Video],
    plays: list[Play],
    zone: ZoneInfo,
    tiers: list[TierRow] = DESIGN_TIERS,
    seeds: dict[int, Seed] | None = None,
) -> dict[tuple[int, dt.date], DailyRow]:
    """Every (video, local day) with plays, with running totals and exact revenues."""
    by_id = {v.video_id: v for v in videos}
    flags = classify(by_id, plays, zone)
    sums: dict[tuple[int, dt.date], dict] = defaultdict(lambda: defaultdict(int))
    for play in plays:
        counted, watched, ads, reason = flags[play.event_id]
        row = sums[(play.video_id, local_day(play.started_at_us, zone))]
        row["views"] += int(counted)
        row["watched"] += watched
        row["ads"] += ads
        row["plays"] += 1
        if reason is not None:
            row[reason] += 1
    result = {}
    running = {vid: (s.cum_views, s.cum_ad_views) for vid, s in (seeds or {}).items()}
    for video_id, day in sorted(sums, key=lambda key: (key[1], key[0])):
        row = sums[(video_id, day)]
        views, watched, ads = row["views"], row["watched"], row["ads"]
        cum_views, cum_ads = running.get(video_id, (0, 0))
        result[(video_id, day)] = DailyRow(
            video_id=video_id,
            day=day,
            seller_id=by_id[video_id].seller_id,
            views=views,
            watch_time_sec=watched,
            ad_views=ads,
            cum_views=cum_views + views,
            cum_ad_views=cum_ads + ads,
            video_revenue=price(tiers, "VIEW", day, cum_views, views),
            ad_revenue=price(tiers, "AD", day, cum_ads, ads),
            plays=row["plays"],
            excluded_self_view=row["SELF_VIEW"],
            excluded_overlap=row["OVERLAP"],
            excluded_repeat=row["REPEAT"],
            excluded_cap=row["CAP"],
            excluded_stream_limit=row["STREAM_LIMIT"],
        )
        running[video_id] = (cum_views + views, cum_ads + ads)
    return result


def compute_retention(
    videos: list[Video], plays: list[Play], zone: ZoneInfo
) -> dict[tuple[int, dt.date], tuple[int, tuple[int, ...]]]:
    """Audience retention (DESIGN 2c) by brute force: per (video, local day) with plays, the
    counted views and, for each k in 0..99, how many counted views covered the point at
    second k * duration / 100 (start * 100 <= k * duration < end * 100), every point
    checked against every counted play."""
    by_id = {v.video_id: v for v in videos}
    flags = classify(by_id, plays, zone)
    result: dict[tuple[int, dt.date], tuple[int, list[int]]] = {}
    for play in plays:
        key = (play.video_id, local_day(play.started_at_us, zone))
        views, points = result.setdefault(key, (0, [0] * 100))
        if not flags[play.event_id][0]:
            continue
        duration = by_id[play.video_id].duration_sec
        for k in range(100):
            if play.start_position_sec * 100 <= k * duration < play.end_position_sec * 100:
                points[k] += 1
        result[key] = (views + 1, points)
    return {key: (views, tuple(points)) for key, (views, points) in result.items()}


def period_start(period: str, day: dt.date) -> dt.date:
    if period == "WEEKLY":
        return day - dt.timedelta(days=day.isoweekday() - 1)
    return dt.date(day.year, day.month, 1)


def compute_periods(daily: dict[tuple[int, dt.date], DailyRow], period: str) -> dict[tuple[dt.date, int], PeriodRow]:
    """Weekly (ISO, by Monday) or monthly sums of the daily rows."""
    groups: dict[tuple[dt.date, int], list[DailyRow]] = defaultdict(list)
    for row in daily.values():
        groups[(period_start(period, row.day), row.video_id)].append(row)
    return {
        key: PeriodRow(
            period=period,
            period_start=key[0],
            video_id=key[1],
            seller_id=rows[0].seller_id,
            views=sum(r.views for r in rows),
            watch_time_sec=sum(r.watch_time_sec for r in rows),
            ad_views=sum(r.ad_views for r in rows),
            video_revenue=sum((r.video_revenue for r in rows), Decimal(0)),
            ad_revenue=sum((r.ad_revenue for r in rows), Decimal(0)),
            plays=sum(r.plays for r in rows),
            excluded_self_view=sum(r.excluded_self_view for r in rows),
            excluded_overlap=sum(r.excluded_overlap for r in rows),
            excluded_repeat=sum(r.excluded_repeat for r in rows),
            excluded_cap=sum(r.excluded_cap for r in rows),
            excluded_stream_limit=sum(r.excluded_stream_limit for r in rows),
        )
        for key, rows in groups.items()
    }


SERIES_FIELDS = (
    "views",
    "watch_time_sec",
    "ad_views",
    "video_revenue",
    "ad_revenue",
    "plays",
    "excluded_self_view",
    "excluded_overlap",
    "excluded_repeat",
    "excluded_cap",
    "excluded_stream_limit",
)
FROZEN_FIELDS = ("views", "ad_views", "video_revenue", "ad_revenue")  # a statement's figures


def seller_series(
    daily: dict[tuple[int, dt.date], DailyRow],
    seller_id: int,
    period: str,
    starts: list[dt.date],
    *,
    at_close: dict[dt.date, dict[tuple[int, dt.date], DailyRow]] | None = None,
) -> list[dict]:
    """One dict of SERIES_FIELDS per period start (DAILY, WEEKLY or MONTHLY), summed day by
    day over every daily row of the seller. A day of a closed month (a key of `at_close`, whose
    value is the daily rows as computed when that month was closed) counts FROZEN_FIELDS as
    they were at its close and its other figures as they are now: statistics are never
    frozen, money and the statement's counts are."""
    at_close = at_close or {}
    points = {start: dict.fromkeys(SERIES_FIELDS, 0) for start in starts}
    for point in points.values():
        point["video_revenue"] = point["ad_revenue"] = Decimal(0)

    def start_of(day: dt.date) -> dt.date:
        return day if period == "DAILY" else period_start(period, day)

    def month_of(day: dt.date) -> dt.date:
        return dt.date(day.year, day.month, 1)

    for row in daily.values():
        if row.seller_id == seller_id and start_of(row.day) in points:
            for name in SERIES_FIELDS:
                if not (month_of(row.day) in at_close and name in FROZEN_FIELDS):
                    points[start_of(row.day)][name] += getattr(row, name)
    for month, rows in at_close.items():
        for row in rows.values():
            if row.seller_id == seller_id and month_of(row.day) == month and start_of(row.day) in points:
                for name in FROZEN_FIELDS:
                    points[start_of(row.day)][name] += getattr(row, name)
    return [points[start] for start in starts]


# --- the ledger (DESIGN 2a), recomputed independently -----------------------------------------


@dataclass
class LedgerModel:
    """What the ledger must hold after a sequence of closes and payout marks, from the raw
    playbacks alone: `close(month, monthly)` takes the months' figures as computed from every
    play known at that moment (compute_daily + compute_periods(..., "MONTHLY"))."""

    minimum_krw: int = 10_000
    # (seller_id, kind, posted_month, original_month, video_id, payout_id, amount)
    entries: list[tuple] = field(default_factory=list)
    closed: list[dt.date] = field(default_factory=list)
    # payout key (seller_id, month) -> [amount_krw, status]
    payouts: dict[tuple[int, dt.date], list] = field(default_factory=dict)
    # sellers without a complete payout profile: their payouts are HELD until set_profile
    without_profile: set[int] = field(default_factory=set)
    approved: set[dt.date] = field(default_factory=set)  # months whose payouts were approved

    def held(self, month: dt.date, video_id: int) -> Decimal:
        return sum(
            (e[6] for e in self.entries if e[1] in ("EARNING", "ADJUSTMENT") and e[3] == month and e[4] == video_id),
            Decimal(0),
        )

    def close(self, month: dt.date, monthly: dict[tuple[dt.date, int], PeriodRow]) -> None:
        for (start, video_id), row in sorted(monthly.items()):
            amount = row.video_revenue + row.ad_revenue
            if start == month and amount != 0:
                self.entries.append((row.seller_id, "EARNING", month, month, video_id, None, amount))
        sellers_of = {video_id: row.seller_id for (_, video_id), row in monthly.items()}
        sellers_of.update({e[4]: e[0] for e in self.entries if e[4] is not None})
        for earlier in sorted(self.closed):
            videos = {v for (s, v) in monthly if s == earlier} | {e[4] for e in self.entries if e[3] == earlier}
            for video_id in sorted(videos):
                row = monthly.get((earlier, video_id))
                computed = row.video_revenue + row.ad_revenue if row else Decimal(0)
                difference = computed - self.held(earlier, video_id)
                if difference != 0:
                    self.entries.append(
                        (sellers_of[video_id], "ADJUSTMENT", month, earlier, video_id, None, difference)
                    )
        self.closed.append(month)
        for seller_id in sorted({e[0] for e in self.entries}):
            balance = self.balance(seller_id)
            if balance >= self.minimum_krw:
                amount = int(balance)  # balance >= minimum > 0: int() truncates toward zero
                self.payouts[(seller_id, month)] = [amount, "HELD" if seller_id in self.without_profile else "PENDING"]
                self.entries.append((seller_id, "PAYOUT", month, None, None, (seller_id, month), Decimal(-amount)))

    def approve(self, month: dt.date) -> None:
        """Maker-checker: the month's PENDING payouts become APPROVED (once; again: nothing)."""
        if month in self.approved:
            return
        self.approved.add(month)
        for (_, payout_month), payout in self.payouts.items():
            if payout_month == month and payout[1] == "PENDING":
                payout[1] = "APPROVED"

    def set_profile(self, seller_id: int) -> None:
        """The seller completes their profile: each HELD payout is released, APPROVED at once
        when its month was approved already, PENDING otherwise."""
        self.without_profile.discard(seller_id)
        for (payout_seller, month), payout in self.payouts.items():
            if payout_seller == seller_id and payout[1] == "HELD":
                payout[1] = "APPROVED" if month in self.approved else "PENDING"

    def mark(self, key: tuple[int, dt.date], status: str) -> None:
        payout = self.payouts[key]
        if payout[1] != "APPROVED":  # only approved payouts are marked; marked ones stay
            return
        payout[1] = status
        if status == "FAILED":
            self.entries.append((key[0], "PAYOUT_REVERSAL", key[1], None, None, key, Decimal(payout[0])))

    def balance(self, seller_id: int) -> Decimal:
        return sum((e[6] for e in self.entries if e[0] == seller_id), Decimal(0))

    def paid(self, key: tuple[int, dt.date]) -> tuple[Decimal, Decimal, Decimal]:
        """What payout `key` pays: (the sum of the seller's non-PAYOUT entries posted after
        their previous PAYOUT entry and before this one, the balance just after the previous
        PAYOUT entry (0 for the first), the balance just after this one)."""
        mine = [e for e in self.entries if e[0] == key[0]]
        payouts = [i for i, e in enumerate(mine) if e[1] == "PAYOUT"]
        this = next(i for i in payouts if mine[i][5] == key)
        earlier = [i for i in payouts if i < this]
        start = earlier[-1] + 1 if earlier else 0
        total = sum((e[6] for e in mine[start:this]), Decimal(0))
        return total, sum((e[6] for e in mine[:start]), Decimal(0)), sum((e[6] for e in mine[: this + 1]), Decimal(0))


def realtime_estimate(
    videos: dict[int, Video], plays: list[Play], now: dt.datetime, seller_id: int, video_id: int | None = None
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """DESIGN 2c's realtime estimate, walked play by play with datetimes: (minutes, hours),
    each a list of (start as RFC 3339 UTC, playbacks), oldest first. A play counts in the
    minute and the hour its start falls in (UTC), for the seller's videos (or the one video),
    unless its viewer is the video's seller; the minutes are the 60 up to and including the
    current one, the hours the 48 up to and including the current one."""
    now = now.astimezone(dt.UTC)
    this_minute = now.replace(second=0, microsecond=0)
    this_hour = this_minute.replace(minute=0)
    minutes = [this_minute - dt.timedelta(minutes=59 - i) for i in range(60)]
    hours = [this_hour - dt.timedelta(hours=47 - i) for i in range(48)]
    per_minute = dict.fromkeys(minutes, 0)
    per_hour = dict.fromkeys(hours, 0)
    for play in plays:
        video = videos[play.video_id]
        if video.seller_id != seller_id or (video_id is not None and play.video_id != video_id):
            continue
        if play.viewer_id == video.seller_id:
            continue
        started = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=play.started_at_us)
        if started >= this_minute + dt.timedelta(minutes=1):
            continue  # its minute has not come yet
        minute = started.replace(second=0, microsecond=0)
        if minute in per_minute:
            per_minute[minute] += 1
        if minute.replace(minute=0) in per_hour:
            per_hour[minute.replace(minute=0)] += 1

    def rfc3339(at: dt.datetime) -> str:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    return [(rfc3339(m), n) for m, n in per_minute.items()], [(rfc3339(h), n) for h, n in per_hour.items()]


# --- creator analytics (DESIGN 2c): RPM and comparisons, recomputed independently ----------


def rpm(video_revenue: Decimal, ad_revenue: Decimal, views: int) -> Decimal | None:
    """Revenue per 1,000 counted views, in ten-thousandths rounded half away from zero (the
    money scale); None without views. Counted in whole ten-thousandths with integers."""
    if views == 0:
        return None
    revenue = Fraction(video_revenue) + Fraction(ad_revenue)
    ten_thousandths = abs(revenue) * 1000 * 10_000 / views
    whole = int(ten_thousandths + Fraction(1, 2))  # int() truncates a positive value: floor
    sign = "-" if revenue < 0 and whole else ""
    return Decimal(f"{sign}{whole // 10_000}.{whole % 10_000:04d}")


def year_earlier(day: dt.date) -> dt.date:
    try:
        return dt.date(day.year - 1, day.month, day.day)
    except ValueError:  # Feb 29: the year before has none
        return dt.date(day.year - 1, 2, 28)


def earlier_starts(compare: str, period: str, starts: list[dt.date]) -> list[dt.date]:
    """The period starts of the range a series over `starts` is compared with, walked one
    period at a time: PREVIOUS, as many periods just before; YEAR_AGO, the same dates a year
    earlier (DAILY, every day between the mapped ends), 364 days earlier (WEEKLY) or the same
    months a year earlier (MONTHLY)."""
    if compare == "PREVIOUS":
        result, start = [], starts[0]
        for _ in starts:
            if period == "DAILY":
                start -= dt.timedelta(days=1)
            elif period == "WEEKLY":
                start -= dt.timedelta(days=7)
            else:
                start = (start - dt.timedelta(days=1)).replace(day=1)
            result.insert(0, start)
        return result
    if period == "WEEKLY":
        return [start - dt.timedelta(days=364) for start in starts]
    if period == "MONTHLY":
        return [start.replace(year=start.year - 1) for start in starts]
    day, last, result = year_earlier(starts[0]), year_earlier(starts[-1]), []
    while day <= last:
        result.append(day)
        day += dt.timedelta(days=1)
    return result


def figure_change(earlier: Decimal | int, current: Decimal | int) -> tuple[Decimal, str]:
    """(current - earlier, percent of |earlier| to one decimal half away from zero, "new"
    when earlier is 0 and current is not, "0.0" when both are)."""
    absolute = Decimal(current) - Decimal(earlier)
    if earlier == 0:
        return absolute, ("new" if current != 0 else "0.0")
    exact = (Fraction(current) - Fraction(earlier)) * 100 / abs(Fraction(earlier))
    tenths = int(abs(exact) * 10 + Fraction(1, 2))
    sign = "-" if exact < 0 and tenths else ""
    return absolute, f"{sign}{tenths // 10}.{tenths % 10}"


def series_totals(points: list[dict]) -> dict:
    """SERIES_FIELDS summed over the points (reference.seller_series's dicts), with their rpm."""
    sums = {name: sum((p[name] for p in points), Decimal(0) if "revenue" in name else 0) for name in SERIES_FIELDS}
    return {**sums, "rpm": rpm(sums["video_revenue"], sums["ad_revenue"], sums["views"])}


def series_changes(earlier: dict, current: dict) -> dict[str, tuple[Decimal, str]]:
    """figure_change per figure of two series_totals, and of their revenue (video + ad); a
    missing RPM counts as 0."""

    def value(totals: dict, name: str) -> Decimal | int:
        if name == "revenue":
            return totals["video_revenue"] + totals["ad_revenue"]
        return totals[name] or Decimal(0)

    return {
        name: figure_change(value(earlier, name), value(current, name)) for name in (*SERIES_FIELDS, "revenue", "rpm")
    }


def payout_taxes(gross_krw: int, tax_type: str) -> tuple[int, int, int, int]:
    """DESIGN 2b's default taxes of a payout, in integer arithmetic (no Decimal, no rates
    table: independent of domain/taxes.py): (income tax, local income tax, VAT, net).
    INDIVIDUAL: 3% truncated to 10 KRW, 10% of it truncated to 10 KRW, neither under 1,000 KRW.
    BUSINESS: VAT 10% truncated to whole KRW, added."""
    if tax_type == "BUSINESS":
        vat = gross_krw // 10
        return 0, 0, vat, gross_krw + vat
    income = gross_krw * 3 // 100 // 10 * 10
    if income < 1_000:
        return 0, 0, 0, gross_krw
    local = income // 10 // 10 * 10
    return income, local, 0, gross_krw - income - local
