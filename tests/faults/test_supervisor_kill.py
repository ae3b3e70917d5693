"""A supervisor killed outright (SIGKILL, no chance to clean up) leaves no process behind."""

from __future__ import annotations

import os
import signal
import time

from entrypoints.launcher.topology import WORKERS
from tests.mesh import Mesh


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_supervisor_takes_envoy_and_every_service_and_worker_with_it(tmp_path):
    mesh = Mesh.on_free_ports(tmp_path).start()
    try:
        names = [i.name for i in mesh.instances()] + [w.name for w in WORKERS] + ["envoy"]
        children = {name: mesh.pid(name) for name in names}
        assert all(children.values()) and all(_alive(pid) for pid in children.values())
        os.kill(mesh.proc.pid, signal.SIGKILL)
        mesh.proc.wait()
        deadline = time.monotonic() + mesh.settings.shutdown_grace_sec + 8
        while any(_alive(pid) for pid in children.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert {name: pid for name, pid in children.items() if _alive(pid)} == {}
    finally:
        mesh.stop()
