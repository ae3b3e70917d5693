"""Envoy's admin /clusters page: every upstream host with its health flags and counters.

Read by the launcher (is the mesh ready?), `paysystem status`, and BatchService.ListInstances.
"""

from __future__ import annotations

import dataclasses
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


def parse_clusters(text: str) -> dict[str, list[HostStatus]]:
    """Parses the text form of /clusters: `cluster::host:port::field::value` lines. Clusters
    and their hosts keep the page's order."""
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


def read_clusters(admin_url: str, timeout: float = 2.0) -> dict[str, list[HostStatus]]:
    """Envoy's /clusters at admin_url (http://host:port). Raises OSError (urllib's URLError
    included) when Envoy does not answer within `timeout` seconds."""
    with urllib.request.urlopen(f"{admin_url.rstrip('/')}/clusters", timeout=timeout) as response:
        return parse_clusters(response.read().decode())
