"""Killing a video instance (SIGKILL) under load loses no call; the supervisor brings it back."""

from __future__ import annotations

import signal
import threading
import time

import grpc

from paysystem.v1 import video_pb2, video_pb2_grpc

THREADS = 4
CALLS = 2000
KILL_AFTER = 300


def test_killing_one_video_instance_during_2000_grpc_calls_fails_none_and_it_comes_back(fault_mesh):
    mesh = fault_mesh
    _, token = mesh.sign_up_and_login("SELLER")
    status, video = mesh.json("POST", "/v1/videos", {"title": "under fire", "duration_sec": 600}, token=token)
    assert status == 200
    video_id = int(video["video_id"])
    victim = "video-1"
    victim_pid = mesh.pid(victim)
    _wait_until_envoy_spreads_calls_over_both_instances(mesh, token, video_id)

    done = 0
    done_at_kill = None
    failures: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def client(calls: int) -> None:
        nonlocal done
        # A channel per thread: separate connections, spread over Envoy's worker threads.
        with grpc.insecure_channel(f"127.0.0.1:{mesh.settings.http_port}") as channel:
            stub = video_pb2_grpc.VideoServiceStub(channel)
            request = video_pb2.GetVideoRequest(video_id=video_id)
            for _ in range(calls):
                try:
                    reply = stub.GetVideo(request, metadata=mesh.metadata(token), timeout=15)
                    ok = reply.video_id == video_id
                    error = None if ok else f"wrong video {reply.video_id}"
                except grpc.RpcError as exc:
                    error = f"{exc.code().name}: {exc.details()}"
                with lock:
                    done += 1
                    if error:
                        failures.append(error)

    threads = [threading.Thread(target=client, args=(CALLS // THREADS,)) for _ in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    mesh.wait_until(lambda: done >= KILL_AFTER, 60, f"{KILL_AFTER} calls before the kill", interval=0.005)
    mesh.kill(victim, signal.SIGKILL)
    done_at_kill = done
    killed.set()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.monotonic() - started

    assert done == CALLS
    assert failures == [], f"{len(failures)} failed calls, first: {failures[:5]}"
    assert done_at_kill < CALLS - 500, "the kill came too late to be under load"
    print(f"{CALLS} calls in {elapsed:.1f}s, killed {victim} after {done_at_kill}, 0 failed")

    # The supervisor restarts it, it reports SERVING, and Envoy puts it back in rotation.
    mesh.wait_until(lambda: mesh.pid(victim) not in (None, victim_pid), 30, f"{victim} restarted")
    assert mesh.restarts(victim) >= 1
    mesh.wait_until(lambda: mesh.health(victim) == "SERVING", 60, f"{victim} SERVING again")
    mesh.wait_until(lambda: mesh.envoy_hosts("video")[victim].healthy, 30, f"{victim} healthy in Envoy")
    # Envoy's workers pick up the host's return within about a health-check interval.
    before = mesh.envoy_hosts("video")[victim].rq_total
    stub = video_pb2_grpc.VideoServiceStub(mesh.channel())

    def takes_calls() -> bool:
        for _ in range(10):
            stub.GetVideo(video_pb2.GetVideoRequest(video_id=video_id), metadata=mesh.metadata(token), timeout=10)
        return mesh.envoy_hosts("video")[victim].rq_total > before

    mesh.wait_until(takes_calls, 15, f"the restarted {victim} to take calls again")


def _wait_until_envoy_spreads_calls_over_both_instances(mesh, token: str, video_id: int) -> None:
    """Killing one of two instances is survivable only once both are in rotation.

    Seen on this machine: for a short while after a mesh reports every host healthy in
    /clusters, Envoy's workers may still send every call to one of them; killing that one
    then leaves nowhere to retry (all attempts land on the dead host). So the drill starts
    once both instances have taken calls (envoy/README.md, "Just after start").
    """
    stub = video_pb2_grpc.VideoServiceStub(mesh.channel())
    baseline = {name: host.rq_total for name, host in mesh.envoy_hosts("video").items()}

    def both_took_calls() -> bool:
        for _ in range(20):
            stub.GetVideo(video_pb2.GetVideoRequest(video_id=video_id), metadata=mesh.metadata(token), timeout=10)
        hosts = mesh.envoy_hosts("video")
        return all(hosts[name].rq_total > baseline[name] for name in ("video-1", "video-2"))

    mesh.wait_until(both_took_calls, 30, "Envoy to route calls to both video instances")
