"""The demo's ports: the configured ones, or free ones when the defaults are taken.

The demo is the first command every user runs, so a default port held by another program
(a web server on 8080, another mesh, a test run) must not stop it: when no port was chosen
(no PAYSYSTEM_HTTP_PORT, PAYSYSTEM_ENVOY_ADMIN_PORT or PAYSYSTEM_SERVICE_BASE_PORT), each group
of ports that is taken moves to the next free one above it, and the demo says so. A port the
user chose is never moved: it fails at once, naming the port, as before.

The default service ports lie below Linux's ephemeral range (32768-60999), where the kernel
picks the local ports of outgoing connections: a busy machine's clients can hold any port in
that range for a while, so a default inside it would be taken at random.
"""

from __future__ import annotations

from collections.abc import Iterable

from entrypoints.launcher import topology
from services.common.settings import Settings

ENVIRONMENT = {
    "http_port": "PAYSYSTEM_HTTP_PORT",
    "envoy_admin_port": "PAYSYSTEM_ENVOY_ADMIN_PORT",
    "service_base_port": "PAYSYSTEM_SERVICE_BASE_PORT",
}
SEARCH_LIMIT = 32767  # stay below the ephemeral range


def _groups(settings: Settings) -> dict[str, list[int]]:
    """The ports each setting decides (the service base decides one per instance)."""
    instances = [instance.port for instance in topology.instances(settings)]
    return {
        "http_port": [settings.http_port],
        "envoy_admin_port": [settings.envoy_admin_port],
        "service_base_port": instances,
    }


def _next_free(start: int, size: int, avoid: Iterable[int]) -> int:
    avoided = set(avoid)
    for base in range(start + 1, SEARCH_LIMIT - size + 2):
        block = range(base, base + size)
        if avoided.isdisjoint(block) and all(topology.port_free(port) for port in block):
            return base
    raise RuntimeError(f"no {size} free consecutive ports between {start + 1} and {SEARCH_LIMIT}")


def choose_ports(settings: Settings) -> dict[str, str]:
    """The PAYSYSTEM_* port variables to set so that every port the mesh needs is free; empty
    when the configured ones are. Raises RuntimeError, naming the port, when a port the user
    chose is taken."""
    return moves(_groups(settings), chosen=settings.model_fields_set)


def moves(groups: dict[str, list[int]], *, chosen: Iterable[str]) -> dict[str, str]:
    """For each group of ports (a setting's name: its ports) with a port taken, the variable
    and the first free block above it, clear of every group's ports; a group whose setting was
    `chosen` is never moved: RuntimeError names its taken port."""
    chosen = set(chosen)
    moved: dict[str, str] = {}
    taken = {port for ports in groups.values() for port in ports}
    for field, ports in groups.items():
        busy = [port for port in ports if not topology.port_free(port)]
        if not busy:
            continue
        if field in chosen:
            raise RuntimeError(
                f"port {busy[0]} is in use (a demo or mesh still running? `paysystem status` tells);"
                " stop it, or choose other ports with PAYSYSTEM_HTTP_PORT, PAYSYSTEM_ENVOY_ADMIN_PORT"
                " and PAYSYSTEM_SERVICE_BASE_PORT"
            )
        base = _next_free(ports[0], len(ports), taken)
        taken.update(range(base, base + len(ports)))
        moved[ENVIRONMENT[field]] = str(base)
    return moved
