"""The dashboard in headless Chromium: every figure a page shows (its data-exact attribute)
equals the JSON API's answer for the same period, read by the test with the page's own token;
the refusals, the expired session, the language switch and the admin pages (tests/browser/conftest.py
builds the world: real plays, the real batch, a closed month).

Selectors are the data-testid attributes of the contract (issue 16) only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import time
from collections.abc import Iterable
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.mesh import PASSWORD
from tests.plugins.browser import Account, World
from tests.reference import DailyRow

SESSION_KEY = "paysystem.session"
EXPIRED = {
    "ko": "세션이 만료되었습니다. 다시 로그인하세요.",
    "en": "Your session has expired. Please sign in again.",
}
SERIES_FIELDS = ("views", "watch_time_sec", "ad_views", "video_revenue", "ad_revenue")
STATEMENT_FIELDS = ("views", "ad_views", "video_revenue", "ad_revenue", "amount")
BOM = "\ufeff"


# --- helpers ---------------------------------------------------------------------------------


def settled(page: Page) -> None:
    """Waits until <main> no longer says it is loading."""
    page.wait_for_function(
        "() => { const m = document.querySelector('main'); return m !== null && m.dataset.loading !== 'true'; }"
    )


def sign_in(page: Page, world: World, account: Account) -> str:
    """Signs in through the form; returns the token the page keeps in sessionStorage."""
    page.goto(world.url("signin"))
    page.get_by_test_id("signin-username").fill(account.username)
    page.get_by_test_id("signin-password").fill(PASSWORD)
    page.get_by_test_id("signin-submit").click()
    page.wait_for_function("key => sessionStorage.getItem(key) !== null", arg=SESSION_KEY)
    session = json.loads(page.evaluate("key => sessionStorage.getItem(key)", SESSION_KEY))
    assert int(session["account_id"]) == account.account_id
    assert session["token"] not in page.url
    return session["token"]


def open_route(page: Page, world: World, route: str) -> None:
    page.goto(world.url(route))
    settled(page)


def eventually(read, want, what: str, timeout_sec: float = 20.0):
    """Polls `read()` until it equals `want` (the page renders asynchronously); asserts at the end."""
    deadline = time.monotonic() + timeout_sec
    got = read()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.2)
        got = read()
    assert got == want, what
    return got


_ROWS_JS = """(table, [rowId, keyAttr]) =>
  [...table.querySelectorAll(`[data-testid="${rowId}"]`)].map(row => [
    row.getAttribute(keyAttr),
    Object.fromEntries([...row.querySelectorAll('[data-field]')].map(
      cell => [cell.dataset.field, cell.getAttribute('data-exact') ?? cell.textContent.trim()])),
  ])"""


def rows(page: Page, table_id: str, row_id: str, key_attr: str) -> list[list]:
    table = page.get_by_test_id(table_id)
    if table.count() == 0:
        return []
    return table.first.evaluate(_ROWS_JS, [row_id, key_attr])


def shown(rows_: list[list], fields: tuple[str, ...]) -> list[tuple]:
    return [(key, *(cells.get(f) for f in fields)) for key, cells in rows_]


def exact(page: Page, test_id: str, value: str) -> None:
    expect(page.get_by_test_id(test_id)).to_have_attribute("data-exact", value)


# The exclusions table's rows (data-rule) and the reference's daily field each one sums.
EXCLUSION_FIELDS = {
    "plays": "plays",
    "views": "views",
    "self_view": "excluded_self_view",
    "overlap": "excluded_overlap",
    "stream_limit": "excluded_stream_limit",
    "repeat": "excluded_repeat",
    "cap": "excluded_cap",
}


def excluded_by_rule(daily_rows: Iterable[DailyRow]) -> list[tuple[str, str]]:
    """The exclusions table as tests/reference.py's daily rows sum it: (rule, count) in order."""
    return [(rule, str(sum(getattr(r, name) for r in daily_rows))) for rule, name in EXCLUSION_FIELDS.items()]


