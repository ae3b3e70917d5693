"""Commands: `up` runs the whole mesh in the foreground; `status` shows what each part reports."""

from __future__ import annotations

from concurrent import futures

import click
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.console import Console
from rich.table import Table

from entrypoints.launcher import envoy_admin, supervisor, topology
from services.common.processes import pid_alive
from services.common.settings import get_settings
from services.readpath import replicas


@click.command("up")
def up() -> None:
    """Run Envoy, every service instance and the webhook dispatcher in the foreground; Ctrl-C
    stops them all."""
    settings = get_settings()
    console = Console(stderr=True)
    supervisor.configure_console_logging()

    def ready() -> None:
        base = f"http://127.0.0.1:{settings.http_port}"
        console.print(
            "\n[bold green]PaySystem is up.[/]\n"
            f"  JSON API     {base}/v1/...   (e.g. POST {base}/v1/accounts)\n"
            f"  gRPC         127.0.0.1:{settings.http_port}   (h2c, same port)\n"
            f"  Envoy admin  http://127.0.0.1:{settings.envoy_admin_port}/   (loopback only)\n"
            f"  logs         {settings.logs_dir.resolve()}/\n"
            f"  status       paysystem status\n"
            "Ctrl-C stops everything.\n",
            soft_wrap=True,
        )

    raise SystemExit(supervisor.Supervisor(settings, on_ready=ready).run())


def _grpc_health(instance: topology.Instance) -> str:
    with grpc.insecure_channel(instance.address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(  # type: ignore[attr-defined]  # the stubs list no methods
                health_pb2.HealthCheckRequest(service=instance.service.grpc_service), timeout=1.5
            )
        except grpc.RpcError as exc:
            return (
                "DOWN"
                if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                else exc.code().name
            )
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


_STYLE = {"SERVING": "green", "healthy": "green", "DOWN": "red", "NOT_SERVING": "yellow"}


def _styled(text: str) -> str:
    style = _STYLE.get(text, "yellow" if text not in ("", "-") else "dim")
    return f"[{style}]{text}[/]"


@click.command("status")
def status() -> None:
    """Each instance's gRPC health (asked directly) and Envoy's view of it (admin /clusters);
    with read replicas, each replica's lag and whether reads use it."""
    settings = get_settings()
    console = Console() if Console().is_terminal else Console(width=120)
    instances = topology.instances(settings)
    with futures.ThreadPoolExecutor(len(instances)) as pool:
        health = dict(zip([i.name for i in instances], pool.map(_grpc_health, instances), strict=True))
    state = supervisor.read_state(settings) or {}
    children = state.get("children", {})
    try:
        envoy_hosts = {
            host.address: host for hosts in envoy_admin.clusters(settings.envoy_admin_port).values() for host in hosts
        }
        envoy_up = True
    except OSError:
        envoy_hosts, envoy_up = {}, False

    table = Table(title=f"PaySystem mesh ({settings.data_dir.resolve()})")
    for column in ("instance", "address", "pid", "restarts", "gRPC health", "Envoy health", "requests", "errors"):
        table.add_column(column, justify="right" if column in ("pid", "restarts", "requests", "errors") else "left")
    ok = envoy_up
    for instance in instances:
        child = children.get(instance.name, {})
        host = envoy_hosts.get(instance.address)
        ok = ok and health[instance.name] == "SERVING" and host is not None and host.healthy
        table.add_row(
            instance.name,
            instance.address,
            str(child.get("pid") or "-"),
            str(child.get("restarts", "-")),
            _styled(health[instance.name]),
            _styled(host.health_flags if host else "-"),
            str(host.rq_total) if host else "-",
            str(host.rq_error) if host else "-",
        )
    console.print(table)
    envoy_pid = children.get("envoy", {}).get("pid")
    if envoy_up:
        console.print(
            f"Envoy: [green]up[/] (pid {envoy_pid or '?'}), listener 127.0.0.1:{settings.http_port}, "
            f"admin 127.0.0.1:{settings.envoy_admin_port}"
        )
    else:
        console.print(f"Envoy: [red]not answering[/] on admin port {settings.envoy_admin_port}")
    for worker in topology.WORKERS:  # no health endpoint: the supervisor's pid and restarts
        child = children.get(worker.name, {})
        pid = child.get("pid")
        running = bool(pid) and pid_alive(pid)
        ok = ok and running
        state_text = f"[green]running[/] (pid {pid})" if running else "[red]not running[/]"
        console.print(f"{worker.name}: {state_text}, restarts {child.get('restarts', '-')}")
    if settings.read_urls:
        replicas_ok = _print_replicas(console, settings)
        ok = ok and replicas_ok
    if state and not state.get("ready"):
        console.print("[yellow]The supervisor has not yet seen every instance healthy.[/]")
    raise SystemExit(0 if ok else 1)


def _print_replicas(console: Console, settings) -> bool:
    """Each read replica's lag (from the primary's heartbeat) and whether reads use it."""
    table = Table(title="Read replicas (PAYSYSTEM_DB_READ_URLS)")
    for column in ("replica", "lag", "state", "detail"):
        table.add_column(column, justify="right" if column == "lag" else "left")
    found = replicas.probe(settings)
    for replica in found:
        lag = "-" if replica.lag_ms is None else f"{replica.lag_ms:,.0f} ms"
        state = "[green]in use[/]" if replica.in_use else "[red]out of use[/]"
        table.add_row(replica.name, lag, state, replica.detail)
    console.print(table)
    return all(replica.in_use for replica in found)


commands = [up, status]
