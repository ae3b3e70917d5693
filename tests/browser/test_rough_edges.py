"""The dashboard's rough edges (issue 32, item 6) in headless Chromium, on one mesh for the
module (tests/browser/conftest.py's world: figures computed through today, last month closed):
an unknown seller's not-found page, API errors in Korean, periods not computed yet drawn as
gaps, the top 5 opening on the last computed period, the admin's readable, paged and
filterable executions, a multi-day run's panel, refreshed counters, the date a one-day run is
refused on, exact amounts on a phone without hover, a seller named by its user name on its
own overview and on an admin's, and axe-core (from web/node_modules, run in
the page) finding no serious or critical violation.

Selectors are data-testid attributes; expected figures come from the JSON API."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_dashboard import eventually, open_route, rows, settled, sign_in

HANGUL = re.compile("[가-힣]")
UNKNOWN_SELLER = 987654321


@pytest.fixture
def axe_page(browser) -> Page:
    """A page whose context lets axe-core's script in (Envoy's CSP allows only the app's own)."""
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def serious_violations(page: Page, axe_script: str) -> list[dict]:
    page.add_script_tag(path=axe_script)
    return page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
             .filter(v => v.impact === "serious" || v.impact === "critical")
             .map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")) }))"""
    )


# --- 8: an unknown seller ---------------------------------------------------------------------


@pytest.mark.parametrize("route", ["overview", "charts", "top"])
def test_an_unknown_seller_shows_a_localized_not_found_page_and_no_data(page, world, route):
    sign_in(page, world, world.admin)
    page.wait_for_url(re.compile(r"#/admin$"))
    status, body = world.mesh.json(
        "GET", f"/v1/sellers/{UNKNOWN_SELLER}/settlements?period=MONTHLY&date={world.today}", token=world.admin.token
    )
    assert status == 404, body
    page.goto(world.url(f"sellers/{UNKNOWN_SELLER}/{route}"))
    found = page.get_by_test_id("not-found")
    expect(found).to_be_visible()
    assert HANGUL.search(found.inner_text()) and str(UNKNOWN_SELLER) in found.inner_text()
    assert "no seller" not in found.inner_text()  # the server's English stays out of the page
    settled(page)
    assert page.locator("main [data-exact]").count() == 0


# --- 4 and 9: errors in the page's language; the date a one-day run is refused on -------------


def test_an_api_refusal_of_a_bad_range_reads_in_korean_naming_the_field(page, world):
    sign_in(page, world, world.seller)
    open_route(page, world, f"sellers/{world.seller.account_id}/charts")
    page.get_by_test_id("chart-from").fill(world.today.isoformat())
    page.get_by_test_id("chart-to").fill((world.today - dt.timedelta(days=3)).isoformat())
    page.get_by_test_id("chart-apply").click()
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    assert error.inner_text() == "오류: 입력한 값이 올바르지 않습니다: 종료일", error.inner_text()
    assert "must not be before from" in (error.get_attribute("data-server-message") or "")


def test_a_one_day_run_after_today_is_refused_on_its_date_not_on_the_empty_to_date(page, world):
    sign_in(page, world, world.admin)
    page.wait_for_url(re.compile(r"#/admin$"))
    settled(page)
    page.get_by_test_id("admin-run-date").fill((world.today + dt.timedelta(days=1)).isoformat())
    page.get_by_test_id("admin-run-submit").click()
    error = page.get_by_test_id("error")
    expect(error).to_be_visible()
    assert error.inner_text() == "오류: 입력한 값이 올바르지 않습니다: 날짜", error.inner_text()
    assert (error.get_attribute("data-server-message") or "").startswith("date: "), error.get_attribute(
        "data-server-message"
    )


# --- 5: day fields in the page's language -----------------------------------------------------


