"""Suite-wide: the shared plugins, and in CI (CI=true, as .ci/run sets it) a skipped test fails the run.

Every module of tests/plugins/ is a pytest plugin (pytest reads `pytest_plugins` in the
rootdir's conftest only): a test asks for its fixtures by name, without importing them, and
imports its helpers from the module. Two plugins defining one fixture name would leave the
last registered in force without a word, so the names are checked here, before any test runs.

A skip hides a test that did not run; locally `-rs` lists each one with its reason."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest
from hypothesis import settings

PLUGINS = Path(__file__).resolve().parent / "plugins"


def _fixture_names(module: Path) -> list[str]:
    """The fixtures a plugin defines: functions decorated with `pytest.fixture`, under `name=` if given."""
    names = []
    for node in ast.parse(module.read_text(), filename=str(module)).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if isinstance(target, ast.Attribute) and target.attr == "fixture":
                renamed = [k.value.value for k in (call.keywords if call else []) if k.arg == "name"]
                names.append(renamed[0] if renamed else node.name)
    return names


def _plugins() -> list[str]:
    modules = sorted(path for path in PLUGINS.glob("*.py") if path.stem != "__init__")
    defined_by: dict[str, list[str]] = {}
    for module in modules:
        for name in _fixture_names(module):
            defined_by.setdefault(name, []).append(module.stem)
    clashes = {name: owners for name, owners in defined_by.items() if len(owners) > 1}
    if clashes:
        raise pytest.UsageError(f"one fixture name in two tests/plugins/ modules, name them apart: {clashes}")
    return [f"tests.plugins.{module.stem}" for module in modules]


# The whole package is rewritten (plain `assert` reports values), whichever plugin imports another first.
pytest.register_assert_rewrite("tests.plugins")
pytest_plugins = _plugins()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI=true), which counts as a failure: {reason}"


# Hypothesis's 200 ms per-example deadline measures the machine, not the code: on a loaded
# 2-core machine pure examples took 250 ms. Speed is measured by bench/, not by tests.
settings.register_profile("paysystem", deadline=None)
settings.load_profile("paysystem")
