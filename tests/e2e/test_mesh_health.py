"""Health: every instance answers grpc.health.v1 itself, and Envoy follows what they answer."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from entrypoints.launcher import topology
from paysystem.v1 import video_pb2, video_pb2_grpc

CALLS = 40
# Envoy's worker threads apply a health change shortly after its main thread (and /clusters)
# shows it; give them this long before counting where calls go.
SETTLE_SEC = 0.5


def test_every_instance_reports_serving_when_asked_directly(mesh):
    statuses = {instance.name: mesh.health(instance.name) for instance in mesh.instances()}
    assert statuses == {name: "SERVING" for name in statuses}
    assert len(statuses) == sum(spec.instances for spec in topology.SERVICES) >= 8
    assert {"video-1", "video-2", "statistics-2", "settlement-2", "account-1", "batch-1"} <= set(statuses)


def test_envoy_sees_every_instance_healthy(mesh):
    # Within a few seconds: on a loaded machine a check may time out once and recover.
    mesh.wait_until(mesh.all_healthy_in_envoy, 10, "every instance healthy in Envoy")


def _get_video_many_times(mesh, token: str, video_id: int, calls: int = CALLS) -> None:
    stub = video_pb2_grpc.VideoServiceStub(mesh.channel())
    for _ in range(calls):
        assert (
            stub.GetVideo(
                video_pb2.GetVideoRequest(video_id=video_id), metadata=mesh.metadata(token), timeout=10
            ).video_id
            == video_id
        )


def _requests(mesh) -> dict[str, int]:
    return {name: host.rq_total for name, host in mesh.envoy_hosts("video").items()}


@pytest.fixture
def a_video(mesh, seller):
    status, video = mesh.json("POST", "/v1/videos", {"title": "health probe", "duration_sec": 30}, token=seller[1])
    assert status == 200
    return seller[1], int(video["video_id"])


def test_calls_are_spread_over_both_video_instances_and_counted_per_instance(mesh, a_video):
    # The control for the drain test below: Envoy's per-host counters see exactly our calls.
    token, video_id = a_video
    mesh.wait_until(
        lambda: all(h.healthy for h in mesh.envoy_hosts("video").values()), 15, "both video instances healthy"
    )
    time.sleep(SETTLE_SEC)
    before = _requests(mesh)
    _get_video_many_times(mesh, token, video_id)
    after = _requests(mesh)
    deltas = {name: after[name] - before[name] for name in after}
    assert sum(deltas.values()) == CALLS
    assert all(delta > 0 for delta in deltas.values()), deltas


def test_a_draining_instance_leaves_envoys_rotation_and_calls_go_to_the_other(mesh, a_video):
    token, video_id = a_video
    drained, other = "video-2", "video-1"
    mesh.kill(drained, signal.SIGUSR1)  # services toggle drain (NOT_SERVING) on SIGUSR1
    try:
        mesh.wait_until(lambda: mesh.health(drained) == "NOT_SERVING", 10, f"{drained} to report NOT_SERVING")
        mesh.wait_until(
            lambda: (
                "failed_active_hc" in mesh.envoy_hosts("video")[drained].health_flags
                and mesh.envoy_hosts("video")[other].healthy
            ),
            10,
            f"Envoy to fail {drained}'s health check (and keep {other})",
        )
        time.sleep(SETTLE_SEC)

        before = _requests(mesh)
        _get_video_many_times(mesh, token, video_id)
        status, _ = mesh.json("GET", f"/v1/videos/{video_id}", token=token)
        assert status == 200
        after = _requests(mesh)
        assert after[drained] == before[drained]
        assert after[other] - before[other] == CALLS + 1
    finally:
        mesh.kill(drained, signal.SIGUSR1)
        mesh.wait_until(lambda: mesh.envoy_hosts("video")[drained].healthy, 15, f"{drained} back in rotation")
    assert mesh.health(drained) == "SERVING"


def test_paysystem_status_shows_every_instance_serving_and_healthy_in_envoy(mesh):
    result = mesh.cli("status")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line for line in result.stdout.splitlines() if "127.0.0.1:" in line and "│" in line]
    assert len(rows) == len(mesh.instances())
    assert all("SERVING" in row and "healthy" in row and "NOT_SERVING" not in row for row in rows)
    assert f"listener 127.0.0.1:{mesh.settings.http_port}" in result.stdout
    assert "webhooks-dispatcher-1: running (pid" in result.stdout  # the launcher's worker


def test_paysystem_up_printed_where_to_find_the_mesh(mesh):
    banner = mesh.supervisor_log.read_text()
    assert "PaySystem is up." in banner and f"http://127.0.0.1:{mesh.settings.http_port}/v1/" in banner


def _allowed_cpus(pid: int) -> dict[int, str]:
    """{thread id: its Cpus_allowed_list} for every thread of a process."""
    result = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        status = (task / "status").read_text()
        result[int(task.name)] = next(
            line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("Cpus_allowed_list")
        )
    return result


def test_read_instances_run_all_their_threads_on_the_cpu_the_launcher_gave_them(mesh):
    allowed = _allowed_cpus(os.getpid())[os.getpid()]  # the launcher's (inherited from here)
    pinned = [i for i in mesh.instances() if i.service.pinned]
    assert {i.service.name for i in pinned} == {"statistics", "settlement"}
    for instance in mesh.instances():
        threads = _allowed_cpus(mesh.pid(instance.name))
        # gRPC's poller and worker threads exist by now (the instance answered health checks).
        assert len(threads) > 3, (instance.name, threads)
        expected = str(instance.cpu) if instance.service.pinned else allowed
        assert set(threads.values()) == {expected}, (instance.name, threads)
    # Replicas of a service are on different CPUs when there is more than one CPU.
    if len(os.sched_getaffinity(0)) > 1:
        by_name = {instance.name: instance.cpu for instance in pinned}
        assert by_name["statistics-1"] != by_name["statistics-2"]
        assert by_name["settlement-1"] != by_name["settlement-2"]
