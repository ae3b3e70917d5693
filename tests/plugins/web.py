"""The dashboard's Node.js dependencies (web/node_modules), for the front-end tests (tests/web)
and the browser tests that run a dependency in the page (axe-core, tests/browser).

`npm ci` runs first when web/node_modules is missing or lacks a pinned dependency
(dependencies pinned by web/package-lock.json).
"""

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


@pytest.fixture(scope="session")
def node_modules() -> Path:
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
