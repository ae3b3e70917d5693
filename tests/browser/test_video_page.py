"""The per-video page (#/videos/{id}, issue 32 items 4 and 5, DESIGN 2c) in headless Chromium,
on the world of tests/browser/conftest.py (one mesh for the module): the figures it shows
equal tests/reference.py's recomputation from the world's playbacks (RPM exact, the playbacks
each rule excluded, the retention percents), in Korean and English, at desktop and phone
widths; the links of top 5 and statements reach it; an unknown video and another seller's
video get their own localized page; axe-core finds no serious or critical violation and the
page logs no console error.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import reference
from tests.browser.test_dashboard import eventually, excluded_by_rule, open_route, rows, settled, shown, sign_in
from tests.plugins.browser import World

AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
TEXTS = {
    "ko": {"retention": "시청 지속률", "not_found": "동영상 {id}은(는) 없습니다.", "forbidden": "다른 판매자의 동영상"},
    "en": {
        "retention": "Audience retention",
        "not_found": "There is no video {id}.",
        "forbidden": "belongs to another seller",
    },
}


# --- helpers ---------------------------------------------------------------------------------


def console_errors(page: Page) -> list[str]:
    """The page's console errors and uncaught exceptions, collected from now on."""
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def serious_violations(page: Page) -> list[str]:
    """axe-core (web/node_modules, run in the page): the serious and critical violations."""
    # Evaluated through the DevTools protocol: the dashboard's CSP (script-src 'self') refuses
    # an injected <script>, rightly.
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    return page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
             .filter(v => v.impact === "serious" || v.impact === "critical")
             .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""
    )


def choose_language(page: Page, lang: str) -> None:
    """The header's language switch (it redraws the page in that language)."""
    page.get_by_test_id("lang-select").select_option(lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)
    settled(page)


def show_range(page: Page, period: str, first: dt.date, last: dt.date, compare: str = "") -> None:
    page.get_by_test_id("video-period").select_option(period)
    page.get_by_test_id("video-from").fill(first.isoformat())
    page.get_by_test_id("video-to").fill(last.isoformat())
    page.get_by_test_id("video-compare").select_option(compare)
    page.get_by_test_id("video-apply").click()
    settled(page)


def reference_rows(world: World, video_id: int, first: dt.date, last: dt.date) -> list[reference.DailyRow]:
    return [r for r in world.daily.values() if r.video_id == video_id and first <= r.day <= last]


def exact_of(page: Page, test_id: str) -> str | None:
    return page.get_by_test_id(test_id).get_attribute("data-exact")


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


