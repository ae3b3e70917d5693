"""The world of the browser tests (tests/browser/) and the way to launch Chromium, shared with
bench/bench_dashboard.py.

A mesh on MariaDB and Redis, as the e2e tests run: a seller, a second seller and their videos,
playbacks of the previous and the current month (up to now) ingested through the JSON API with
an INGEST account, the real batch run through POST /v1/batch/jobs and the previous month closed
(with a low payout minimum, so that the seller has a payout). The statements are checked against
tests/reference.py once, when the world is built; the tests then compare what the pages show
(data-exact, the contract in issue 16) with the JSON API read with the page's own token.

The browser is Debian's /usr/bin/chromium driven by Playwright for Python (its own browser
download is never used).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from playwright.sync_api import Browser

from domain.periods import day_bounds_us, epoch_us_of, month_start
from services.common import db
from services.settlement.tables import payout_minimums, tier_prices
from tests import reference
from tests.mesh import Mesh

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DURATIONS = (700, 1_300, 2_000, 450, 900, 1_600)  # six videos: the top 5 leaves one out
PLAYS_PER_DAY = 10
MINIMUM_KRW = 10
# Prices with decimals from the world's first day (the design's whole-KRW ones before), with a
# second tier that each video's running totals reach within the two months: amounts such as
# 14650.4 whose exact strings the pages must keep.
TIERS = [("VIEW", 0, "0.7321"), ("VIEW", 60, "1.15"), ("AD", 0, "3.4567"), ("AD", 100, "12.5")]


def launch_chromium(playwright) -> Browser:
    """Debian's Chromium, headless, with nothing fetched from the network on its own."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclasses.dataclass
class Account:
    account_id: int
    username: str
    token: str


@dataclasses.dataclass
class World:
    mesh: Mesh
    zone: ZoneInfo
    today: dt.date
    first_day: dt.date  # the first day of the previous month
    seller: Account
    other: Account
    admin: Account
    videos: list[reference.Video]
    plays: list[reference.Play]
    daily: dict

    @property
    def this_month(self) -> dt.date:
        return month_start(self.today)

    @property
    def last_month(self) -> dt.date:
        return self.first_day

    def url(self, route: str) -> str:
        return f"{self.mesh.base_url}/#/{route.lstrip('/')}"

    def get(self, path: str, token: str | None = None) -> dict:
        status, body = self.mesh.json("GET", path, token=token or self.admin.token)
        assert status == 200, (path, status, body)
        return body


def _plays(world_days: list[dt.date], zone: ZoneInfo, videos: list[int], viewers: list[int], now_us: int):
    """PLAYS_PER_DAY playbacks a day in the first minutes of each day (so that today has some
    soon after midnight), none after now. Each (viewer, video) pair plays at most once a day."""
    plays = []
    for d, day in enumerate(world_days):
        start_us, _ = day_bounds_us(day, zone)
        for k in range(PLAYS_PER_DAY):
            at = start_us + (20 + k * 31 + d) * 1_000_000
            if at >= now_us - 5_000_000:
                continue
            start = (k * 97 + d * 31) % 400
            plays.append(
                reference.Play(
                    f"browser-{day}-{k}",
                    videos[(k + d) % len(videos)],
                    viewers[k % len(viewers)],
                    at,
                    start,
                    start + 120 + (k * 131 + d * 17) % 1_500,
                )
            )
    return plays


def _account(mesh: Mesh, role: str) -> Account:
    username = mesh.unique_username(role.lower())
    if role == "ADMIN":
        account_id, token = mesh.create_admin(username)
    else:
        account_id, token = mesh.sign_up_and_login(role, username)
    return Account(account_id, username, token)


def populate(mesh: Mesh, *, close_last_month: bool = True) -> World:
    """Fills a fresh mesh with the world described above; `close_last_month=False` leaves the
    previous month open (the finance pages' tests close it through the page)."""
    zone = ZoneInfo(mesh.settings.timezone)
    now = dt.datetime.now(dt.UTC)
    today = now.astimezone(zone).date()
    first_day = month_start(month_start(today) - dt.timedelta(days=1))
    days = [first_day + dt.timedelta(days=i) for i in range((today - first_day).days + 1)]
    seller, other, admin = _account(mesh, "SELLER"), _account(mesh, "SELLER"), _account(mesh, "ADMIN")
    videos = []
    for owner, durations in ((seller, DURATIONS), (other, (800,))):
        for n, duration in enumerate(durations):
            status, body = mesh.json(
                "POST",
                "/v1/videos",
                {"title": f"영상 {n + 1} ({duration}s)", "duration_sec": duration},
                token=owner.token,
            )
            assert status == 200, body
            videos.append(reference.Video(int(body["video_id"]), owner.account_id, duration))
    viewers = [mesh.sign_up_and_login("VIEWER")[0] for _ in range(3)] + [seller.account_id]  # self-views too
    plays = _plays(days, zone, [v.video_id for v in videos], viewers, epoch_us_of(now))
    _, ingest = mesh.create_account_directly("INGEST")
    status, body = mesh.record_plays(plays, ingest)
    assert status == 200 and int(body["stored"]) == len(plays), body

    engine = db.make_engine(mesh.settings)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(tier_prices),
                [
                    {"kind": k, "effective_from": first_day, "lower_bound": b, "unit_price": Decimal(p)}
                    for k, b, p in TIERS
                ],
            )
            conn.execute(sa.insert(payout_minimums).values(effective_from=first_day, minimum_krw=MINIMUM_KRW))
    finally:
        engine.dispose()
    status, events = mesh.run_job(
        {"job": "daily", "date": first_day.isoformat(), "to_date": today.isoformat(), "rerun": True}, admin.token
    )
    assert status == 200 and events[-1]["type"] == "JOB_FINISHED", events[-3:]
    if close_last_month:
        status, body = mesh.json("POST", "/v1/settlement/closings", {"month": f"{first_day:%Y-%m}"}, token=admin.token)
        assert status == 200, body

    tiers = reference.DESIGN_TIERS + [reference.TierRow(k, first_day, b, Decimal(p)) for k, b, p in TIERS]
    daily = reference.compute_daily(videos, plays, zone, tiers)
    world = World(mesh, zone, today, first_day, seller, other, admin, videos, plays, daily)
    # The batch computed what the reference computes (so the pages are checked on real figures).
    monthly = reference.compute_periods(daily, "MONTHLY")
    for month in (world.last_month, world.this_month):
        want = sum(
            (
                r.video_revenue + r.ad_revenue
                for (s, _), r in monthly.items()
                if s == month and r.seller_id == seller.account_id
            ),
            Decimal(0),
        )
        got = world.get(f"/v1/sellers/{seller.account_id}/settlements?period=MONTHLY&date={month}", seller.token)
        assert Decimal(got["total"]) - _adjustments(got) == want, month
    return world


def _adjustments(statement: dict) -> Decimal:
    return sum((Decimal(a["amount"]) for a in statement.get("adjustments", [])), Decimal(0))
