"""The mesh's own Envoy admin endpoint, on loopback: its clusters, and whether every instance
is healthy in it. The page itself is parsed in services/common/envoy_clusters.py."""

from __future__ import annotations

from services.common.envoy_clusters import HostStatus, read_clusters

__all__ = ["HostStatus", "all_healthy", "clusters"]


def clusters(admin_port: int, host: str = "127.0.0.1") -> dict[str, list[HostStatus]]:
    return read_clusters(f"http://{host}:{admin_port}")


def all_healthy(admin_port: int, expected: dict[str, int]) -> bool:
    """True once every expected cluster has its expected number of hosts, all healthy."""
    try:
        seen = clusters(admin_port)
    except OSError:
        return False
    for name, count in expected.items():
        hosts = seen.get(name, [])
        if len(hosts) != count or not all(h.healthy for h in hosts):
            return False
    return True
