"""The finance pages of the dashboard (issue 31, item 8) in headless Chromium against a real
mesh: a payout month run end to end through the pages (a seller sets a payout profile, admin A
closes the month, the approval is refused to A and done by admin B, B marks the payout PAID
and downloads the bank file, a webhook endpoint is registered and its deliveries shown), the
tier and tax tables scheduled, the audit log filtered; every finance page, in Korean and in
English, at desktop and phone widths, has no serious or critical axe-core violation, no
console error and no sideways scroll at phone width.

The tests of this module run in order on one world (tests/plugins/browser.py) whose previous
month is left open for the page to close. Expected figures come from the JSON API read with
the page's own token and from tests/reference.py (taxes), never from the page's code.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests import reference
from tests.browser.test_dashboard import eventually, rows, settled, shown, sign_in
from tests.databases import fresh_database
from tests.mesh import Mesh
from tests.plugins.browser import Account, World, populate

REDIS_URL = "redis://127.0.0.1:6379/1"
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
BOM = "\ufeff"
SELF_APPROVAL = {
    "ko": "이 달을 마감한 관리자는 지급을 승인할 수 없습니다. 다른 관리자가 승인해야 합니다.",
    "en": "The admin who closed this month cannot approve its payouts: another admin must approve them.",
}
PROFILE = {"legal_name": "김판매", "bank_code": "004", "account_number": "123-456-789012"}
ACCOUNT_DIGITS = "123456789012"
ADMIN_ROUTES = ["closings", "payouts", "tables", "audit", "webhooks"]
HOOK_URL = "http://127.0.0.1:9/paysystem-hook"  # nothing listens: deliveries stay to retry


# --- the world and the pages -----------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("finance-pages-mesh")
    with fresh_database("mariadb", "paysystem_finpages_", tmp) as url:
        with Mesh.on_free_ports(tmp, db_url=url, redis_url=REDIS_URL) as mesh:
            yield populate(mesh, close_last_month=False)


@pytest.fixture(scope="module")
def axe_source(node_modules: Path) -> str:
    """axe-core's browser bundle, from the dashboard's dev dependencies (web/package.json)."""
    return (node_modules / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def admin_b(world) -> Account:
    username = world.mesh.unique_username("admin-b")
    account_id, token = world.mesh.create_admin(username)
    return Account(account_id, username, token)


@dataclasses.dataclass
class Watched:
    """A page and what its browser said: console errors and uncaught exceptions."""

    page: Page
    errors: list[str]

    def assert_quiet(self) -> None:
        # A refused or failed API call logs "Failed to load resource" by itself: the page shows
        # those as messages (checked by the tests); anything else is the page's own error.
        own = [e for e in self.errors if "Failed to load resource" not in e]
        assert own == [], own


class Pages(list):
    """The pages a test opens (conftest screenshots each one when the test fails)."""

    def __init__(self, browser: Browser, axe_source: str):
        super().__init__()
        self.browser = browser
        self.axe_source = axe_source
        self.watched: list[Watched] = []

    def open(self, lang: str = "ko", viewport: ViewportSize | None = None) -> Watched:
        context = self.browser.new_context(accept_downloads=True, viewport=viewport or DESKTOP)
        context.set_default_timeout(30_000)
        context.add_init_script(f"localStorage.setItem('paysystem.lang', {json.dumps(lang)})")
        # axe-core in every document of the context: an init script, which the page's CSP (no
        # inline script) does not block.
        context.add_init_script(self.axe_source)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
        self.append(page)
        watched = Watched(page, errors)
        self.watched.append(watched)
        return watched


@pytest.fixture
def pages(browser, axe_source):
    opened = Pages(browser, axe_source)
    try:
        yield opened
    finally:
        for watched in opened.watched:
            watched.assert_quiet()
        for page in opened:
            page.context.close()


def go(page: Page, world: World, route: str) -> None:
    page.goto(world.url(route))
    settled(page)


def axe_violations(page: Page) -> list[dict]:
    """axe-core run in the page (Pages.open installs it): the serious and critical violations,
    each with the first nodes it names."""
    assert page.evaluate("() => typeof window.axe === 'object'"), "axe-core is not in the page"
    return page.evaluate(
        """async () => {
             const result = await axe.run(document, {resultTypes: ['violations']});
             return result.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
           }"""
    )


def accessible(page: Page, where: str) -> None:
    assert axe_violations(page) == [], where


def fits(page: Page, where: str) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{where} is {overflow} px wider than the screen"


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))


def api(world: World, path: str, token: str):
    status, body = world.mesh.json("GET", path, token=token)
    assert status == 200, (path, status, body)
    return body


# --- a payout month through the pages --------------------------------------------------------


def test_a_seller_sets_the_payout_profile_with_errors_under_their_fields_on_a_phone(pages, world):
    page = pages.open("ko", PHONE).page
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    go(page, world, f"sellers/{seller}/profile")
    expect(page.get_by_test_id("nav-profile")).to_have_attribute("aria-current", "page")
    page.get_by_test_id("profile-legal_name").fill(PROFILE["legal_name"])
    page.get_by_test_id("profile-tax_type").select_option("INDIVIDUAL")
    page.get_by_test_id("profile-bank_code").fill("04")  # two digits: refused by the API
    page.get_by_test_id("profile-account_number").fill(PROFILE["account_number"])
    page.get_by_test_id("profile-save").click()
    problem = page.get_by_test_id("profile-bank_code-error")
    expect(problem).to_contain_text("확인하세요")
    expect(problem).to_contain_text("3 digits")
    expect(page.get_by_test_id("profile-bank_code")).to_have_attribute("aria-invalid", "true")
    assert world.mesh.json("GET", f"/v1/sellers/{seller}/payout-profile", token=token)[0] == 404  # nothing stored
    accessible(page, "profile with an error")

    page.get_by_test_id("profile-bank_code").fill(PROFILE["bank_code"])
    page.get_by_test_id("profile-save").click()
    expect(page.get_by_test_id("profile-saved")).to_be_visible()
    expect(problem).to_be_empty()
    saved = api(world, f"/v1/sellers/{seller}/payout-profile", token)
    assert (saved["legal_name"], saved["tax_type"], saved["bank_code"]) == (PROFILE["legal_name"], "INDIVIDUAL", "004")
    assert ACCOUNT_DIGITS not in saved["account_number"] and saved["account_number"].endswith("9012")
    # The page shows the masked number and never the whole one.
    expect(page.get_by_test_id("profile-masked")).to_contain_text(saved["account_number"])
    expect(page.get_by_test_id("profile-account_number")).to_have_value("")
    assert ACCOUNT_DIGITS not in page.content()
    accessible(page, "profile saved")
    fits(page, "the profile page")


def test_admin_a_registers_a_webhook_endpoint(pages, world):
    page = pages.open("ko").page
    token = sign_in(page, world, world.admin)
    go(page, world, "webhooks")
    page.get_by_test_id("webhook-url").fill(HOOK_URL)
    page.get_by_test_id("webhook-secret").fill("s3cret-for-the-browser-test")
    page.get_by_test_id("webhook-register").click()
    expect(page.get_by_test_id("register-done")).to_be_visible()
    endpoints = api(world, "/v1/webhooks/endpoints", token)["endpoints"]
    assert [e["url"] for e in endpoints] == [HOOK_URL]
    assert sorted(endpoints[0]["events"]) == sorted(
        ["month.closed", "payouts.approved", "payout.paid", "payout.failed", "adjustment.posted"]
    )
    assert shown(rows(page, "endpoints", "endpoint-row", "data-endpoint-id"), ("url",)) == [
        (endpoints[0]["endpoint_id"], HOOK_URL)
    ]
    accessible(page, "webhooks")


def test_admin_a_closes_the_month_and_is_refused_the_approval(pages, world):
    page = pages.open("ko").page
    token = sign_in(page, world, world.admin)
    month = month_of(world.last_month)
    go(page, world, "closings")
    expect(page.get_by_test_id("close-month")).to_have_value(month)  # the month before this one
    page.get_by_test_id("close-submit").click()
    expect(page.get_by_test_id("close-done")).to_be_visible(timeout=60_000)
    [closing] = [c for c in api(world, "/v1/settlement/closings", token)["closings"] if c["month"] == month]
    assert closing["closed_by"] == str(world.admin.account_id) and closing["approved_by"] in ("0", "", None)
    fields = ("closed_by", "total", "payouts_krw", "payouts_created")
    assert shown(rows(page, "closings", "closing-row", "data-month"), fields) == [
        (month, *(closing[f] for f in fields))
    ]
    row = page.locator(f'[data-testid="closing-row"][data-month="{month}"]')
    row.get_by_test_id("closing-adjustments").click()
    pending = api(world, f"/v1/settlement/closings/{month}/pending-adjustments", token)
    expect(page.get_by_test_id("pending-total")).to_have_attribute("data-exact", pending["total"])
    assert len(rows(page, "pending-adjustments", "adjustment-row", "data-seller-id")) == len(pending["adjustments"])

    row.get_by_test_id("closing-approve").click()
    refusal = page.get_by_test_id("closing-outcome").get_by_test_id("refusal")
    expect(refusal).to_contain_text(SELF_APPROVAL["ko"])
    [after] = [c for c in api(world, "/v1/settlement/closings", token)["closings"] if c["month"] == month]
    assert after["approved_by"] in ("0", "", None)  # nothing approved
    accessible(page, "closings after the refusal")


def test_admin_b_approves_in_english_and_the_payouts_become_approved(pages, world, admin_b):
    page = pages.open("en").page
    token = sign_in(page, world, admin_b)
    month = month_of(world.last_month)
    go(page, world, "closings")
    expect(page.get_by_test_id("nav-closings")).to_have_text("Closings")
    page.locator(f'[data-testid="closing-row"][data-month="{month}"]').get_by_test_id("closing-approve").click()
    expect(page.get_by_test_id("approve-done")).to_contain_text("approved")
    [closing] = [c for c in api(world, "/v1/settlement/closings", token)["closings"] if c["month"] == month]
    assert closing["approved_by"] == str(admin_b.account_id)
    eventually(
        lambda: shown(rows(page, "closings", "closing-row", "data-month"), ("approved_by",)),
        [(month, str(admin_b.account_id))],
        "approved by B",
    )
    payouts = api(world, f"/v1/sellers/{world.seller.account_id}/payouts", token)["payouts"]
    assert [p["status"] for p in payouts if p["month"] == month] == ["APPROVED"]
    accessible(page, "closings approved")


def _seller_payout(world: World, token: str) -> dict:
    [payout] = [
        p
        for p in api(world, f"/v1/sellers/{world.seller.account_id}/payouts", token)["payouts"]
        if p["month"] == month_of(world.last_month)
    ]
    return payout


def _taxes_of(payout: dict) -> tuple[str, ...]:
    income, local, vat, net = reference.payout_taxes(int(payout["gross_krw"]), "INDIVIDUAL")
    return payout["gross_krw"], str(income), str(local), str(vat), str(net)


TAX_FIELDS = ("gross_krw", "income_tax_krw", "local_income_tax_krw", "vat_krw", "net_krw")


def test_admin_b_lists_the_payouts_downloads_the_bank_file_and_marks_one_paid(pages, world, admin_b):
    page = pages.open("en").page
    token = sign_in(page, world, admin_b)
    month = month_of(world.last_month)
    payout = _seller_payout(world, token)
    assert int(payout["gross_krw"]) > 0
    go(page, world, "payouts")
    page.get_by_test_id("payouts-month").select_option(month)
    page.get_by_test_id("payouts-status").select_option("APPROVED")
    page.get_by_test_id("payouts-apply").click()
    listed = api(world, f"/v1/settlement/closings/{month}/payouts?status=APPROVED&page_size=50", token)["payouts"]
    assert payout["payout_id"] in [p["payout_id"] for p in listed]
    eventually(
        lambda: shown(rows(page, "payouts", "payout-row", "data-payout-id"), ("status", *TAX_FIELDS)),
        [(p["payout_id"], p["status"], *(p[f] for f in TAX_FIELDS)) for p in listed],
        "the APPROVED payouts of the month",
    )
    # The breakdown is DESIGN 2b's, as the reference computes it.
    cells = dict(rows(page, "payouts", "payout-row", "data-payout-id"))[payout["payout_id"]]
    assert tuple(cells[f] for f in TAX_FIELDS) == _taxes_of(payout)
    row = page.locator(f'[data-testid="payout-row"][data-payout-id="{payout["payout_id"]}"]')
    row.get_by_test_id("payout-details").click()
    expect(page.get_by_test_id("breakdown-net_krw")).to_have_attribute("data-exact", _taxes_of(payout)[4])
    assert "₩" in page.get_by_test_id("breakdown-gross_krw").inner_text()  # readable without hover

    with page.expect_download() as download_info:
        page.get_by_test_id("bank-file").click()
    download = download_info.value
    assert download.suggested_filename == f"transfers-{month}.csv"
    text = download.path().read_bytes().decode("utf-8")  # as sent: CRLF line ends kept
    status, served = world.mesh.request("GET", f"/v1/settlement/closings/{month}/transfers:csv", token=token)
    assert status == 200 and served == text  # the file the API serves, byte for byte
    table = csv_rows(text)
    mine = [r for r in table if ACCOUNT_DIGITS in r]
    assert len(mine) == 1, table  # the whole account number, in the bank file only
    assert {PROFILE["bank_code"], PROFILE["legal_name"], _taxes_of(payout)[4], f"PaySystem {month}"} <= set(mine[0])
    accessible(page, "payouts")

    reference_text = "BANK-20261207-0001"
    row.get_by_test_id("payout-reference").fill(reference_text)
    row.get_by_test_id("payout-mark-paid").click()
    expect(page.get_by_test_id("mark-done")).to_be_visible()
    paid = api(world, f"/v1/payouts/{payout['payout_id']}", token)
    assert (paid["status"], paid["reference"]) == ("PAID", reference_text)
    page.get_by_test_id("payouts-status").select_option("PAID")
    page.get_by_test_id("payouts-apply").click()
    eventually(
        lambda: shown(rows(page, "payouts", "payout-row", "data-payout-id"), ("status", "reference")),
        [(payout["payout_id"], "PAID", reference_text)],
        "the payout marked PAID",
    )
    # The month records the SHA-256 of the file downloaded, and the closings page shows it.
    go(page, world, "closings")
    cell = page.locator(f'[data-testid="closing-row"][data-month="{month}"] [data-field="transfer_file_sha256"]')
    expect(cell).to_have_attribute("data-exact", hashlib.sha256(download.path().read_bytes()).hexdigest())


def test_the_webhook_endpoint_shows_its_deliveries_and_redelivers_one(pages, world):
    page = pages.open("en").page
    token = sign_in(page, world, world.admin)
    go(page, world, "webhooks")
    [endpoint] = api(world, "/v1/webhooks/endpoints", token)["endpoints"]
    path = f"/v1/webhooks/endpoints/{endpoint['endpoint_id']}/deliveries?page_size=100"
    # The month was closed and approved since the endpoint was registered (and a payout paid).
    eventually(
        lambda: (
            {"month.closed", "payouts.approved"} <= {d["event_type"] for d in api(world, path, token)["deliveries"]}
        ),
        True,
        "the outbox's events reached the endpoint's deliveries",
    )
    page.get_by_test_id("endpoint-deliveries").click()
    expect(page.get_by_test_id("deliveries")).to_be_visible()
    want = api(world, path, token)["deliveries"]
    got = shown(rows(page, "deliveries", "delivery-row", "data-delivery-id"), ("event_type", "event_id"))
    assert sorted(got) == sorted((d["delivery_id"], d["event_type"], d["event_id"]) for d in want)
    page.get_by_test_id("delivery-redeliver").first.click()
    expect(page.get_by_test_id("redeliver-done")).to_be_visible()
    accessible(page, "webhook deliveries")


def test_the_seller_sees_each_payouts_taxes_and_downloads_the_yearly_summary(pages, world):
    page = pages.open("en").page
    token = sign_in(page, world, world.seller)
    seller = world.seller.account_id
    payout = _seller_payout(world, token)
    go(page, world, f"sellers/{seller}/profile")
    cells = dict(rows(page, "seller-payouts", "seller-payout-row", "data-payout-id"))[payout["payout_id"]]
    assert cells["status"] == "PAID"
    assert tuple(cells[f] for f in TAX_FIELDS) == _taxes_of(payout)
    year = str(world.last_month.year)
    page.get_by_test_id("tax-summary-year").fill(year)
    with page.expect_download() as download_info:
        page.get_by_test_id("tax-summary-csv").click()
    download = download_info.value
    assert download.suggested_filename == f"tax-summary-{seller}-{year}.csv"
    table = {r[0]: r for r in csv_rows(download.path().read_text(encoding="utf-8"))}
    gross, income, local, vat, net = _taxes_of(payout)
    assert table[month_of(world.last_month)][1:6] == [gross, income, local, vat, net]
    accessible(page, "the seller's taxes")


def test_an_admin_schedules_a_tier_table_and_a_tax_table(pages, world):
    page = pages.open("ko").page
    token = sign_in(page, world, world.admin)
    go(page, world, "tables")
    start = (world.today + dt.timedelta(days=40)).isoformat()
    page.get_by_test_id("tier-effective-from").fill(start)
    page.get_by_test_id("tier-video").fill("0=1.5, 1000=1.25")
    page.get_by_test_id("tier-ad").fill("0=3")
    page.get_by_test_id("tier-submit").click()
    expect(page.get_by_test_id("tier-done")).to_be_visible()
    tiers = api(world, "/v1/settlement/tier-tables", token)["tables"]
    [scheduled] = [t for t in tiers if t["effective_from"] == start]
    assert [(t["lower_bound"], t["unit_price"]) for t in scheduled["video"]] == [("0", "1.5"), ("1000", "1.25")]
    want = [
        (f"{t['effective_from']}/{kind}/{tier['lower_bound']}", tier["unit_price"])
        for t in tiers
        for kind in ("video", "ad")
        for tier in t[kind]
    ]
    eventually(lambda: shown(rows(page, "tier-tables", "tier-row", "data-key"), ("unit_price",)), want, "tier rows")

    page.get_by_test_id("tier-video").fill("0=1.5, x=2")  # refused before any call
    page.get_by_test_id("tier-submit").click()
    expect(page.get_by_test_id("tier-outcome").get_by_test_id("error")).to_contain_text("x=2")

    page.get_by_test_id("tax-effective-from").fill(start)
    page.get_by_test_id("tax-income_tax_rate").fill("0.035")
    page.get_by_test_id("tax-submit").click()
    expect(page.get_by_test_id("tax-done")).to_be_visible()
    taxes = api(world, "/v1/settlement/tax-tables", token)["tables"]
    [tax] = [t for t in taxes if t["effective_from"] == start]
    assert tax["income_tax_rate"] == "0.035"
    eventually(
        lambda: shown(rows(page, "tax-tables", "tax-row", "data-key"), ("income_tax_rate", "vat_rate")),
        [(t["effective_from"], t["income_tax_rate"], t["vat_rate"]) for t in taxes],
        "tax rows",
    )
    accessible(page, "tables")


def test_the_audit_log_filters_by_action_and_names_the_verify_command(pages, world, admin_b):
    page = pages.open("en").page
    token = sign_in(page, world, world.admin)
    go(page, world, "audit")
    expect(page.get_by_test_id("audit-verify-command")).to_have_text("paysystem audit verify")
    for action, actor in (("month.close", world.admin), ("payouts.approve", admin_b), ("payout.mark", admin_b)):
        page.get_by_test_id("audit-action").fill(action)
        page.get_by_test_id("audit-apply").click()
        entries = api(world, f"/v1/audit?action={action}&page_size=50", token)["entries"]
        assert [e["actor_id"] for e in entries] == [str(actor.account_id)], (action, entries)
        eventually(
            lambda entries=entries: shown(rows(page, "audit", "audit-row", "data-seq"), ("action", "actor_id", "hash")),
            [(e["seq"], e["action"], e["actor_id"], e["hash"]) for e in entries],
            action,
        )
    page.get_by_test_id("audit-action").fill("")
    page.get_by_test_id("audit-actor").fill(str(admin_b.account_id))
    page.get_by_test_id("audit-apply").click()
    entries = api(world, f"/v1/audit?actor_id={admin_b.account_id}&page_size=50", token)["entries"]
    eventually(lambda: [k for k, _ in rows(page, "audit", "audit-row", "data-seq")], [e["seq"] for e in entries], "B")
    accessible(page, "audit")


# --- every page: languages, widths, accessibility, refusals -----------------------------------


@pytest.mark.parametrize(
    ("lang", "viewport"), [("ko", DESKTOP), ("en", DESKTOP), ("ko", PHONE)], ids=["ko", "en", "ko-phone"]
)
def test_every_finance_page_is_accessible_and_fits(pages, world, lang, viewport):
    admin = pages.open(lang, viewport).page
    sign_in(admin, world, world.admin)
    for route in ADMIN_ROUTES:
        go(admin, world, route)
        expect(admin.get_by_test_id(f"nav-{route}")).to_have_attribute("aria-current", "page")
        assert admin.locator("main [data-testid=error], main [data-testid=refusal]").count() == 0, route
        heading = admin.locator("main h1").inner_text()
        assert bool(re.search("[가-힣]", heading)) == (lang == "ko"), (route, heading)
        accessible(admin, f"{route} {lang} {viewport['width']}")
        if viewport is PHONE:
            fits(admin, route)
    seller = pages.open(lang, viewport).page
    sign_in(seller, world, world.seller)
    go(seller, world, f"sellers/{world.seller.account_id}/profile")
    accessible(seller, f"profile {lang} {viewport['width']}")
    if viewport is PHONE:
        fits(seller, "profile")


@pytest.mark.parametrize("route", ADMIN_ROUTES)
def test_a_seller_is_refused_the_finance_pages(pages, world, route):
    page = pages.open("ko").page
    sign_in(page, world, world.seller)
    page.goto(world.url(route))
    expect(page.get_by_test_id("refusal")).to_be_visible()
    assert page.get_by_test_id(f"nav-{route}").count() == 0
