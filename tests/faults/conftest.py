"""A mesh of its own for fault tests (they kill processes), on MariaDB with Redis DB 1."""

from __future__ import annotations

import pytest

from tests.databases import fresh_database
from tests.mesh import Mesh

REDIS_URL = "redis://127.0.0.1:6379/1"


def pytest_collection_modifyitems(items):
    for item in items:
        if "fault_mesh" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mesh)
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="module")
def fault_mesh(tmp_path_factory) -> Mesh:
    tmp = tmp_path_factory.mktemp("fault-mesh")
    with fresh_database("mariadb", "paysystem_mesh_", tmp) as url:
        with Mesh.on_free_ports(tmp, db_url=url, redis_url=REDIS_URL) as running:
            yield running