def token_of(page: Page) -> str:
    return json.loads(page.evaluate("key => sessionStorage.getItem(key)", SESSION_KEY))["token"]


# --- sign-in and the overview -----------------------------------------------------------------


def test_a_seller_signs_in_to_their_own_overview_with_the_apis_figures_for_this_month(page, world):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    page.wait_for_url(re.compile(rf"#/sellers/{seller}/overview$"))
    settled(page)
    month = world.this_month
    [point] = world.get(f"/v1/sellers/{seller}/stats?period=MONTHLY&from={month}&to={month}", token)["points"]
    statement = world.get(f"/v1/sellers/{seller}/settlements?period=MONTHLY&date={world.today}", token)
    balance = world.get(f"/v1/sellers/{seller}/balance", token)
    payouts = world.get(f"/v1/sellers/{seller}/payouts", token)["payouts"]
    assert int(point["views"]) > 0 and Decimal(statement["total"]) > 0  # this month has figures
    exact(page, "overview-views", point["views"])
    exact(page, "overview-watch-time", point["watch_time_sec"])
    exact(page, "overview-earnings", statement["total"])
    exact(page, "overview-payable", statement["payable_krw"])
    exact(page, "overview-data-through", statement["data_through"])
    exact(page, "overview-balance", balance["balance"])
    # Last month was closed with a minimum of 10 KRW: its payout, not paid yet (HELD: the seller
    # has no payout profile), is the one the seller waits for (the oldest one not paid).
    pending = [p for p in payouts if p["status"] in ("HELD", "PENDING", "APPROVED")]  # not paid yet
    assert pending, payouts
    waited_for = min(pending, key=lambda p: int(p["payout_id"]))
    exact(page, "overview-next-payout", waited_for["amount_krw"])
    exact(page, "overview-next-payout-status", waited_for["status"])
    # The human text of an amount is formatted; the exact value stays in the title.
    earnings = page.get_by_test_id("overview-earnings")
    expect(earnings).to_have_attribute("title", statement["total"])
    assert "₩" in earnings.inner_text()


# --- charts -----------------------------------------------------------------------------------


def _chart(page: Page, period: str, first: dt.date, last: dt.date, video: str = "") -> None:
    page.get_by_test_id("chart-period").select_option(period)
    page.get_by_test_id("chart-from").fill(first.isoformat())
    page.get_by_test_id("chart-to").fill(last.isoformat())
    page.get_by_test_id("chart-video").select_option(video)
    page.get_by_test_id("chart-apply").click()


def _series_rows(points: list[dict]) -> list[tuple]:
    return [(p["period_start"], *(p[f] for f in SERIES_FIELDS)) for p in points]


@pytest.mark.parametrize("period", ["DAILY", "MONTHLY"])
def test_the_chart_and_its_table_show_the_seller_series_of_the_api(page, world, period):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/charts")
    first, last = world.first_day, world.today
    _chart(page, period, first, last)
    points = world.get(f"/v1/sellers/{seller}/stats?period={period}&from={first}&to={last}", token)["points"]
    assert len(points) == ((last - first).days + 1 if period == "DAILY" else 2)
    want = _series_rows(points)
    eventually(
        lambda: shown(rows(page, "chart-table", "chart-row", "data-period-start"), SERIES_FIELDS), want, "chart table"
    )
    canvas = page.get_by_test_id("chart-canvas")
    expect(canvas).to_have_attribute("data-drawn", "true")
    # The chart itself (the default metric, views), not only the table beside it.
    assert json.loads(canvas.get_attribute("data-values")) == [int(p["views"]) for p in points]