def test_day_fields_read_and_show_the_pages_format_not_the_browsers(page, world):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/charts")
    field = page.get_by_test_id("chart-from")
    assert re.fullmatch(r"\d{4}\. \d{2}\. \d{2}\.", field.input_value()), field.input_value()
    expect(field).to_have_attribute("placeholder", "yyyy. mm. dd.")
    first, last = world.today - dt.timedelta(days=3), world.today - dt.timedelta(days=1)
    page.get_by_test_id("chart-period").select_option("DAILY")
    field.fill(f"{first.year}. {first.month}. {first.day}.")  # typed the Korean way, loosely
    page.get_by_test_id("chart-to").fill(f"{last:%Y. %m. %d.}")
    page.get_by_test_id("chart-apply").click()
    points = world.get(f"/v1/sellers/{seller}/stats?period=DAILY&from={first}&to={last}", token)["points"]
    eventually(
        lambda: [key for key, _ in rows(page, "chart-table", "chart-row", "data-period-start")],
        [p["period_start"] for p in points],
        "the range typed in Korean",
    )
    expect(field).to_have_value(f"{first:%Y. %m. %d.}")  # shown back in the page's format
    field.fill("2026. 02. 30.")  # not a day: the form refuses it before any request
    assert not field.evaluate("e => e.checkValidity()")
    page.get_by_test_id("lang-select").select_option("en")
    settled(page)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", page.get_by_test_id("chart-from").input_value())


# --- 1 and 2: periods not computed yet --------------------------------------------------------


def test_days_not_computed_yet_are_gaps_in_the_chart_not_zeros(page, world):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/charts")
    first, last = world.today - dt.timedelta(days=2), world.today + dt.timedelta(days=2)
    page.get_by_test_id("chart-period").select_option("DAILY")
    page.get_by_test_id("chart-from").fill(first.isoformat())
    page.get_by_test_id("chart-to").fill(last.isoformat())
    page.get_by_test_id("chart-apply").click()
    series = world.get(f"/v1/sellers/{seller}/stats?period=DAILY&from={first}&to={last}", token)
    through = series["data_through"]
    assert through == world.today.isoformat(), series  # the world's batch ran through today
    want = [None if p["period_start"] > through else int(p["views"]) for p in series["points"]]
    assert want[-2:] == [None, None] and None not in want[:3]
    canvas = page.get_by_test_id("chart-canvas")
    eventually(lambda: json.loads(canvas.get_attribute("data-values") or "[]"), want, "the plotted values")
    states = [cells for _, cells in rows(page, "chart-table", "chart-row", "data-period-start")]
    assert len(states) == 5
    pending = page.locator('[data-testid="chart-row"][data-state="pending"]')
    expect(pending).to_have_count(2)
    assert all("아직 집계 전" in pending.nth(i).inner_text() for i in range(2))


def test_the_top_five_opens_on_the_last_computed_period_not_an_empty_week(page, world):
    # The page's clock a week and a day ahead: its "this week" has no computed day yet.
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    page.clock.set_fixed_time(ahead)
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/top")
    expect(page.get_by_test_id("top-opened")).to_be_visible()
    expect(page.get_by_test_id("top-date")).to_have_value(f"{world.today:%Y. %m. %d.}")  # the Korean page's format
    top = world.get(f"/v1/sellers/{seller}/top-videos?period=WEEKLY&date={world.today}&metric=VIEWS", token)
    assert top["videos"]
    eventually(
        lambda: [key for key, _ in rows(page, "top-views", "top-row", "data-video-id")],
        [v["video_id"] for v in top["videos"]],
        "the computed week's top 5",
    )


# --- 3: the monthly chart beside the statements -----------------------------------------------


def test_the_monthly_chart_shows_each_months_adjustments_and_statement_total(page, world):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/charts")
    page.get_by_test_id("chart-period").select_option("MONTHLY")
    page.get_by_test_id("chart-from").fill(world.last_month.isoformat())
    page.get_by_test_id("chart-to").fill(world.today.isoformat())
    page.get_by_test_id("chart-apply").click()
    points = world.get(f"/v1/sellers/{seller}/stats?period=MONTHLY&from={world.last_month}&to={world.today}", token)[
        "points"
    ]
    want = []
    for point in points:
        statement = world.get(f"/v1/sellers/{seller}/settlements?period=MONTHLY&date={point['period_start']}", token)
        adjustments = sum((Decimal(a["amount"]) for a in statement.get("adjustments", [])), Decimal(0))
        revenue = Decimal(point["video_revenue"]) + Decimal(point["ad_revenue"])
        assert revenue + adjustments == Decimal(statement["total"])  # what the table lets one read
        want.append((point["period_start"], revenue, adjustments, Decimal(statement["total"])))
    eventually(
        lambda: [
            (key, *(Decimal(cells[f]) for f in ("chart_revenue", "adjustments", "statement_total")))
            for key, cells in rows(page, "chart-adjustments", "adjustment-row", "data-period-start")
        ],
        want,
        "each month's chart revenue, adjustments and statement total",
    )
    expect(page.get_by_test_id("chart-excludes-note")).to_contain_text("조정")


