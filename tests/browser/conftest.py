"""The dashboard (web/dist, served by Envoy at /) in headless Chromium against a real mesh with
real figures (tests/plugins/browser.py builds them): one mesh per module, on MariaDB and Redis
as the e2e tests run, one Chromium per module, a fresh browser context per test. A failed test
leaves a full-page screenshot in test-output/browser/ (named after the test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.databases import fresh_database
from tests.mesh import Mesh
from tests.plugins.browser import World, launch_chromium, populate

REDIS_URL = "redis://127.0.0.1:6379/1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "browser"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.mesh)
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    funcargs = getattr(item, "funcargs", {})
    # A test's `page`, and the pages a test opened itself through a `pages` fixture (a list).
    pages = [funcargs.get("page"), *funcargs.get("pages", [])]
    if report.when != "call" or not report.failed:
        return
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])
    for n, page in enumerate(p for p in pages if p is not None and not p.is_closed()):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (name + (f"-{n}" if n else "") + ".png")
        page.screenshot(path=str(path), full_page=True)
        report.sections.append(("screenshot", str(path)))


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    tmp = tmp_path_factory.mktemp("browser-mesh")
    with fresh_database("mariadb", "paysystem_browser_", tmp) as url:
        with Mesh.on_free_ports(tmp, db_url=url, redis_url=REDIS_URL) as mesh:
            yield populate(mesh)


@pytest.fixture(scope="module")
def browser(world):
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
