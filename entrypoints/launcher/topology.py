"""Which processes make up the mesh, and on which ports.

Instances get consecutive ports from settings.service_base_port in the order of this table
(account-1, account-2, video-1, video-2, ...), and, when settings.metrics_base_port is set,
the same offsets from it for their Prometheus endpoint. The table is the one place that says
how many instances each service runs locally.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys

from services.common.settings import Settings


@dataclasses.dataclass(frozen=True)
class ServiceSpec:
    name: str  # cluster name in Envoy, log and instance prefix
    module: str  # run as `python -m <module> --port N --instance <name>-<i>`
    grpc_service: str  # full gRPC service name: Envoy's route prefix and health check name
    instances: int
    # Each instance on one CPU (cpu_for): for services that answer many small calls.
    pinned: bool = False
    # Other gRPC services its processes serve (Envoy routes their prefixes to this cluster).
    also_serves: tuple[str, ...] = ()

    @property
    def grpc_services(self) -> tuple[str, ...]:
        return (self.grpc_service, *self.also_serves)


SERVICES: tuple[ServiceSpec, ...] = (
    # Two account instances: log-in is the door to everything else, so a crashed instance
    # must not stop it (tests/faults/test_kill_each_service.py kills one under load).
    # The account processes also serve the audit log (admins' reads, a few a day): no service
    # of its own to run and supervise for that, and not on the pinned read services.
    ServiceSpec(
        "account",
        "entrypoints.servers.account",
        "paysystem.v1.AccountService",
        2,
        also_serves=("paysystem.v1.AuditService",),
    ),
    ServiceSpec("video", "entrypoints.servers.video", "paysystem.v1.VideoService", 2),
    # The read services are pinned (cpu_for): thousands of small cached reads a second.
    ServiceSpec("statistics", "entrypoints.servers.statistics", "paysystem.v1.StatisticsService", 2, pinned=True),
    # Settlement also serves the webhooks' admin API (services/webhooks/servicer.py).
    ServiceSpec(
        "settlement",
        "entrypoints.servers.settlement",
        "paysystem.v1.SettlementService",
        2,
        pinned=True,
        also_serves=("paysystem.v1.WebhookService",),
    ),
    # Two batch instances: the one a RunJob reaches coordinates, and both run partitions
    # (RunPartition through Envoy, see instance_env).
    ServiceSpec("batch", "entrypoints.servers.batch", "paysystem.v1.BatchService", 2),
)


@dataclasses.dataclass(frozen=True)
class Instance:
    service: ServiceSpec
    index: int  # 1-based
    host: str
    port: int
    metrics_port: int = 0  # Prometheus /metrics; 0 = none
    cpu: int | None = None  # the one CPU it runs on (see cpu_for); None = anywhere

    @property
    def name(self) -> str:
        return f"{self.service.name}-{self.index}"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def command(self) -> list[str]:
        command = [sys.executable, "-m", self.service.module, "--port", str(self.port), "--instance", self.name]
        if self.metrics_port:
            command += ["--metrics-port", str(self.metrics_port)]
        if self.cpu is not None:
            command += ["--cpu", str(self.cpu)]
        return command


def cpu_for(index: int, cpus: list[int]) -> int:
    """The CPU of a service's instance `index` (1-based): a service's instances on different
    CPUs, so that each replica of a busy service has a core of its own.

    Why pin: a Python process runs on one core at a time (the GIL), but left to the kernel
    its threads (gRPC's poller, the handler pool) run on both cores and hand the GIL and
    every small request across them. Pinned, the read services spent about a fifth less CPU
    per cached read (docs/decisions.md). Services with few large calls (ingest batches,
    batch partitions, password hashing) gain nothing from it and stay free to use the core
    MariaDB is not using.
    """
    return cpus[(index - 1) % len(cpus)]


def instances(settings: Settings, services: tuple[ServiceSpec, ...] = SERVICES) -> list[Instance]:
    # The CPUs this process may use: a container's or a taskset's limit, not the machine's.
    cpus = sorted(os.sched_getaffinity(0)) if settings.pin_instances else []
    result = []
    offset = 0
    for spec in services:
        for index in range(1, spec.instances + 1):
            metrics_port = settings.metrics_base_port + offset if settings.metrics_base_port else 0
            cpu = cpu_for(index, cpus) if cpus and spec.pinned else None
            result.append(
                Instance(spec, index, settings.service_host, settings.service_base_port + offset, metrics_port, cpu)
            )
            offset += 1
    return result


def instance_env(settings: Settings, instance: Instance) -> dict[str, str]:
    """Variables an instance gets on top of the supervisor's environment. Batch instances
    dispatch partitions to the batch cluster through the mesh's own Envoy, unless
    PAYSYSTEM_BATCH_DISPATCH_URL already names an address, and read that Envoy's admin
    /clusters (ListInstances) where the launcher started it."""
    if instance.service.name != "batch":
        return {}
    env = {"PAYSYSTEM_ENVOY_ADMIN_URL": settings.envoy_admin_base_url}
    if not settings.batch_dispatch_url:
        env["PAYSYSTEM_BATCH_DISPATCH_URL"] = f"127.0.0.1:{settings.http_port}"
    return env


@dataclasses.dataclass(frozen=True)
class WorkerSpec:
    """A process of the mesh that serves no calls (not behind Envoy): the supervisor starts it
    and restarts it when it dies, like an instance."""

    name: str
    module: str  # run as `python -m <module> --instance <name>`

    def command(self) -> list[str]:
        return [sys.executable, "-m", self.module, "--instance", self.name]


WORKERS: tuple[WorkerSpec, ...] = (
    # Sends the webhooks' outbox (services/webhooks/dispatcher.py). One is enough; several may
    # run at once (compose scales it) without sending a delivery twice.
    WorkerSpec("webhooks-dispatcher-1", "entrypoints.servers.webhooks_dispatcher"),
)


def by_name(settings: Settings) -> dict[str, Instance]:
    return {instance.name: instance for instance in instances(settings)}


def port_free(port: int) -> bool:
    """Whether a server could bind `port` on loopback now, as the mesh's servers (and
    redis-server) bind: with SO_REUSEADDR, so a closed connection's TIME_WAIT does not hold it."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
