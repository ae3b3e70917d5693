"""A real Prometheus server for the alert drills (tests/faults/test_alert_drills.py): Debian's
`prometheus` binary on a free loopback port with its own TSDB in a temp dir, scraping a test
mesh's instances and Envoy every second and evaluating ops/prometheus/alerts.yml every second.

What is generated, and what is kept:

- the config is ops/prometheus/prometheus.yml with its DNS discovery replaced by the mesh's
  addresses (each instance's metrics port, Envoy's admin port), the intervals set to 1 s and
  the rule file pointing at the drill rules; every job and its relabelling are kept;
- the rules are ops/prometheus/alerts.yml with every `for:` set to 0 s and two constants of
  time-of-day or hours-based thresholds rewritten (REWRITES): BatchJobNotRun's "26 hours
  since the last success" becomes BATCH_NOT_RUN_SEC seconds, MonthNotClosed's "past the 5th
  of the month" becomes "past the 0th" (any day). Every other expression is the real one.

`alert_fired(name, since)` reads Prometheus's own ALERTS series, so an alert that fired and
resolved between two polls (an instance down for two seconds) is still seen.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.mesh import Mesh

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops" / "prometheus"
INTERVAL = "1s"
BATCH_NOT_RUN_SEC = 5
# alert: (the constant in the real expression, what the drill makes of it). Each must occur
# exactly once in its expression.
REWRITES = {
    "BatchJobNotRun": ("> 26 * 3600", f"> {BATCH_NOT_RUN_SEC}"),
    "MonthNotClosed": ("day_of_month() > 5", "day_of_month() > 0"),
}


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def drill_rules() -> dict:
    """ops/prometheus/alerts.yml with `for: 0s` and REWRITES applied, nothing else changed."""
    doc = yaml.safe_load((OPS / "alerts.yml").read_text())
    seen = set()
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "0s"
            if rule["alert"] in REWRITES:
                old, new = REWRITES[rule["alert"]]
                assert rule["expr"].count(old) == 1, (rule["alert"], old, rule["expr"])
                rule["expr"] = rule["expr"].replace(old, new)
                seen.add(rule["alert"])
    assert seen == set(REWRITES), f"rules to rewrite not found: {set(REWRITES) - seen}"
    return doc


def drill_config(mesh: Mesh, extra_envoys: tuple[str, ...] = ()) -> dict:
    """ops/prometheus/prometheus.yml aimed at the mesh: the same jobs, static targets (the
    rule file is set by Prometheus, where it writes the rules)."""
    doc = yaml.safe_load((OPS / "prometheus.yml").read_text())
    doc["global"].update(scrape_interval=INTERVAL, evaluation_interval=INTERVAL, scrape_timeout=INTERVAL)
    services = {i.service.name for i in mesh.instances()}
    jobs = set()
    for job in doc["scrape_configs"]:
        name = job["job_name"]
        jobs.add(name)
        if name == "envoy":
            targets = [f"127.0.0.1:{mesh.settings.envoy_admin_port}", *extra_envoys]
            job["static_configs"] = [{"targets": targets}]
            continue
        (dns,) = job.pop("dns_sd_configs")
        assert dns["names"] == [name] and name in services, (name, dns)
        job["static_configs"] = [{"targets": [f"127.0.0.1:{i.metrics_port}" for i in mesh.instances(name)]}]
    assert jobs == services | {"envoy"}, jobs
    return doc


class Prometheus:
    def __init__(self, workdir: Path, config: dict, rules: dict) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rules_path = self.workdir / "alerts.yml"
        self.config_path = self.workdir / "prometheus.yml"
        self.rules_path.write_text(yaml.safe_dump(rules, sort_keys=False))
        self.config_path.write_text(yaml.safe_dump({**config, "rule_files": [str(self.rules_path)]}, sort_keys=False))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_sec: float = 60.0) -> Prometheus:
        binary = shutil.which("prometheus") or "/usr/bin/prometheus"
        assert Path(binary).exists(), "prometheus is missing: apt-get install prometheus (.ci/run does)"
        self.proc = _spawn_logged(
            [
                binary,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--storage.tsdb.retention.time=1h",
                "--log.level=warn",
            ],
            self.workdir / "prometheus.log",
        )
        deadline = time.monotonic() + timeout_sec
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{self.url}/-/ready", timeout=1).status == 200:
                    return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus not ready after {timeout_sec}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def log_tail(self, lines: int = 30) -> str:
        path = self.workdir / "prometheus.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # --- the HTTP API ------------------------------------------------------------------------

    def api(self, path: str, **params: str) -> object:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=10) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)["result"]

    def targets(self) -> list[dict]:
        return self.api("targets", state="active")["activeTargets"]

    def rules(self) -> list[dict]:
        return [rule for group in self.api("rules", type="alert")["groups"] for rule in group["rules"]]

    def firing(self, name: str, labels: dict[str, str] | None = None) -> list[dict]:
        """Labels of the alerts of that name (and with these labels) firing now
        (GET /api/v1/alerts)."""
        wanted = set((labels or {}).items())
        return [
            a["labels"]
            for a in self.api("alerts")["alerts"]
            if a["labels"]["alertname"] == name and a["state"] == "firing" and wanted <= set(a["labels"].items())
        ]

    def alert_fired(self, name: str, since: float) -> list[dict]:
        """Labels of the alerts of that name that were firing at some evaluation since `since`
        (Unix time): Prometheus's own ALERTS series, written at each evaluation."""
        window = max(2, math.ceil(time.time() - since) + 1)
        series = f'ALERTS{{alertname="{name}",alertstate="firing"}}'
        return [r["metric"] for r in self.query(f"max_over_time({series}[{window}s])")]

    def wait_fired(
        self,
        name: str,
        since: float,
        *,
        timeout_sec: float = 60.0,
        labels: dict[str, str] | None = None,
        poke: Callable[[], None] | None = None,
    ) -> dict:
        """Until the alert (with these labels) has fired since `since`; `poke` runs between
        polls (e.g. the reads that keep a read service's replica checks going). Its labels."""
        deadline = time.monotonic() + timeout_sec
        wanted = set((labels or {}).items())
        while True:
            for fired in self.alert_fired(name, since):
                if wanted <= set(fired.items()):
                    return fired
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name} {labels or ''} did not fire within {timeout_sec}s; firing now:"
                    f" {[a['labels'] for a in self.api('alerts')['alerts']]}"
                )
            if poke is not None:
                poke()
            time.sleep(0.5)

    def wait_targets_up(self, count: int, timeout_sec: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_sec
        while True:
            targets = self.targets()
            if len(targets) == count and all(t["health"] == "up" for t in targets):
                return
            if time.monotonic() > deadline:
                down = [(t["scrapeUrl"], t["health"], t["lastError"]) for t in targets if t["health"] != "up"]
                raise AssertionError(f"targets not all up ({len(targets)} of {count}): {down}")
            time.sleep(0.5)


# --- an Envoy with a small heap limit, for EdgeHeapPressure --------------------------------

# The heap limit of the heap-pressure Envoy: an idle Envoy with only its admin endpoint uses
# about 6.3 MiB of heap (measured: pressure 314% of 2 MiB), so its real fixed_heap monitor
# reports about 90% of 7 MiB, above the rule's 80%.
SMALL_HEAP_BYTES = 7 * 1024 * 1024


def small_heap_envoy_config(admin_port: int) -> dict:
    """An Envoy with nothing but its admin endpoint and the mesh's own overload manager (taken
    from the rendered envoy/envoy.compose.yaml), its fixed heap limit lowered to
    SMALL_HEAP_BYTES: the same monitor and actions, near (over) its limit."""
    rendered = yaml.safe_load((ROOT / "envoy" / "envoy.compose.yaml").read_text())
    overload = rendered["overload_manager"]
    (heap,) = [m for m in overload["resource_monitors"] if m["name"] == "envoy.resource_monitors.fixed_heap"]
    heap["typed_config"]["max_heap_size_bytes"] = SMALL_HEAP_BYTES
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": admin_port}}},
        "overload_manager": overload,
    }


@contextlib.contextmanager
def small_heap_envoy(workdir: Path, envoy_binary: str):
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / "envoy-small-heap.yaml"
    config.write_text(yaml.safe_dump(small_heap_envoy_config(port)))
    proc = _spawn_logged(
        [envoy_binary, "-c", str(config), "--base-id", str(port), "--concurrency", "1", "-l", "warning"],
        workdir / "envoy-small-heap.log",
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the small-heap Envoy exited with {proc.returncode}: see {workdir}")
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1).status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the small-heap Envoy did not start")
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _spawn_logged(args: list[str], log_path: Path) -> subprocess.Popen:
    """Starts a server process in its own session, its output appended to `log_path`."""
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
