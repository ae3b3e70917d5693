"""The dashboard's front end (web/): its own unit tests (node:test on the bundled modules:
money, watch time, dates, periods, messages, the job stream), its type check, the API's
types (web/src/api-types.ts) being what docs/openapi.json generates, and the committed build
(web/dist) being exactly what the sources build to today.

`npm ci` runs first when web/node_modules is missing or lacks a pinned dependency (the
`node_modules` fixture, tests/plugins/web.py).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.plugins.web import npm

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST = WEB / "dist"


def test_the_front_end_unit_tests_pass(node_modules):
    result = subprocess.run(
        [npm(), "--prefix", str(WEB), "test"], capture_output=True, text=True, timeout=300, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    passed = int(re.search(r"^# pass (\d+)$", output, flags=re.M).group(1))
    assert re.search(r"^# fail 0$", output, flags=re.M), output[-5000:]
    assert passed >= 16, output[-3000:]


def test_the_api_types_are_what_the_openapi_document_generates(node_modules, tmp_path):
    fresh = tmp_path / "api-types.ts"
    result = subprocess.run(
        [
            str(node_modules / ".bin" / "openapi-typescript"),
            str(ROOT / "docs" / "openapi.json"),
            "--output",
            str(fresh),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert fresh.read_bytes() == (WEB / "src" / "api-types.ts").read_bytes(), (
        "web/src/api-types.ts differs from docs/openapi.json: run `npm --prefix web run gen:types`"
    )


def test_the_committed_build_is_what_the_sources_build_to(node_modules, tmp_path):
    out = tmp_path / "dist"
    result = subprocess.run(
        ["node", str(WEB / "build.mjs"), "--outdir", str(out)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    built = sorted(p.name for p in out.iterdir())
    committed = sorted(p.name for p in DIST.iterdir())
    assert built == committed, "web/dist has other files than a fresh build: run `npm --prefix web run build`"
    for name in built:
        assert (out / name).read_bytes() == (DIST / name).read_bytes(), (
            f"web/dist/{name} differs from a fresh build: run `npm --prefix web run build` and commit web/dist"
        )


def test_the_first_load_is_within_its_budget(node_modules, tmp_path):
    result = subprocess.run(
        ["node", str(WEB / "build.mjs"), "--outdir", str(tmp_path / "dist")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    total = int(re.search(r"first load\s+(\d+) B gzip", result.stdout).group(1))
    assert total < 150 * 1024, result.stdout


def test_the_page_has_no_inline_script_or_event_handler():
    html = (DIST / "index.html").read_text()
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None
    assert re.search(r"\son[a-z]+\s*=", html) is None
    assert "http://" not in html and "https://" not in html, "no asset from another origin (no CDN)"
    source = "\n".join(p.read_text() for p in (WEB / "src").rglob("*.ts"))
    assert "innerHTML" not in source and "parseFloat" not in source
