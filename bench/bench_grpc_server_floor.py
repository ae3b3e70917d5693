"""What a trivial gRPC call costs the server process: grpcio's sync server vs grpc.aio.

    .venv/bin/python bench/bench_grpc_server_floor.py [--duration 10] [--in-flight 16]

The read benchmark's floor (bench_read_api.py: StatisticsService.Ping through Envoy) is
bounded by what one call costs the service process before any of PaySystem's code runs:
grpcio's machinery (HTTP/2 framing, the completion queue, the hand-off to a worker thread)
plus Envoy. This measures that machinery alone, for the server the services run today
(`grpc.server` with a thread pool of `grpc_workers`, services/common/server.py) and for
grpcio's asyncio server (`grpc.aio.server`), which is what a cheaper floor would be built on:

* the server: a StatisticsService whose Ping returns at once (no interceptors, no token, no
  database): the cost is grpcio's alone; pinned to CPU 1 (`os.sched_setaffinity`);
* the client: a grpc.aio channel with `--in-flight` calls outstanding for `--duration`
  seconds, pinned to CPU 0, so the two do not take each other's core;
* printed per server: calls/s, p50/p99 of a call as the client saw it, and the server
  process's CPU per call (user + system from /proc/<pid>/stat), which does not depend on
  the client's speed; then aio / sync for each (each server is the other's floor, measured
  in the same run, so the machine's load of the day cancels out).

Both servers are measured twice, alternately (sync, aio, sync, aio): the figures of one
server differ between its two runs by about the machine's noise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc  # noqa: E402

from bench.bench_read_api import cpu_seconds, machine  # noqa: E402
from paysystem.v1 import statistics_pb2, statistics_pb2_grpc  # noqa: E402
from tests.plugins.prometheus import free_port  # noqa: E402

SERVER_CPU = 1
CLIENT_CPU = 0
WORKERS = 16  # services/common/settings.py grpc_workers' default


class PingOnly(statistics_pb2_grpc.StatisticsServiceServicer):
    def Ping(self, request, context):
        return statistics_pb2.PingResponse()


class AsyncPingOnly(statistics_pb2_grpc.StatisticsServiceServicer):
    async def Ping(self, request, context):
        return statistics_pb2.PingResponse()


def serve_sync(port: int, workers: int) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=[("grpc.so_reuseport", 0)])
    statistics_pb2_grpc.add_StatisticsServiceServicer_to_server(PingOnly(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


async def serve_aio(port: int) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    statistics_pb2_grpc.add_StatisticsServiceServicer_to_server(AsyncPingOnly(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


async def load(port: int, duration: float, in_flight: int) -> list[float]:
    """Calls outstanding for `duration` seconds: each call's latency in seconds."""
    latencies: list[float] = []
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        ping = statistics_pb2_grpc.StatisticsServiceStub(channel).Ping
        await ping(statistics_pb2.PingRequest())  # connected before the clock starts
        deadline = time.monotonic() + duration

        async def caller() -> None:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                await ping(statistics_pb2.PingRequest())
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(caller() for _ in range(in_flight)))
    return latencies


def measure(kind: str, duration: float, in_flight: int, workers: int) -> dict[str, float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if server.stdout.readline().strip() != "ready":
            raise SystemExit(f"the {kind} server did not start")
        cpu_before = cpu_seconds(server.pid)
        started = time.monotonic()
        latencies = asyncio.run(load(port, duration, in_flight))
        wall = time.monotonic() - started
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(10)
    latencies.sort()
    return {
        "rate": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "server_cpu_us": cpu / len(latencies) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--workers", type=int, default=WORKERS, help="the sync server's threads")
    parser.add_argument("--serve", choices=["sync", "aio"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        os.sched_setaffinity(0, {SERVER_CPU})
        serve_sync(args.port, args.workers) if args.serve == "sync" else asyncio.run(serve_aio(args.port))
        return
    os.sched_setaffinity(0, {CLIENT_CPU})
    print(f"machine: {machine()}")
    print(
        f"grpcio {grpc.__version__}, {args.in_flight} calls in flight, {args.duration:.0f} s per run,"
        f" {args.workers} threads in the sync server"
    )
    runs: dict[str, list[dict[str, float]]] = {"sync": [], "aio": []}
    for kind in ["sync", "aio", "sync", "aio"]:
        figures = measure(kind, args.duration, args.in_flight, args.workers)
        runs[kind].append(figures)
        print(
            f"{kind:>4}: {figures['rate']:7.0f} calls/s  p50 {figures['p50_ms']:.2f} ms  p99 {figures['p99_ms']:.2f} ms"
            f"  server CPU {figures['server_cpu_us']:.0f} µs/call"
        )
    for key, label in [("rate", "calls/s"), ("server_cpu_us", "server CPU per call")]:
        sync = statistics.mean(f[key] for f in runs["sync"])
        aio = statistics.mean(f[key] for f in runs["aio"])
        print(f"aio / sync, {label}: {aio:.0f} / {sync:.0f} = {aio / sync:.2f}")


if __name__ == "__main__":
    main()
