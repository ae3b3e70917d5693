"""The batch's Envoy admin address answers nothing: GET /v1/batch/instances is a quick 503
that says which address failed and which setting names it; no batch instance is ejected for
it, and the rest of the batch API works.

The "admin" is a socket of this test that accepts connections and never answers (the slow
case: a refused connection fails sooner), given to the batch instances through
PAYSYSTEM_ENVOY_ADMIN_URL.
"""

from __future__ import annotations

import socket
import time

import pytest

from tests.plugins.faults import envoy_stat, fault_mesh

pytestmark = [pytest.mark.faults, pytest.mark.mesh]

QUICK_SEC = 3.0  # the servicer's 1 s timeout, plus Envoy and a loaded machine


@pytest.fixture(scope="module")
def silent_admin_mesh(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("silent-admin")
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with fault_mesh(tmp / "mesh", db_url="", env={"PAYSYSTEM_ENVOY_ADMIN_URL": url}) as mesh:
            yield mesh, url


def test_an_unreachable_envoy_admin_is_a_quick_503_naming_the_address_and_the_setting(silent_admin_mesh):
    mesh, url = silent_admin_mesh
    _, admin = mesh.create_admin()
    for _ in range(4):  # two in a row on each batch instance (round robin)
        started = time.monotonic()
        status, body = mesh.json("GET", "/v1/batch/instances", token=admin)
        elapsed = time.monotonic() - started
        assert status == 503, body
        assert body["code"] == 14 and url in body["message"] and "PAYSYSTEM_ENVOY_ADMIN_URL" in body["message"]
        assert elapsed < QUICK_SEC, elapsed
    # A misconfigured admin address is no fault of the instance that answered: Envoy ejects none.
    assert envoy_stat(mesh, "cluster.batch.outlier_detection.ejections_detected_consecutive_gateway_failure") == 0
    assert all(h.healthy for h in mesh.envoy_hosts("batch").values())
    status, body = mesh.json("GET", "/v1/batch/jobs", token=admin)
    assert status == 200, body