@pytest.mark.parametrize("route", ["overview", "charts", "statements"])
def test_the_seller_pages_fit_a_phone_screen(page, world, route):
    """At 390 px (a phone) nothing makes the page scroll sideways: forms wrap, tables scroll in
    their own box."""
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, world, world.seller)
    open_route(page, world, f"sellers/{world.seller.account_id}/{route}")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{route} is {overflow} px wider than the phone's screen"
    expect(page.get_by_test_id("nav-overview")).to_be_visible()


def test_the_chart_of_one_video_shows_that_videos_series(page, world):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    video = str(world.videos[1].video_id)
    open_route(page, world, f"sellers/{seller}/charts")
    first, last = world.first_day, world.today
    _chart(page, "DAILY", first, last, video)
    points = world.get(f"/v1/videos/{video}/stats?period=DAILY&from={first}&to={last}", token)["points"]
    eventually(
        lambda: shown(rows(page, "chart-table", "chart-row", "data-period-start"), SERIES_FIELDS),
        _series_rows(points),
        "one video's chart table",
    )


def test_the_chart_page_counts_the_playbacks_each_rule_excluded_as_the_reference_does(page, world):
    """Views = playbacks - the five rules, over the chosen range, per rule (issue 28: the
    stream limit among them), from tests/reference.py's daily rows of the seller's videos."""
    sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/charts")
    first, last = world.first_day, world.today
    _chart(page, "DAILY", first, last)
    mine = [r for r in world.daily.values() if r.seller_id == seller and first <= r.day <= last]
    want = excluded_by_rule(mine)
    assert int(dict(want)["stream_limit"]) > 0, "the world has plays over the stream limit"
    eventually(
        lambda: shown(rows(page, "exclusions-table", "exclusion-row", "data-rule"), ("count",)), want, "exclusions"
    )


# --- top 5 ------------------------------------------------------------------------------------


TOP_DATES = {
    "MONTHLY": lambda world: world.last_month,
    "WEEKLY": lambda world: world.today,
    "DAILY": lambda world: world.today - dt.timedelta(days=1),
}


@pytest.mark.parametrize("period", list(TOP_DATES))
def test_the_top_five_tables_are_the_apis_lists(page, world, period):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    date = TOP_DATES[period](world)
    open_route(page, world, f"sellers/{seller}/top")
    page.get_by_test_id("top-period").select_option(period)
    page.get_by_test_id("top-date").fill(date.isoformat())
    page.get_by_test_id("top-apply").click()
    for metric, table in (("VIEWS", "top-views"), ("WATCH_TIME", "top-watch-time")):
        top = world.get(f"/v1/sellers/{seller}/top-videos?period={period}&date={date}&metric={metric}", token)
        assert top["videos"], (period, metric)
        want = [(v["video_id"], str(v["rank"]), v["title"], v["views"], v["watch_time_sec"]) for v in top["videos"]]
        eventually(
            lambda table=table: shown(
                rows(page, table, "top-row", "data-video-id"), ("rank", "title", "views", "watch_time_sec")
            ),
            want,
            f"{table} {period} {date}",
        )
    if period == "MONTHLY":
        assert len(want) == 5  # six videos played: one is left out


# --- statements and the CSV download ---------------------------------------------------------


