"""Benchmark of the seller dashboard (issue 16): what its first load weighs, how long Debian's
headless Chromium takes from navigation to a drawn chart, and how fast the overview's API
calls answer.

    flock /tmp/bench.lock .venv/bin/python bench/bench_dashboard.py [--runs 7] [--plays 100000] [--storage mariadb]
    flock /tmp/bench.lock .venv/bin/python bench/bench_dashboard.py --url http://127.0.0.1:8080 \\
        --username U --password P        # a running mesh, e.g. `paysystem demo`

1. Without --url: starts a mesh on the demo's embedded defaults (tests/mesh.py: SQLite, no
   Redis), seeds it as `paysystem demo` does (entrypoints/cli/seed.py: 20 sellers, 300 viewers,
   300 videos, 35 days ending yesterday; `--plays` playbacks, the demo's 300,000 by default is
   slower to seed than to measure, so 100,000) and runs the daily batch. The demo seller is
   the one measured.
   `--storage mariadb`: the same on a fresh MariaDB database and one Redis node (database 3),
   the shape the read benchmark (bench_read_api.py) measures, so the overview's calls compare
   with its figures.
2. Assets: every response of the first load that is not an API call (index.html, the scripts,
   the stylesheet, /config.json), raw and gzip-compressed (level 9, what a compressing proxy
   would send), and the total against the target of 150 KB compressed (issue 32; 300 KB before).
3. Navigation to a drawn chart: a fresh browser context each run (no HTTP cache; the session
   put in sessionStorage before the app runs), `goto(#/sellers/{id}/charts)` until the canvas
   has data-drawn="true"; the median of `--runs`, wall time in Python and the page's own
   performance.now() when the attribute appeared. The floor, in the same run and interleaved
   with it: navigation to /config.json (a static file, the same Envoy, a fresh context) until
   its load event. The ratio is as rates, floor time / chart time (1.0 would be a chart as
   fast as fetching a static file). Target: 1.0 s (issue 32; 1.5 s before). The same for the per-video page
   (`#/videos/{id}`, the seller's first video: its 28 daily points and its retention), in
   the same interleaved runs.
4. The overview's API calls (the /v1/ requests the overview page makes, recorded from the
   page), each timed `--calls` times sequentially over one keep-alive connection with the same
   token: p50 and p99, beside GET /v1/statistics:ping (the read benchmark's floor).

Prints the machine (CPU model, cores, load average) next to the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import http.client
import json
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.bench_read_api import REDIS_URL, machine  # noqa: E402
from services.readpath.cache import invalidate_after_batch  # noqa: E402
from tests.databases import fresh_database  # noqa: E402
from tests.mesh import Mesh  # noqa: E402
from tests.plugins.browser import launch_chromium  # noqa: E402

TARGET_KB = 150
TARGET_CHART_SEC = 1.0
SESSION_KEY = "paysystem.session"
STORAGE_NAMES = {"sqlite": "SQLite without Redis, as the demo", "mariadb": "MariaDB and Redis, as the read benchmark"}
DRAWN = '[data-testid="chart-canvas"][data-drawn="true"]'
# Records when the chart canvas first says it is drawn, in the page's own clock.
WATCH_DRAWN = (
    "new MutationObserver((_, observer) => {"
    f"  if (document.querySelector({json.dumps(DRAWN)})) {{"
    "    window.__drawnAt = performance.now(); observer.disconnect(); }"
    "}).observe(document, {subtree: true, attributes: true, childList: true});"
)


def _login(base: str, username: str, password: str) -> dict:
    request = urllib.request.Request(
        base + "/v1/auth/token",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _session_script(login: dict) -> str:
    session = {
        "token": login["access_token"],
        "account_id": str(login["account_id"]),
        "role": login["role"],
        "expires_at_ms": int(time.time() * 1000) + int(login["expires_in"]) * 1000,
    }
    return f"sessionStorage.setItem({json.dumps(SESSION_KEY)}, {json.dumps(json.dumps(session))});"


@contextlib.contextmanager
def _seeded_mesh(plays: int, storage: str):
    from entrypoints.cli.seed import seed

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dashboard-")))
        if storage == "mariadb":
            # The read benchmark's shape: MariaDB and one Redis node (its database 3, emptied).
            db_url = stack.enter_context(fresh_database("mariadb", "paysystem_dashboard_bench_", tmp))
            invalidate_after_batch(REDIS_URL)
            mesh = stack.enter_context(Mesh.on_free_ports(tmp / "mesh", db_url=db_url, redis_url=REDIS_URL))
        else:
            mesh = stack.enter_context(Mesh.on_free_ports(tmp))
        today = dt.datetime.now(mesh.settings.zone).date()
        started = time.monotonic()
        summary = seed(
            url=mesh.base_url,
            sellers=20,
            viewers=300,
            videos=300,
            plays=plays,
            days=35,
            start_date=today - dt.timedelta(days=35),
            random_seed=7,
            settings=mesh.settings,
        )
        _, admin = mesh.create_admin()
        status, events = mesh.run_job({"job": "daily"}, admin, timeout=1800)
        if status != 200 or events[-1]["type"] != "JOB_FINISHED":
            raise SystemExit(f"the batch did not finish: {status} {events if status != 200 else events[-1]}")
        print(
            f"data: {summary.stored} playbacks stored over {summary.first_day} .. {summary.last_day}, "
            f"{len(summary.videos)} videos of {len(summary.sellers)} sellers, seeded and computed in "
            f"{time.monotonic() - started:.0f} s ({STORAGE_NAMES[storage]})"
        )
        seller = summary.demo_seller
        yield mesh.base_url, seller.username, seller.password


def _assets(browser, base: str, script: str, seller: str) -> list[tuple[str, int, int, int, str]]:
    """(path, raw bytes, gzip bytes, body bytes as served, content-encoding as served) of the
    first load's non-API responses."""
    context = browser.new_context()
    context.add_init_script(script)
    page = context.new_page()
    responses = []
    # Playwright wraps a handler by setting an attribute on it: a bound builtin has none.
    page.on("response", lambda response: responses.append(response))  # noqa: PLW0108
    page.goto(f"{base}/#/sellers/{seller}/charts")
    page.wait_for_selector(DRAWN, timeout=60_000)
    found = []
    for response in responses:
        path = urllib.parse.urlsplit(response.url).path
        if path.startswith("/v1/"):
            continue
        body = response.body()
        served = response.request.sizes()["responseBodySize"]
        encoding = response.headers.get("content-encoding", "")
        found.append((path, len(body), len(gzip.compress(body, 9)), served, encoding))
    context.close()
    return found


