"""Suite-wide: in CI (CI=true, as .ci/run sets it) a skipped test fails the run.

A skip hides a test that did not run; locally `-rs` lists each one with its reason."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings


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