@pytest.mark.parametrize("which", ["last_month", "this_month"])
def test_the_statement_lines_totals_and_csv_download_are_the_apis(page, world, which):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    date = getattr(world, which)
    open_route(page, world, f"sellers/{seller}/statements")
    page.get_by_test_id("statement-period").select_option("MONTHLY")
    page.get_by_test_id("statement-date").fill(date.isoformat())
    page.get_by_test_id("statement-apply").click()
    statement = world.get(f"/v1/sellers/{seller}/settlements?period=MONTHLY&date={date}", token)
    assert statement["lines"] and statement["status"] == ("CLOSED" if which == "last_month" else "OPEN")
    want = [(line["video_id"], *(line[f] for f in STATEMENT_FIELDS)) for line in statement["lines"]]
    eventually(
        lambda: shown(rows(page, "statement-lines", "statement-line", "data-video-id"), STATEMENT_FIELDS),
        want,
        "statement lines",
    )
    # Any other field a line shows is the JSON line's field of that name.
    by_id = {line["video_id"]: line for line in statement["lines"]}
    for video_id, cells in rows(page, "statement-lines", "statement-line", "data-video-id"):
        for field, value in cells.items():
            assert value == str(by_id[video_id][field]), (video_id, field)
    exact(page, "statement-total", statement["total"])
    exact(page, "statement-payable", statement["payable_krw"])
    exact(page, "statement-status", statement["status"])

    with page.expect_download() as download_info:
        page.get_by_test_id("statement-csv").click()
    download = download_info.value
    assert re.fullmatch(rf"statement-{seller}-(?i:monthly)-{date:%Y-%m}-\d\d\.csv", download.suggested_filename)
    text = download.path().read_text(encoding="utf-8")
    assert text.startswith(BOM)
    table = list(csv.DictReader(io.StringIO(text[len(BOM) :], newline="")))
    lines = [r for r in table if r["kind"] == "LINE"]
    assert [(r["video_id"], r["views"], r["video_revenue"], r["ad_revenue"], r["amount"]) for r in lines] == [
        (j["video_id"], j["views"], j["video_revenue"], j["ad_revenue"], j["amount"]) for j in statement["lines"]
    ]
    total = table[-1]
    assert (total["kind"], total["amount"], total["payable_krw"]) == (
        "TOTAL",
        statement["total"],
        statement["payable_krw"],
    )
    assert Decimal(total["amount"]) == sum((Decimal(r["amount"]) for r in lines), Decimal(0)) + sum(
        (Decimal(r["amount"]) for r in table if r["kind"] == "ADJUSTMENT"), Decimal(0)
    )


# --- language, refusals, expiry --------------------------------------------------------------


