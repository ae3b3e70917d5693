"""A seller id that names no seller, read by an admin through Envoy as JSON on both storages:
404 with NOT_FOUND on every read of a seller's figures (series, top 5, statement and its CSV),
where it used to be 200 with zeros (and a statement `status: CLOSED`). A seller that exists
without figures still reads as zeros, and another seller's id is still 403 for a seller
(authorization comes before existence, so a seller learns nothing about other ids)."""

from __future__ import annotations

import grpc
import pytest

NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
READS = [
    "stats?period=MONTHLY&from=2026-01-01&to=2026-02-01",
    "top-videos?period=MONTHLY&date=2026-01-15&metric=VIEWS",
    "settlements?period=MONTHLY&date=2026-01-15",
    "settlements:csv?period=MONTHLY&date=2026-01-15",
]


@pytest.fixture(scope="module")
def admin(mesh) -> str:
    return mesh.create_admin()[1]


@pytest.mark.parametrize("read", READS)
def test_an_unknown_seller_is_404_for_an_admin(mesh, admin, read):
    unknown = 987654321
    status, body = mesh.json("GET", f"/v1/sellers/{unknown}/{read}", token=admin)
    assert status == 404, body
    assert body["code"] == NOT_FOUND and f"no seller {unknown}" in body["message"], body
    assert "points" not in body and "lines" not in body and "videos" not in body


@pytest.mark.parametrize("read", READS[:3])
def test_a_viewer_account_is_not_a_seller(mesh, admin, viewer, read):
    viewer_id, _ = viewer
    status, body = mesh.json("GET", f"/v1/sellers/{viewer_id}/{read}", token=admin)
    assert status == 404 and body["code"] == NOT_FOUND, body


def test_a_seller_without_figures_reads_as_zeros(mesh, admin, seller):
    seller_id, token = seller
    for caller in (token, admin):
        status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/{READS[0]}", token=caller)
        assert status == 200, body
        assert [p["views"] for p in body["points"]] == ["0", "0"]
        status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/{READS[2]}", token=caller)
        assert status == 200 and body["status"] == "OPEN" and body.get("lines", []) == [], body


def test_a_seller_reading_an_unknown_id_is_refused_not_told(mesh, seller):
    _, token = seller
    status, body = mesh.json("GET", f"/v1/sellers/987654321/{READS[0]}", token=token)
    assert status == 403 and body["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0], body
