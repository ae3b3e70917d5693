"""The dashboard's npm dependencies (web/node_modules), installed by `npm ci` from
web/package-lock.json when missing or short of a pinned package: needed by the front-end tests
(tests/web) and by the browser tests that run axe-core from it (tests/browser)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"


def npm() -> str:
    found = shutil.which("npm")
    assert found, "npm is needed to build and test the dashboard (Debian: apt-get install nodejs npm)"
    return found


def ensure_node_modules() -> Path:
    """web/node_modules with every pinned dev dependency (`npm ci` first if one is missing)."""
    modules = WEB / "node_modules"
    wanted = json.loads((WEB / "package.json").read_text())["devDependencies"]
    if not (modules / ".package-lock.json").exists() or not all((modules / name).is_dir() for name in wanted):
        result = subprocess.run(
            [npm(), "--prefix", str(WEB), "ci", "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return modules


@pytest.fixture(scope="session")
def web_node_modules() -> Path:
    return ensure_node_modules()
