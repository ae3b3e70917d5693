"""Fixtures for the batch scale-out tests and bench: a mesh on this area's own ports."""

from __future__ import annotations

from pathlib import Path

from tests.mesh import Mesh, reserve_port_block

PORT_BLOCKS = range(21200, 21400, 20)  # one block of 20 ports per mesh
REDIS_URL = "redis://127.0.0.1:6379/5"


def scale_mesh(data_dir: Path, db_url: str, *, batch_workers: int = 2, **env: str) -> Mesh:
    """A (not yet started) mesh with two dispatching batch instances, on a block of ports in
    21200-21399 held by a lock file for the mesh's lifetime. `batch_workers`: partitions in
    flight at once per job (PAYSYSTEM_BATCH_WORKERS)."""
    base, lock = reserve_port_block(20, PORT_BLOCKS)
    mesh = Mesh(
        data_dir,
        http_port=base,
        admin_port=base + 1,
        service_base_port=base + 10,
        db_url=db_url,
        redis_url=REDIS_URL,
        env={"PAYSYSTEM_BATCH_WORKERS": str(batch_workers), **env},
    )
    mesh._port_lock = lock  # released by Mesh.stop()
    return mesh