def _chart_run(browser, base: str, script: str, route: str) -> tuple[float, float]:
    """Navigation to `route` (a page with a chart) until its canvas is drawn."""
    context = browser.new_context()
    context.add_init_script(script)
    context.add_init_script(WATCH_DRAWN)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{base}/#/{route}")
    page.wait_for_selector(DRAWN, timeout=60_000)
    wall = time.perf_counter() - started
    in_page = (page.evaluate("() => window.__drawnAt") or float("nan")) / 1000
    context.close()
    return wall, in_page


def _floor_run(browser, base: str) -> tuple[float, float]:
    context = browser.new_context()
    page = context.new_page()
    started = time.perf_counter()
    page.goto(f"{base}/config.json", wait_until="load")
    wall = time.perf_counter() - started
    in_page = (page.evaluate("() => performance.getEntriesByType('navigation')[0].loadEventEnd") or float("nan")) / 1000
    context.close()
    return wall, in_page


def _api_calls(browser, base: str, script: str, route: str) -> list[str]:
    """The /v1/ requests a page makes until it is loaded and the network is idle."""
    context = browser.new_context()
    context.add_init_script(script)
    page = context.new_page()
    paths = []
    page.on(
        "request",
        lambda r: (
            paths.append(urllib.parse.urlsplit(r.url)._replace(scheme="", netloc="").geturl())
            if urllib.parse.urlsplit(r.url).path.startswith("/v1/")
            else None
        ),
    )
    page.goto(f"{base}/#/{route}")
    page.wait_for_function(
        "() => { const m = document.querySelector('main'); return m && m.dataset.loading !== 'true'; }"
    )
    page.wait_for_load_state("networkidle")
    context.close()
    return sorted(set(paths))