# --- 8: a future month's statement ----------------------------------------------------------


def test_a_future_months_statement_says_it_is_not_computed_yet_not_a_bare_zero(page, world):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    future = (world.this_month + dt.timedelta(days=40)).replace(day=1)
    statement = world.get(f"/v1/sellers/{seller}/settlements?period=MONTHLY&date={future}", token)
    assert statement["status"] == "OPEN" and Decimal(statement["total"]) == 0, statement
    open_route(page, world, f"sellers/{seller}/statements")
    page.get_by_test_id("statement-period").select_option("MONTHLY")
    page.get_by_test_id("statement-date").fill(future.isoformat())
    page.get_by_test_id("statement-apply").click()
    note = page.get_by_test_id("statement-estimate")
    expect(note).to_have_attribute("data-state", "pending")
    expect(note).to_contain_text("아직 집계되지 않은 기간")
    expect(page.get_by_test_id("statement-total")).to_have_attribute("data-exact", statement["total"])


# --- 7: names where they exist ----------------------------------------------------------------


def test_a_seller_is_named_on_its_own_overview(page, world):
    sign_in(page, world, world.seller)
    open_route(page, world, f"sellers/{world.seller.account_id}/overview")
    expect(page.get_by_test_id("overview-seller")).to_contain_text(world.seller.username)


def test_an_admin_sees_the_sellers_user_name_on_its_overview(page, world):
    sign_in(page, world, world.admin)
    page.wait_for_url(re.compile(r"#/admin$"))
    seller = world.seller.account_id
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url) if "/v1/accounts/" in request.url else None)
    open_route(page, world, f"sellers/{seller}/overview")
    named = page.get_by_test_id("overview-seller")
    expect(named).to_have_text(f"{world.seller.username} (판매자 {seller})")
    # Another of the seller's pages and back: the name is not asked for again.
    open_route(page, world, f"sellers/{seller}/charts")
    open_route(page, world, f"sellers/{seller}/overview")
    expect(named).to_have_text(f"{world.seller.username} (판매자 {seller})")
    assert [url.split("/v1/", 1)[1] for url in asked] == [f"accounts/{seller}"], asked


# --- 9: the admin page ------------------------------------------------------------------------


def test_executions_read_as_days_and_are_paged_and_filtered(page, world):
    sign_in(page, world, world.admin)
    page.wait_for_url(re.compile(r"#/admin$"))
    settled(page)
    listed = world.get("/v1/batch/jobs?limit=100")["executions"]
    assert len(listed) > 20, len(listed)  # the world's run: one execution per day
    first_page = rows(page, "executions", "execution-row", "data-execution-id")
    assert [key for key, _ in first_page] == [e["job_execution_id"] for e in listed[:20]]
    for _, cells in first_page:
        date = json.loads(cells["parameters"])["date"]  # data-exact keeps the API's JSON
        assert date
    shown = page.locator('[data-testid="execution-row"] [data-field="parameters"]').first.inner_text()
    assert not shown.startswith("{") and shown.startswith("날짜 "), shown
    expect(page.get_by_test_id("executions-prev")).to_be_disabled()
    page.get_by_test_id("executions-next").click()
    eventually(
        lambda: [key for key, _ in rows(page, "executions", "execution-row", "data-execution-id")],
        [e["job_execution_id"] for e in listed[20:40]],
        "the second page",
    )
    expect(page.get_by_test_id("executions-page")).to_have_attribute("data-page", "2")
    wanted = listed[7]
    page.get_by_test_id("executions-filter-text").fill(json.loads(wanted["parameters"])["date"])
    eventually(
        lambda: (
            wanted["job_execution_id"] in [k for k, _ in rows(page, "executions", "execution-row", "data-execution-id")]
        ),
        True,
        "the execution of that day",
    )
    page.get_by_test_id("executions-filter-text").fill("")
    page.get_by_test_id("executions-filter-status").select_option("COMPLETED")
    statuses = {cells["status"] for _, cells in rows(page, "executions", "execution-row", "data-execution-id")}
    assert statuses == {"COMPLETED"}