def test_switching_the_language_from_korean_to_english_changes_the_labels(page, world):
    sign_in(page, world, world.seller)
    open_route(page, world, f"sellers/{world.seller.account_id}/overview")
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    select = page.get_by_test_id("lang-select")
    expect(select).to_have_value("ko")
    nav = ["nav-overview", "nav-charts", "nav-top", "nav-statements", "nav-ledger"]
    korean = [page.get_by_test_id(n).inner_text().strip() for n in nav]
    assert all(re.search("[가-힣]", label) for label in korean), korean
    select.select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    eventually(
        lambda: all(re.fullmatch(r"[ -~]+", page.get_by_test_id(n).inner_text().strip()) for n in nav),
        True,
        "English navigation labels",
    )
    english = [page.get_by_test_id(n).inner_text().strip() for n in nav]
    assert english != korean
    assert page.evaluate("() => localStorage.getItem('paysystem.lang')") == "en"
    # The figures do not change with the language.
    views = page.get_by_test_id("overview-views").get_attribute("data-exact")
    page.reload()
    settled(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    exact(page, "overview-views", views)


@pytest.mark.parametrize("route", ["overview", "statements", "charts"])
def test_another_sellers_page_shows_the_apis_refusal_and_no_data(page, world, route):
    token = sign_in(page, world, world.seller)
    other = world.other.account_id
    # What the API says to this seller about the other seller's data (a page shows the
    # refusal of whichever of its calls it makes).
    messages = set()
    for path in (
        f"settlements?period=MONTHLY&date={world.today}",
        f"stats?period=DAILY&from={world.this_month}&to={world.today}",
        "videos",
        "balance",
        "payouts",
    ):
        status, body = world.mesh.json("GET", f"/v1/sellers/{other}/{path}", token=token)
        assert status == 403, (path, body)
        messages.add(body["message"])
    page.goto(world.url(f"sellers/{other}/{route}"))
    refusal = page.get_by_test_id("refusal")
    expect(refusal).to_be_visible()
    # The API's words are kept beside the refusal; the Korean page shows its own (issue 32).
    server = refusal.get_attribute("data-server-message") or ""
    assert any(message in server for message in messages), (server, messages)
    assert re.search("[가-힣]", refusal.inner_text()) and server not in refusal.inner_text(), refusal.inner_text()
    settled(page)
    assert page.locator("main [data-exact]").count() == 0
    assert page.get_by_test_id("chart-row").count() == 0 and page.get_by_test_id("statement-line").count() == 0


@pytest.mark.parametrize("claimed", ["valid", "past"])
def test_an_expired_token_returns_to_sign_in_with_the_message(page, world, claimed):
    """The token itself expired a minute ago; the session either still claims it valid (the
    API's 401 sends the page back) or says it has expired (the page's own clock does)."""
    seller = world.seller.account_id
    expired = world.mesh.token(seller, "SELLER", ttl_sec=-60, username=world.seller.username)
    status, _ = world.mesh.request("GET", f"/v1/sellers/{seller}/balance", token=expired)
    assert status == 401
    now_ms = int(time.time() * 1000)
    session = {
        "token": expired,
        "account_id": str(seller),
        "role": "SELLER",
        "expires_at_ms": now_ms + 600_000 if claimed == "valid" else now_ms - 60_000,
    }
    # Stored from another page of the same origin, so the app then starts with it (a new
    # document, as when the seller comes back to a tab kept open).
    page.goto(f"{world.mesh.base_url}/config.json")
    page.evaluate("([key, value]) => sessionStorage.setItem(key, value)", [SESSION_KEY, json.dumps(session)])
    page.goto(world.url(f"sellers/{seller}/overview"))
    page.wait_for_url(re.compile(r"#/signin$"))
    expect(page.get_by_test_id("signin-message")).to_have_text(EXPIRED["ko"])
    assert page.evaluate("key => sessionStorage.getItem(key)", SESSION_KEY) is None
    assert page.locator("main [data-exact]").count() == 0


# --- admin ------------------------------------------------------------------------------------


def test_an_admin_runs_a_job_and_watches_it_reach_100_percent(page, world):
    token = sign_in(page, world, world.admin)
    page.wait_for_url(re.compile(r"#/admin$"))
    settled(page)
    day = world.today.isoformat()
    page.get_by_test_id("admin-run-date").fill(day)
    page.get_by_test_id("admin-run-to-date").fill(day)
    page.get_by_test_id("admin-run-rerun").check()
    page.get_by_test_id("admin-run-submit").click()
    status = page.get_by_test_id("job-status")
    expect(status).to_have_attribute("data-type", "JOB_FINISHED", timeout=180_000)
    progress = page.get_by_test_id("job-progress")
    expect(progress).to_have_attribute("data-percent", "100")
    assert progress.get_attribute("value") == progress.get_attribute("max")
    partitions = page.get_by_test_id("partition-progress")
    assert partitions.count() >= 1
    for i in range(partitions.count()):
        bar = partitions.nth(i)
        assert bar.get_attribute("data-partition")
        assert bar.get_attribute("value") == bar.get_attribute("max"), bar.get_attribute("data-partition")

    # The execution just run is the newest of the API's list, and the table shows it.
    executions = world.get("/v1/batch/jobs?limit=20", token)["executions"]
    newest = executions[0]
    assert newest["status"] == "COMPLETED" and json.loads(newest["parameters"]).get("date", day) == day, newest
    page.reload()
    settled(page)
    row = page.locator(f'[data-testid="execution-row"][data-execution-id="{newest["job_execution_id"]}"]')
    expect(row).to_have_count(1)
    eventually(
        lambda: [key for key, _ in rows(page, "executions", "execution-row", "data-execution-id")][:1],
        [newest["job_execution_id"]],
        "the newest execution first",
    )
    expect(row.locator('[data-field="status"]')).to_have_attribute("data-exact", newest["status"])


def test_an_admin_sees_every_instance_healthy_as_envoy_does(page, world):
    token = sign_in(page, world, world.admin)
    page.wait_for_url(re.compile(r"#/admin$"))
    settled(page)
    instances = world.get("/v1/batch/instances", token)["instances"]
    want = sorted((i["cluster"], i["address"], "true") for i in instances)
    assert {i.address for i in world.mesh.instances()} <= {address for _, address, _ in want}
    assert all(i["healthy"] for i in instances), instances

    def read():
        return sorted(
            page.get_by_test_id("instances").evaluate(
                """t => [...t.querySelectorAll('[data-testid="instance-row"]')].map(
                     r => [r.dataset.cluster, r.dataset.address, r.dataset.healthy])"""
            )
        )

    eventually(lambda: [tuple(r) for r in read()], want, "instances")


# --- keyboard and labels ---------------------------------------------------------------------


_UNLABELLED_JS = """() => [...document.querySelectorAll('input, select, button, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.textContent.trim())
  .map(el => el.outerHTML.slice(0, 120))"""


def test_a_seller_signs_in_with_the_keyboard_alone(page, world):
    page.goto(world.url("signin"))
    expect(page.get_by_test_id("signin-username")).to_be_focused()
    page.keyboard.type(world.seller.username)
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("signin-password")).to_be_focused()
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"#/sellers/{world.seller.account_id}/overview$"))
    settled(page)
    # The navigation is reachable by Tab and follows with Enter.
    page.get_by_test_id("nav-charts").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/charts$"))