def _first_video(base: str, seller: str, token: str) -> str:
    """The seller's first video (the per-video page measured)."""
    request = urllib.request.Request(
        f"{base}/v1/sellers/{seller}/videos?page_size=1", headers={"authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(json.load(response)["videos"][0]["video_id"])


def _latencies(base: str, path: str, token: str, calls: int) -> tuple[float, float]:
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port or 80, timeout=30)
    times = []
    try:
        for _ in range(calls):
            started = time.perf_counter()
            conn.request("GET", path, headers={"authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            times.append(time.perf_counter() - started)
            if response.status != 200:
                raise SystemExit(f"{path}: HTTP {response.status}")
    finally:
        conn.close()
    times.sort()
    return statistics.median(times) * 1000, times[min(len(times) - 1, int(len(times) * 0.99))] * 1000


def measure(base: str, username: str, password: str, runs: int, calls: int) -> None:
    login = _login(base, username, password)
    seller, token = str(login["account_id"]), login["access_token"]
    video = _first_video(base, seller, token)
    script = _session_script(login)
    print(f"machine: {machine()}")
    print(f"mesh: {base}, seller {username} (account {seller})")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            print(f"browser: Chromium {browser.version}, headless")
            assets = _assets(browser, base, script, seller)
            print("\nassets of the first load (bytes):")
            print(f"  {'path':<24} {'raw':>10} {'gzip -9':>10} {'served':>10}  served encoding")
            for path, raw, packed, served, encoding in assets:
                print(f"  {path:<24} {raw:>10,} {packed:>10,} {served:>10,}  {encoding or 'identity'}")
            total_raw, total_gzip = sum(a[1] for a in assets), sum(a[2] for a in assets)
            total_served = sum(a[3] for a in assets)
            verdict = "met" if total_gzip < TARGET_KB * 1000 else "NOT met"
            print(
                f"  {'total':<24} {total_raw:>10,} {total_gzip:>10,} {total_served:>10,}  "
                f"({total_gzip / 1000:.1f} KB compressed; target < {TARGET_KB} KB: {verdict})"
            )

            routes = {"chart": f"sellers/{seller}/charts", "video": f"videos/{video}"}
            drawn: dict[str, list[tuple[float, float]]] = {name: [] for name in routes}
            floors = []
            for route in routes.values():
                _chart_run(browser, base, script, route)  # warm the mesh's caches, not the browser's
            for _ in range(runs):
                for name, route in routes.items():
                    drawn[name].append(_chart_run(browser, base, script, route))
                floors.append(_floor_run(browser, base))
            charts = drawn["chart"]
            chart_wall = statistics.median(c[0] for c in charts)
            chart_page = statistics.median(c[1] for c in charts)
            floor_wall = statistics.median(f[0] for f in floors)
            floor_page = statistics.median(f[1] for f in floors)
            print(f"\nnavigation to a drawn chart, median of {runs} fresh contexts (seconds):")
            for name, route in routes.items():
                wall = statistics.median(c[0] for c in drawn[name])
                print(
                    f"  {name:<6} wall {wall:.3f} (min {min(c[0] for c in drawn[name]):.3f}, max {max(c[0] for c in drawn[name]):.3f}),"
                    f" in page {statistics.median(c[1] for c in drawn[name]):.3f}; target <= {TARGET_CHART_SEC}:"
                    f" {'met' if wall <= TARGET_CHART_SEC else 'NOT met'}  (#/{route})"
                )
            print(
                f"  floor  wall {floor_wall:.3f} (min {min(f[0] for f in floors):.3f}, max {max(f[0] for f in floors):.3f}),"
                f" in page {floor_page:.3f}  (GET /config.json, same Envoy)"
            )
            print(
                f"  ratio (as rates, floor / chart): wall {floor_wall / chart_wall:.2f}, in page {floor_page / chart_page:.2f}"
            )

            pages = {
                name: _api_calls(browser, base, script, route)
                for name, route in (("overview", f"sellers/{seller}/overview"), ("video", f"videos/{video}"))
            }
        finally:
            browser.close()
    floor = _latencies(base, "/v1/statistics:ping", token, calls)
    for name, paths in pages.items():
        print(f"\nthe {name} page's API calls, {calls} sequential calls each, one keep-alive connection (ms):")
        print(f"  {'p50':>7} {'p99':>7}  path")
        print(f"  {floor[0]:>7.2f} {floor[1]:>7.2f}  /v1/statistics:ping (floor)")
        for path in paths:
            p50, p99 = _latencies(base, path, token, calls)
            print(f"  {p50:>7.2f} {p99:>7.2f}  {path}  (ratio as rates to the floor's p50: {floor[0] / p50:.2f})")
    print(f"\nload average at the end: {machine().rsplit('load average ', 1)[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running mesh (default: start one and seed it)")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--plays", type=int, default=100_000, help="playbacks to seed (without --url)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument(
        "--storage",
        choices=sorted(STORAGE_NAMES),
        default="sqlite",
        help="without --url: the demo's embedded SQLite (default) or MariaDB + Redis (the read benchmark's shape)",
    )
    args = parser.parse_args()
    if args.url:
        if not (args.username and args.password):
            parser.error("--url needs --username and --password (a seller's)")
        measure(args.url.rstrip("/"), args.username, args.password, args.runs, args.calls)
        return
    with _seeded_mesh(args.plays, args.storage) as (base, username, password):
        measure(base, username, password, args.runs, args.calls)


if __name__ == "__main__":
    main()