# --- the page --------------------------------------------------------------------------------


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_the_video_page_shows_the_reference_figures_in_both_languages_and_widths(page, world, lang, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    errors = console_errors(page)
    token = sign_in(page, world, world.seller)
    video = world.videos[0]
    open_route(page, world, f"videos/{video.video_id}")
    choose_language(page, lang)
    first, last = world.first_day, world.today - dt.timedelta(days=1)
    show_range(page, "DAILY", first, last)
    mine = reference_rows(world, video.video_id, first, last)
    by_day = {r.day: r for r in mine}

    title = world.get(f"/v1/videos/{video.video_id}", token)["title"]
    expect(page.get_by_test_id("video-title")).to_have_text(title)
    # The series, day by day: the reference's figures and RPM (exact to the decimal).
    want = []
    for day in days(first, last):
        r = by_day.get(day)
        views, vr, ar = (r.views, r.video_revenue, r.ad_revenue) if r else (0, Decimal(0), Decimal(0))
        want.append((day.isoformat(), views, vr, ar, reference.rpm(vr, ar, views)))

    def table():
        return [
            (
                day,
                int(c["views"]),
                Decimal(c["video_revenue"]),
                Decimal(c["ad_revenue"]),
                Decimal(c["rpm"]) if c["rpm"] not in ("", "—") else None,
            )
            for day, c in rows(page, "chart-table", "chart-row", "data-period-start")
        ]

    eventually(table, want, "the video's daily series")
    # The range's totals: views, ad views, revenue, RPM.
    views = sum(r.views for r in mine)
    revenue = sum((r.video_revenue + r.ad_revenue for r in mine), Decimal(0))
    assert views > 0
    assert int(exact_of(page, "video-views")) == views
    assert int(exact_of(page, "video-ad-views")) == sum(r.ad_views for r in mine)
    assert Decimal(exact_of(page, "video-revenue")) == revenue
    want_rpm = reference.rpm(revenue, Decimal(0), views)
    assert Decimal(exact_of(page, "video-rpm")) == want_rpm
    # The exact RPM is readable on the page itself (a phone has no hover).
    assert (
        str(Decimal(exact_of(page, "video-rpm")))
        in page.get_by_test_id("video-rpm").locator("xpath=../small").inner_text()
    )
    # The playbacks each rule kept from being a view.
    assert shown(rows(page, "exclusions-table", "exclusion-row", "data-rule"), ("count",)) == excluded_by_rule(mine)
    # The chart draws the same series.
    canvas = page.get_by_test_id("chart-canvas")
    expect(canvas).to_have_attribute("data-drawn", "true")
    assert json.loads(canvas.get_attribute("data-values")) == [w[1] for w in want]
    check_retention(page, world, video, first, last, lang)

    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the {viewport} screen"
    assert serious_violations(page) == []
    assert errors == []


def check_retention(page: Page, world: World, video: reference.Video, first: dt.date, last: dt.date, lang: str) -> None:
    section = page.get_by_test_id("retention")
    expect(section.locator("h2")).to_have_text(TEXTS[lang]["retention"])
    expect(page.get_by_test_id("retention-unavailable")).to_have_count(0)
    daily = reference.compute_retention(world.videos, world.plays, world.zone)
    mine = [v for (video_id, day), v in daily.items() if video_id == video.video_id and first <= day <= last]
    views = sum(v for v, _ in mine)
    points = [sum(p[k] for _, p in mine) for k in range(100)]
    assert views > 0
    assert section.get_attribute("data-views") == str(views)
    percents = json.loads(page.get_by_test_id("retention-curve").get_attribute("data-values") or "[]")
    assert len(percents) == 100
    for at in (0, 10, 50, 90, 99):
        want = (Decimal(points[at]) * 100 / views).quantize(Decimal("0.1"), ROUND_HALF_UP)
        assert Decimal(percents[at]) == want, at
        [(_, cells)] = [r for r in rows(page, "retention-table", "retention-row", "data-position") if r[0] == str(at)]
        assert Decimal(cells["percent"]) == want and int(cells["reached"]) == points[at], at


def test_the_comparison_overlay_draws_the_previous_range_of_the_reference(page, world):
    sign_in(page, world, world.seller)
    video = world.videos[1]
    open_route(page, world, f"videos/{video.video_id}")
    last = world.today - dt.timedelta(days=1)
    first = last - dt.timedelta(days=6)
    show_range(page, "DAILY", first, last, "PREVIOUS")
    earlier = days(first - dt.timedelta(days=7), first - dt.timedelta(days=1))
    by_day = {r.day: r.views for r in reference_rows(world, video.video_id, earlier[0], last)}
    canvas = page.get_by_test_id("chart-canvas")
    eventually(
        lambda: canvas.get_attribute("data-earlier-values"),
        json.dumps([by_day.get(d, 0) for d in earlier]).replace(" ", ""),
        "overlay",
    )
    assert json.loads(canvas.get_attribute("data-values")) == [by_day.get(d, 0) for d in days(first, last)]
    figures = dict(shown(rows(page, "compare-table", "compare-row", "data-figure"), ("earlier",)))
    assert int(figures["views"]) == sum(by_day.get(d, 0) for d in earlier)


# --- links to the page -----------------------------------------------------------------------


def test_the_top_five_and_statement_titles_link_to_the_video_page(page, world):
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    open_route(page, world, f"sellers/{seller}/top")
    page.get_by_test_id("top-period").select_option("MONTHLY")
    page.get_by_test_id("top-date").fill(world.last_month.isoformat())
    page.get_by_test_id("top-apply").click()
    top = world.get(f"/v1/sellers/{seller}/top-videos?period=MONTHLY&date={world.last_month}&metric=VIEWS", token)
    video_id, title = top["videos"][0]["video_id"], top["videos"][0]["title"]
    link = page.get_by_test_id("top-views").locator(f'[data-testid="video-link"][data-video-id="{video_id}"]')
    expect(link).to_have_text(title)
    link.click()
    page.wait_for_url(re.compile(rf"#/videos/{video_id}$"))
    settled(page)
    expect(page.get_by_test_id("video-title")).to_have_text(title)

    open_route(page, world, f"sellers/{seller}/statements")
    page.get_by_test_id("statement-period").select_option("MONTHLY")
    page.get_by_test_id("statement-date").fill(world.last_month.isoformat())
    page.get_by_test_id("statement-apply").click()
    statement = world.get(f"/v1/sellers/{seller}/settlements?period=MONTHLY&date={world.last_month}", token)
    video_id = statement["lines"][1]["video_id"]
    page.locator(f'[data-testid="statement-line"][data-video-id="{video_id}"]').get_by_test_id("video-link").click()
    page.wait_for_url(re.compile(rf"#/videos/{video_id}$"))
    settled(page)
    expect(page.get_by_test_id("video-title")).to_have_attribute("data-video-id", video_id)

    # The charts of one video offer its page too.
    open_route(page, world, f"sellers/{seller}/charts")
    page.get_by_test_id("chart-video").select_option(str(world.videos[2].video_id))
    page.get_by_test_id("chart-apply").click()
    page.locator("main .results").get_by_test_id("video-link").click()
    page.wait_for_url(re.compile(rf"#/videos/{world.videos[2].video_id}$"))


# --- unknown and refused videos --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_an_unknown_video_has_a_localized_not_found_page(page, world, lang):
    sign_in(page, world, world.seller)
    unknown = max(v.video_id for v in world.videos) + 1000
    status, _ = world.mesh.json(
        "GET", f"/v1/videos/{unknown}/stats?period=DAILY&from={world.today}&to={world.today}", token=world.seller.token
    )
    assert status == 404
    open_route(page, world, f"sellers/{world.seller.account_id}/overview")
    choose_language(page, lang)
    open_route(page, world, f"videos/{unknown}")
    expect(page.get_by_test_id("video-not-found")).to_have_text(TEXTS[lang]["not_found"].format(id=unknown))
    assert page.locator("main [data-exact]").count() == 0
    assert serious_violations(page) == []


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_another_sellers_video_has_a_localized_refusal_and_no_figures(page, world, lang):
    sign_in(page, world, world.seller)
    theirs = next(v for v in world.videos if v.seller_id == world.other.account_id)
    status, _ = world.mesh.json(
        "GET",
        f"/v1/videos/{theirs.video_id}/stats?period=DAILY&from={world.today}&to={world.today}",
        token=world.seller.token,
    )
    assert status == 403
    open_route(page, world, f"sellers/{world.seller.account_id}/overview")
    choose_language(page, lang)
    open_route(page, world, f"videos/{theirs.video_id}")
    expect(page.get_by_test_id("refusal")).to_contain_text(TEXTS[lang]["forbidden"])
    assert page.locator("main [data-exact]").count() == 0
    assert page.get_by_test_id("chart-row").count() == 0


# --- the seller's RPM on the overview --------------------------------------------------------


def test_the_overview_shows_this_months_rpm_of_the_reference(page, world):
    sign_in(page, world, world.seller)
    seller = world.seller.account_id
    page.wait_for_url(re.compile(rf"#/sellers/{seller}/overview$"))
    settled(page)
    [month] = reference.seller_series(world.daily, seller, "MONTHLY", [world.this_month])
    want = reference.rpm(month["video_revenue"], month["ad_revenue"], month["views"])
    assert want is not None
    assert Decimal(exact_of(page, "overview-rpm") or "") == want
