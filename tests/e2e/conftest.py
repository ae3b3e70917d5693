"""The whole mesh (Envoy + every service as real processes) for end-to-end tests.

`mesh` is session-scoped and parametrized over the two storage backends, so the whole e2e
suite runs twice and pytest starts only two meshes: the embedded default (SQLite in the mesh's
data dir, no Redis) and MariaDB (a fresh `paysystem_mesh_*` database, dropped afterwards) with
Redis DB 1. The read-path modules (READ_PATH_MODULES) run a third time on a mesh at scale
(tests/plugins/scaled_mesh.py: reads on a MariaDB replica, the cache on a six-node Redis
Cluster). Tests must not leave the mesh changed (restore a drained instance, etc.) and must
use unique names (Mesh.unique_username, sign_up_and_login) because they share it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.databases import fresh_database
from tests.mesh import Mesh
from tests.plugins.scaled_mesh import scaled_mesh

BACKENDS = ["sqlite", "mariadb"]
SCALED = "replica+cluster"
# The read path (statements, top 5, video and seller series, comparisons): also run on replica + cluster.
READ_PATH_MODULES = {"test_stats_json", "test_settlement_json", "test_seller_stats_json", "test_stats_compare_json"}
REDIS_URL = "redis://127.0.0.1:6379/1"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.mesh)


def pytest_generate_tests(metafunc):
    if "mesh" in metafunc.fixturenames:
        scaled = [SCALED] if metafunc.module.__name__.rsplit(".", 1)[-1] in READ_PATH_MODULES else []
        metafunc.parametrize("mesh", BACKENDS + scaled, indirect=True, scope="session")


@pytest.fixture(scope="session")
def mesh(request, tmp_path_factory) -> Mesh:
    tmp = tmp_path_factory.mktemp(f"mesh-{request.param.replace('+', '-')}")
    if request.param == SCALED:
        with scaled_mesh(tmp) as scaled:
            yield scaled.mesh
        return
    if request.param == "sqlite":
        with Mesh.on_free_ports(tmp) as running:
            yield running
        return
    with fresh_database("mariadb", "paysystem_mesh_", tmp) as url:
        with Mesh.on_free_ports(tmp, db_url=url, redis_url=REDIS_URL) as running:
            yield running


@pytest.fixture
def seller(mesh) -> tuple[int, str]:
    return mesh.sign_up_and_login("SELLER")


@pytest.fixture
def viewer(mesh) -> tuple[int, str]:
    return mesh.sign_up_and_login("VIEWER")
