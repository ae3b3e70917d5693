"""The supervisor's restart and stop behaviour, with real (tiny) child processes and no Envoy."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from entrypoints.launcher import supervisor
from entrypoints.launcher.supervisor import Child, Supervisor
from services.common.settings import Settings


@pytest.fixture
def bare(tmp_path) -> Supervisor:
    settings = Settings(data_dir=tmp_path, shutdown_grace_sec=0.5, http_port=18700, envoy_admin_port=18701)
    settings.logs_dir.mkdir(parents=True)
    sup = Supervisor(settings)
    sup._next_ready_check = float("inf")  # no Envoy to ask in these tests
    return sup


def _child(sup: Supervisor, name: str, code: str) -> Child:
    child = Child(name, [sys.executable, "-c", code], sup.settings.logs_dir / f"{name}.log", "test")
    sup.children.append(child)
    return child


def _run_until(sup: Supervisor, done, timeout: float = 20.0) -> list[float]:
    """Ticks the loop; returns the delay chosen at each restart."""
    delays, seen = [], 0
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        now = time.monotonic()
        sup._tick()
        for child in sup.children:
            if child.restarts > seen:
                seen = child.restarts
                delays.append(round(child.next_start - now, 1))
        time.sleep(0.02)
    return delays


def test_a_crashing_child_is_restarted_with_doubling_backoff_and_its_output_is_logged(bare):
    child = _child(bare, "crasher-1", "print('boom', flush=True); raise SystemExit(3)")
    delays = _run_until(bare, lambda: child.restarts >= 3)
    assert delays == [0.5, 1.0, 2.0]
    assert child.log_path.read_text().count("boom") == 3
    state = json.loads(supervisor.state_path(bare.settings).read_text())
    assert state["children"]["crasher-1"]["restarts"] == 3


def test_a_child_that_ran_for_a_while_restarts_quickly_again(bare, monkeypatch):
    monkeypatch.setattr(supervisor, "STABLE_AFTER_SEC", 0.2)
    child = _child(bare, "steady-1", "import time; time.sleep(0.4)")
    assert _run_until(bare, lambda: child.restarts >= 3) == [0.5, 0.5, 0.5]


def test_stopping_kills_a_child_that_ignores_sigterm_and_removes_the_state_file(bare):
    stubborn = _child(
        bare,
        "stubborn-1",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)",
    )
    polite = _child(bare, "polite-1", "import time; time.sleep(60)")
    _run_until(bare, lambda: "up" in stubborn.log_path.read_text() if stubborn.log_path.exists() else False)
    procs = [stubborn.proc, polite.proc]
    started = time.monotonic()
    bare.shutdown()
    elapsed = time.monotonic() - started
    assert procs[0].returncode == -signal.SIGKILL
    assert procs[1].returncode == -signal.SIGTERM
    assert elapsed < bare.settings.shutdown_grace_sec + 5 + 2
    assert not supervisor.state_path(bare.settings).exists()


def test_a_second_supervisor_on_the_same_data_dir_is_refused(bare):
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])  # stands in for it
    try:
        state = supervisor.state_path(bare.settings)
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"supervisor_pid": running.pid, "children": {}}))
        with pytest.raises(SystemExit, match="already running"):
            Supervisor(bare.settings).prepare()
    finally:
        running.kill()
        running.wait()