def test_a_multi_day_run_says_finished_only_at_its_end_and_the_counters_are_refreshed(page, world):
    sign_in(page, world, world.admin)
    page.wait_for_url(re.compile(r"#/admin$"))
    settled(page)

    def requests_total() -> int:
        cells = page.locator('[data-testid="instance-row"][data-cluster="batch"] [data-field="requests_total"]')
        return sum(int(cells.nth(i).get_attribute("data-exact") or "0") for i in range(cells.count()))

    before = requests_total()
    # Every status the panel shows, with the percent beside it, as it happens.
    page.evaluate(
        """() => {
             window.__said = [];
             const status = document.querySelector('[data-testid="job-status"]');
             const bar = document.querySelector('[data-testid="job-progress"]');
             new MutationObserver(() => window.__said.push([status.dataset.type, bar.dataset.percent]))
               .observe(status, { childList: true, characterData: true, subtree: true, attributes: true });
           }"""
    )
    page.get_by_test_id("admin-run-date").fill((world.today - dt.timedelta(days=2)).isoformat())
    page.get_by_test_id("admin-run-to-date").fill(world.today.isoformat())
    page.get_by_test_id("admin-run-rerun").check()
    page.get_by_test_id("admin-run-submit").click()
    expect(page.get_by_test_id("job-status")).to_have_attribute("data-type", "JOB_FINISHED", timeout=180_000)
    said = page.evaluate("() => window.__said")
    finished = [percent for kind, percent in said if kind == "JOB_FINISHED"]
    assert finished and set(finished) == {"100"}, said
    assert any(kind == "DAY_FINISHED" for kind, _ in said), said  # each day's end, said as the day's
    eventually(lambda: requests_total() > before, True, "the instances' counters after the run")


# --- 6: exact amounts without hover -----------------------------------------------------------


def test_on_a_phone_a_tap_shows_the_exact_amount(page, world):
    page.set_viewport_size({"width": 390, "height": 844})
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/overview")
    statement = world.get(f"/v1/sellers/{seller}/settlements?period=MONTHLY&date={world.today}", token)
    earnings = page.get_by_test_id("overview-earnings")
    earnings.click()
    assert earnings.evaluate("e => document.activeElement === e")
    after = earnings.evaluate("e => getComputedStyle(e, '::after').content")
    assert statement["total"] in after, (after, statement["total"])
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


# --- 11: axe-core ------------------------------------------------------------------------------


AXE_PAGES = [
    ("seller", "overview"),
    ("admin", "admin"),
    ("seller", "charts"),
    ("seller", "top"),
    ("seller", "statements"),
    ("seller", "ledger"),
    ("nobody", "signin"),
]


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize(("who", "route"), AXE_PAGES)
def test_axe_finds_no_serious_or_critical_violation(axe_page, world, node_modules, who, route, lang):
    """Every page of the dashboard not covered by its own module's axe test (the finance pages:
    test_finance_pages.py; the video page: test_video_page.py), in both languages."""
    if who == "nobody":
        open_route(axe_page, world, "signin")
    else:
        sign_in(axe_page, world, world.seller if who == "seller" else world.admin)
        target = "admin" if route == "admin" else f"sellers/{world.seller.account_id}/{route}"
        open_route(axe_page, world, target)
    if lang == "en":
        axe_page.get_by_test_id("lang-select").select_option("en")
        expect(axe_page.locator("html")).to_have_attribute("lang", "en")
        settled(axe_page)
    if route == "overview":
        expect(axe_page.get_by_test_id("realtime-60m")).to_be_visible()
    found = serious_violations(axe_page, str(node_modules / "axe-core" / "axe.min.js"))
    assert found == [], found