@pytest.mark.parametrize("route", ["overview", "charts", "top", "statements", "ledger"])
def test_every_control_of_a_seller_page_has_a_label(page, world, route):
    sign_in(page, world, world.seller)
    open_route(page, world, f"sellers/{world.seller.account_id}/{route}")
    assert page.evaluate(_UNLABELLED_JS) == []


def test_every_control_of_the_admin_page_has_a_label(page, world):
    sign_in(page, world, world.admin)
    open_route(page, world, "admin")
    assert page.evaluate(_UNLABELLED_JS) == []


# --- the realtime panel (issue 32, item 1) ------------------------------------------------------


def test_the_overview_live_panel_shows_new_playbacks_within_two_seconds_without_a_reload(page, world):
    """A new seller (no playbacks of the world's): its overview's panel says 0, then, after a
    JSON ingest through Envoy, the playbacks minus the self-view, within 2 s, on the same page."""
    from tests.e2e.test_realtime_json import forget_realtime

    mesh = world.mesh
    username = mesh.unique_username("seller")
    seller_id, seller_token = mesh.sign_up_and_login("SELLER", username)
    forget_realtime(seller_id)
    (video_id,) = mesh.create_videos(seller_token, 1)
    viewer_id, viewer_token = mesh.sign_up_and_login("VIEWER")
    sign_in(page, world, Account(seller_id, username, seller_token))
    page.wait_for_url(re.compile(rf"#/sellers/{seller_id}/overview$"))
    panel = page.get_by_test_id("realtime-panel")
    expect(panel.get_by_test_id("realtime-estimated")).to_have_text("추정치")
    exact(page, "realtime-60m", "0")
    page.evaluate("() => { window.__sameDocument = true; }")

    now_us = time.time_ns() // 1000
    plays = [
        reference_play(video_id, viewer_id, now_us - 4_000_000),
        reference_play(video_id, viewer_id, now_us - 90_000_000),
        reference_play(video_id, viewer_id, now_us - 3 * 3600 * 1_000_000),  # in the 48 hours only
    ]
    self_view = [reference_play(video_id, seller_id, now_us - 2_000_000)]
    assert mesh.record_plays(plays, viewer_token)[0] == 200
    assert mesh.record_plays(self_view, seller_token)[0] == 200
    sent = time.monotonic()
    expect(page.get_by_test_id("realtime-60m")).to_have_attribute("data-exact", "2", timeout=2000)
    assert time.monotonic() - sent <= 2.0
    exact(page, "realtime-48h", "3")
    counts = page.get_by_test_id("realtime-sparkline").evaluate(
        "svg => [...svg.querySelectorAll('rect')].map(r => Number(r.dataset.count))"
    )
    assert len(counts) == 60 and sum(counts) == 2
    assert page.evaluate("() => window.__sameDocument === true")  # no reload


