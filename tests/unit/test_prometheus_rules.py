"""The Prometheus config, alert rules and Grafana dashboard of ops/ (docs/operations.md,
"Prometheus and alerts"), checked by promtool (Debian's `prometheus` package; .ci/run
installs it): the config and rules are valid, each alert fires once from synthetic series and
not from healthy ones (ops/prometheus/alerts_test.yml,
alerts_days_test.yml), each names a severity, a summary, a
description and a runbook section that exists, and every series they and the dashboard read
is one the code exports. tests/faults/test_alert_drills.py fires each alert again from its real
condition, on a mesh scraped by a real Prometheus server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import services.common.metrics  # noqa: F401 - registers the metrics read below

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops" / "prometheus"
RULES = [rule for group in yaml.safe_load((OPS / "alerts.yml").read_text())["groups"] for rule in group["rules"]]
DASHBOARD = json.loads((ROOT / "ops" / "grafana" / "paysystem.json").read_text())
DASHBOARD_EXPRS = [target["expr"] for panel in DASHBOARD["panels"] for target in panel["targets"]]


def promtool(*args: str, cwd: Path = OPS) -> str:
    executable = shutil.which("promtool")
    assert executable, "promtool is missing: apt-get install prometheus (.ci/run does)"
    result = subprocess.run([executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout


def test_the_config_and_its_rules_are_valid():
    promtool("check", "config", "prometheus.yml")
    promtool("check", "rules", "alerts.yml")


def test_each_alert_fires_once_from_its_failure_and_stays_quiet_while_healthy():
    files = ("alerts_test.yml", "alerts_days_test.yml")  # the second: days of series, 15 min steps
    tested = [test for name in files for test in yaml.safe_load((OPS / name).read_text())["tests"]]
    for alert in (rule["alert"] for rule in RULES):
        checks = [c for test in tested for c in test["alert_rule_test"] if c["alertname"] == alert]
        assert sum(1 for c in checks if len(c["exp_alerts"]) == 1) == 1, f"{alert} must fire once"
        assert any(not c["exp_alerts"] for c in checks), f"{alert} has no healthy check"
    promtool("test", "rules", *files)


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r["alert"])
def test_each_alert_has_a_severity_a_summary_a_description_and_a_runbook_section(rule):
    assert rule["labels"]["severity"] in ("page", "ticket")
    annotations = rule["annotations"]
    assert annotations["summary"] and annotations["description"]
    path, anchor = annotations["runbook_url"].split("#")
    assert anchor in _anchors((ROOT / path).read_text()), f"{path} has no section #{anchor}"


SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def _exported_names() -> set[str]:
    """The series names of every registered metric (labelled ones have no samples yet)."""
    return {family.name + suffix for family in REGISTRY.collect() for suffix in SUFFIXES.get(family.type, ("",))}


def test_the_rules_and_the_dashboard_read_only_series_the_services_export():
    exported = _exported_names()
    for expr in [rule["expr"] for rule in RULES] + DASHBOARD_EXPRS:
        for name in re.findall(r"\b(paysystem_\w+)", expr):
            assert name in exported, (name, expr)


def test_the_dashboard_s_queries_parse_and_use_the_provisioned_data_source(tmp_path):
    # promtool parses PromQL only in rule files: each query becomes a recording rule.
    rules = {
        "groups": [
            {"name": "dashboard", "rules": [{"record": f"q{i}", "expr": e} for i, e in enumerate(DASHBOARD_EXPRS)]}
        ]
    }
    (tmp_path / "dashboard_rules.yml").write_text(yaml.safe_dump(rules))
    promtool("check", "rules", "dashboard_rules.yml", cwd=tmp_path)
    source = yaml.safe_load((ROOT / "ops/grafana/provisioning/datasources/prometheus.yml").read_text())
    uid = source["datasources"][0]["uid"]
    for panel in DASHBOARD["panels"]:
        assert panel["datasource"]["uid"] == uid and panel["targets"], panel["title"]
    titles = " ".join(panel["title"].lower() for panel in DASHBOARD["panels"])
    for topic in (
        "request rate",
        "error",
        "p99",
        "breaker",
        "cache hit",
        "rows",
        "partitions",
        "replica lag",
        "last successful",
        "last closed month",
    ):
        assert topic in titles, topic
