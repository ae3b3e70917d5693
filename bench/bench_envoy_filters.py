"""What each of the edge's HTTP filters costs Envoy per request: the read floor taken apart.

    .venv/bin/python bench/bench_envoy_filters.py [--duration 10 --connections 10 --rounds 2]

The read benchmark's floor (bench_read_api.py: `GET /v1/statistics:ping` through Envoy, a
trivial Python call) costs Envoy about a third of the CPU of a request. This shows which part
of the edge's filter chain (envoy/envoy.yaml.j2) that is, by running the same rendered
configuration with parts taken out:

1. Starts the whole mesh (tests/mesh.py, SQLite, no cache: Ping reads neither) and signs up
   a seller whose token every request carries (Ping checks the token and the account).
2. For each variant, a second Envoy (the same binary and command-line options as the mesh's)
   with the mesh's rendered configuration, its public listener moved to a free port and, for
   all but `as deployed`, some filters removed; the mesh's instances behind it are the same.
3. `wrk` Ping requests through it for `--duration` seconds: requests/s, p99, and the CPU of
   that Envoy and of the statistics instances per request. `as deployed` runs first and last
   in each round; each variant's Envoy CPU is printed with its ratio to the mean of those two
   (the machine's load of the minute cancels out), and the saving in microseconds.

The variants only measure: the filters they drop are what keeps the edge safe (tokens, body
limits, JSON errors, gzip for browsers), see docs/scaling.md "What the floor is made of".
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from bench.bench_read_api import machine, wrk_against  # noqa: E402
from entrypoints.launcher.supervisor import envoy_executable  # noqa: E402
from tests.mesh import Mesh  # noqa: E402
from tests.plugins.prometheus import free_port  # noqa: E402

DEPLOYED = "as deployed"
JSON_MARKING = {"envoy.filters.http.header_mutation", "envoy.filters.http.match_delegate"}
BODY_CHECKS = {"small-body-limit", "ingest-body-limit", "json-bool-fields"}
KEPT_BY_MINIMAL = {
    "envoy.filters.http.grpc_json_transcoder",
    "envoy.filters.http.local_ratelimit",
    "envoy.filters.http.router",
}
# (name, HTTP filters removed, access log removed)
VARIANTS: list[tuple[str, set[str], bool]] = [
    ("without gzip (compressor)", {"envoy.filters.http.compressor"}, False),
    ("without the JSON callers' marking (header_mutation, match_delegate)", JSON_MARKING, False),
    ("without jwt_authn", {"envoy.filters.http.jwt_authn"}, False),
    ("without body limits and the JSON bool check (buffer x2, lua)", BODY_CHECKS, False),
    ("without the access log", set(), True),
    ("transcoder and router only, no access log", {"*"}, True),
]


def public_listener(config: dict) -> tuple[dict, dict]:
    """The edge's public listener and its HTTP connection manager (which holds the filters)."""
    (public,) = [listener for listener in config["static_resources"]["listeners"] if listener["name"] == "public"]
    return public, public["filter_chains"][0]["filters"][0]["typed_config"]


def variant_config(rendered: dict, removed: set[str], no_access_log: bool, port: int, admin_port: int) -> dict:
    """The mesh's configuration with only its public listener, on `port`, minus `removed`
    filters ({"*"}: all but the transcoder, the rate limit and the router)."""
    config = copy.deepcopy(rendered)
    config["admin"]["address"]["socket_address"]["port_value"] = admin_port
    public, manager = public_listener(config)
    public["address"]["socket_address"]["port_value"] = port
    config["static_resources"]["listeners"] = [public]
    names = [f["name"] for f in manager["http_filters"]]
    unknown = removed - set(names) - {"*"}
    if unknown:
        raise SystemExit(f"the edge has no filter {sorted(unknown)}; it has {names}")
    keep = (lambda name: name in KEPT_BY_MINIMAL) if "*" in removed else (lambda name: name not in removed)
    manager["http_filters"] = [f for f in manager["http_filters"] if keep(f["name"])]
    if no_access_log:
        manager.pop("access_log", None)
    return config


@contextlib.contextmanager
def second_envoy(workdir: Path, config: dict, admin_port: int):
    path = workdir / "envoy-variant.yaml"
    path.write_text(yaml.safe_dump(config))
    with open(workdir / "envoy-variant.log", "ab") as log:
        proc = subprocess.Popen(
            [envoy_executable(), "-c", str(path), "--use-dynamic-base-id", "--log-level", "warn", "--concurrency", "2"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the variant's Envoy exited with {proc.returncode}: see {workdir}/envoy-variant.log")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/ready", timeout=1) as answer:
                    if answer.status == 200:
                        break
            if time.monotonic() > deadline:
                raise SystemExit("the variant's Envoy did not get ready")
            time.sleep(0.2)
        time.sleep(1.0)  # its first health checks: every instance healthy in its view
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def measure(mesh: Mesh, workdir: Path, rendered: dict, variant: tuple[str, set[str], bool], args) -> dict:
    _, removed, no_access_log = variant
    port, admin_port = free_port(), free_port()
    config = variant_config(rendered, removed, no_access_log, port, admin_port)
    with second_envoy(workdir, config, admin_port) as pid:
        groups = {"envoy": [pid], "statistics": [p for p in mesh.pids("statistics").values() if p]}
        return wrk_against(port, args.requests, args.duration, args.connections, args.threads, groups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-envoy-") as tmp, Mesh.on_free_ports(Path(tmp) / "mesh") as mesh:
        _, token = mesh.sign_up_and_login("SELLER")
        args.requests = [("/v1/statistics:ping", token)]
        rendered = yaml.safe_load((mesh.data_dir / "envoy" / "envoy.yaml").read_text())
        names = [f["name"] for f in public_listener(rendered)[1]["http_filters"]]
        print(f"the edge's HTTP filters: {', '.join(names)}")
        sequence = [(DEPLOYED, set(), False), *VARIANTS, (DEPLOYED, set(), False)]
        for round_ in range(1, args.rounds + 1):
            for variant in sequence:
                result = measure(mesh, Path(tmp), rendered, variant, args)
                results.setdefault(variant[0], []).append(result)
                cpu = result["cpu_us_per_request"]
                print(
                    f"round {round_}, {variant[0]}: {result['requests_per_sec']:.0f} req/s,"
                    f" p99 {result['latency'].get('99', '?')}, CPU per request: Envoy {cpu['envoy']:.0f} us,"
                    f" statistics {cpu['statistics']:.0f} us; non-2xx {result['non_2xx']}"
                )

    def mean(name: str, figure) -> float:
        return statistics.mean(figure(r) for r in results[name])

    envoy_cpu = lambda r: r["cpu_us_per_request"]["envoy"]  # noqa: E731
    rate = lambda r: r["requests_per_sec"]  # noqa: E731
    base_cpu, base_rate = mean(DEPLOYED, envoy_cpu), mean(DEPLOYED, rate)
    print(
        f"\n{DEPLOYED} (mean of {len(results[DEPLOYED])} runs): Envoy {base_cpu:.0f} us per request, {base_rate:.0f} req/s"
    )
    for name, _, _ in VARIANTS:
        cpu, rps = mean(name, envoy_cpu), mean(name, rate)
        print(
            f"{name}: Envoy {cpu:.0f} us ({cpu / base_cpu:.2f} of {DEPLOYED}, {base_cpu - cpu:+.0f} us saved),"
            f" {rps:.0f} req/s ({rps / base_rate:.2f})"
        )


if __name__ == "__main__":
    main()
