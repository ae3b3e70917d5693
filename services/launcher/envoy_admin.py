"""Reads Envoy's admin endpoint: per-host health flags and request counters from /clusters."""

from __future__ import annotations

import dataclasses
import urllib.error
import urllib.request


@dataclasses.dataclass
class HostStatus:
    cluster: str
    address: str
    health_flags: str = ""
    rq_total: int = 0
    rq_error: int = 0
    cx_active: int = 0

    @property
    def healthy(self) -> bool:
        return self.health_flags == "healthy"


_COUNTERS = {"rq_total", "rq_error", "cx_active"}


def fetch(admin_port: int, path: str, host: str = "127.0.0.1", timeout: float = 2.0) -> str:
    with urllib.request.urlopen(f"http://{host}:{admin_port}{path}", timeout=timeout) as response:
        return response.read().decode()


def parse_clusters(text: str) -> dict[str, list[HostStatus]]:
    """Parses the text form of /clusters: `cluster::host:port::field::value` lines."""
    hosts: dict[tuple[str, str], HostStatus] = {}
    for line in text.splitlines():
        parts = line.split("::")
        if len(parts) != 4 or ":" not in parts[1]:
            continue  # cluster-level lines such as `video::default_priority::max_connections::1024`
        cluster, address, field, value = parts
        host = hosts.setdefault((cluster, address), HostStatus(cluster, address))
        if field == "health_flags":
            host.health_flags = value
        elif field in _COUNTERS:
            setattr(host, field, int(value))
    result: dict[str, list[HostStatus]] = {}
    for host in hosts.values():
        result.setdefault(host.cluster, []).append(host)
    return result


def clusters(admin_port: int, host: str = "127.0.0.1") -> dict[str, list[HostStatus]]:
    return parse_clusters(fetch(admin_port, "/clusters", host))


def all_healthy(admin_port: int, expected: dict[str, int]) -> bool:
    """True once every expected cluster has its expected number of hosts, all healthy."""
    try:
        seen = clusters(admin_port)
    except (OSError, urllib.error.URLError):
        return False
    for name, count in expected.items():
        hosts = seen.get(name, [])
        if len(hosts) != count or not all(h.healthy for h in hosts):
            return False
    return True
