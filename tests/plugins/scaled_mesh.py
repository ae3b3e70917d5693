"""A whole mesh at scale for tests: `paysystem up` (tests/mesh.py) reading from a replica and
caching on a Redis Cluster, all real processes on this machine:

- the private MariaDB primary (binary log) and its replica of tests/plugins/replicas.py,
  the mesh's PAYSYSTEM_DB_URL on the primary and PAYSYSTEM_DB_READ_URLS on the replica;
- the six-node Redis Cluster of tests/redis_cluster.py, as a `redis+cluster://` URL.

    with scaled_mesh(tmp_path) as scaled:
        scaled.mesh.json(...); scaled.pair.replica.kill(); scaled.cluster.kill_master(port)

`make_mesh` builds the (not yet started) Mesh: `Mesh.on_free_ports` by default, or the
fault tests' `fault_mesh` (each instance's Prometheus endpoint on a port of its own).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path

from tests.mesh import Mesh
from tests.plugins.replicas import Replication, replication
from tests.redis_cluster import RedisClusterProcesses


@dataclasses.dataclass
class ScaledMesh:
    mesh: Mesh
    pair: Replication
    cluster: RedisClusterProcesses


def scale_env(pair: Replication, max_lag_ms: int = 2000) -> dict[str, str]:
    """The settings that point a mesh's read services at the replica."""
    return {"PAYSYSTEM_DB_READ_URLS": pair.replica_url, "PAYSYSTEM_DB_REPLICA_MAX_LAG_MS": str(max_lag_ms)}


@contextlib.contextmanager
def scaled_mesh(workdir: Path, *, make_mesh: Callable[..., Mesh] = Mesh.on_free_ports, max_lag_ms: int = 2000):
    cluster = RedisClusterProcesses(workdir / "cluster")
    try:
        cluster.start()
        with replication(workdir / "replication") as pair:
            mesh = make_mesh(
                workdir / "mesh", db_url=pair.primary_url, redis_url=cluster.url, env=scale_env(pair, max_lag_ms)
            )
            with mesh:
                yield ScaledMesh(mesh, pair, cluster)
    finally:
        cluster.stop()