def reference_play(video_id: int, viewer_id: int, started_at_us: int):
    from tests.reference import Play

    return Play(f"rt-browser-{time.time_ns()}-{viewer_id}-{started_at_us}", video_id, viewer_id, started_at_us, 0, 2)


# --- comparisons and RPM (issue 32) -----------------------------------------------------------


def test_the_overview_compares_the_last_28_days_with_the_28_before_as_the_api_does(page, world):
    """The 28 days ending yesterday (today is not computed yet) against the 28 before: each
    card's total and percent change are the API's (compare=PREVIOUS), the sparklines draw its
    daily points of both ranges."""
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    page.wait_for_url(re.compile(rf"#/sellers/{seller}/overview$"))
    settled(page)
    first, last = world.today - dt.timedelta(days=28), world.today - dt.timedelta(days=1)
    body = world.get(f"/v1/sellers/{seller}/stats?period=DAILY&from={first}&to={last}&compare=PREVIOUS", token)
    totals, comparison = body["totals"], body["comparison"]
    changes = {c["figure"]: c for c in comparison["changes"]}
    assert int(totals["views"]) > 0 and totals["rpm"] != ""
    exact(page, "compare-views", totals["views"])
    exact(page, "compare-watch_time_sec", totals["watch_time_sec"])
    exact(page, "compare-rpm", totals["rpm"])
    revenue = page.get_by_test_id("compare-revenue").get_attribute("data-exact")
    assert Decimal(revenue) == Decimal(totals["video_revenue"]) + Decimal(totals["ad_revenue"])
    for name in ("views", "watch_time_sec", "revenue", "rpm"):
        exact(page, f"compare-{name}-change", changes[name]["percent"])
    spark = page.get_by_test_id("sparkline-views")
    assert json.loads(spark.get_attribute("data-values")) == [int(p["views"]) for p in body["points"]]
    assert json.loads(spark.get_attribute("data-earlier-values")) == [int(p["views"]) for p in comparison["points"]]


def test_the_chart_overlays_the_comparison_and_shows_rpm_and_the_changes_of_the_api(page, world):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/charts")
    first, last = world.this_month, world.today
    page.get_by_test_id("chart-compare").select_option("PREVIOUS")
    _chart(page, "DAILY", first, last)
    body = world.get(f"/v1/sellers/{seller}/stats?period=DAILY&from={first}&to={last}&compare=PREVIOUS", token)
    comparison = body["comparison"]
    eventually(
        lambda: shown(rows(page, "chart-table", "chart-row", "data-period-start"), ("rpm",)),
        [(p["period_start"], p["rpm"]) for p in body["points"]],
        "the RPM column",
    )
    canvas = page.get_by_test_id("chart-canvas")
    expect(canvas).to_have_attribute("data-drawn", "true")
    assert json.loads(canvas.get_attribute("data-values")) == [int(p["views"]) for p in body["points"]]
    assert json.loads(canvas.get_attribute("data-earlier-values")) == [int(p["views"]) for p in comparison["points"]]
    changes = {c["figure"]: c for c in comparison["changes"]}
    assert shown(rows(page, "compare-table", "compare-row", "data-figure"), ("absolute", "percent")) == [
        (name, changes[name]["absolute"], changes[name]["percent"])
        for name in ("views", "watch_time_sec", "ad_views", "revenue", "rpm")
    ]
