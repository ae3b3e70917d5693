"""Tokens at the edge (Envoy's jwt_authn) and roles/ownership in the services, through Envoy."""

from __future__ import annotations

import time

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from paysystem.v1 import video_pb2, video_pb2_grpc
from services.common import auth

UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED.value[0]
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED.value[0]


def _forged_token(mesh, account_id: int, role: str) -> str:
    """Well-formed, same issuer and key id, but signed by a key the mesh never saw."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return auth.issue_token(
        pem, auth.Principal(account_id, "mallory", role), issuer=mesh.settings.jwt_issuer, ttl_sec=600
    )


@pytest.fixture
def bad_tokens(mesh, seller):
    seller_id, _ = seller
    return {
        "missing": None,
        "expired": mesh.token(seller_id, "SELLER", ttl_sec=-3600),
        "forged": _forged_token(mesh, seller_id, "SELLER"),
        "garbage": "not.a.jwt",
    }


@pytest.mark.parametrize("kind", ["missing", "expired", "forged", "garbage"])
def test_a_json_call_with_a_missing_expired_or_forged_token_is_a_json_401(mesh, seller, bad_tokens, kind):
    seller_id, _ = seller
    before = mesh.json("GET", f"/v1/sellers/{seller_id}/videos", token=seller[1])[1]["videos"]
    status, body = mesh.json("POST", "/v1/videos", {"title": "sneaky", "duration_sec": 10}, token=bad_tokens[kind])
    assert status == 401
    assert body["code"] == UNAUTHENTICATED and body["message"]
    assert mesh.json("GET", f"/v1/sellers/{seller_id}/videos", token=seller[1])[1]["videos"] == before


@pytest.mark.parametrize("kind", ["missing", "expired", "forged"])
def test_a_grpc_call_with_a_missing_expired_or_forged_token_is_unauthenticated(mesh, bad_tokens, kind):
    stub = video_pb2_grpc.VideoServiceStub(mesh.channel())
    metadata = mesh.metadata(bad_tokens[kind]) if bad_tokens[kind] else None
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetVideo(video_pb2.GetVideoRequest(video_id=1), metadata=metadata, timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_token_that_expired_a_minute_ago_is_refused_despite_envoys_default_skew(mesh, seller):
    # Envoy's default clock skew is 60 s; the mesh sets it to settings.jwt_leeway_sec.
    token = mesh.token(seller[0], "SELLER", ttl_sec=-(mesh.settings.jwt_leeway_sec + 30))
    status, body = mesh.json("GET", f"/v1/sellers/{seller[0]}/videos", token=token)
    assert status == 401 and "expired" in body["message"].lower()


def test_a_token_envoy_has_already_accepted_is_refused_by_envoy_once_it_expires(mesh, seller):
    # Envoy keeps tokens whose signature it checked (jwt_cache_config): a cached token must
    # still be refused at the edge once expired. Envoy's wording tells its reply from a
    # service's ("token expired").
    path = f"/v1/sellers/{seller[0]}/videos"
    token = mesh.token(seller[0], "SELLER", ttl_sec=1)
    status, _ = mesh.json("GET", path, token=token)
    assert status == 200
    time.sleep(1 + mesh.settings.jwt_leeway_sec + 1.5)
    status, body = mesh.json("GET", path, token=token)
    assert status == 401 and body["message"] == "Jwt is expired", body


def test_a_viewer_may_not_create_a_video(mesh, viewer):
    status, body = mesh.json("POST", "/v1/videos", {"title": "not mine to make", "duration_sec": 10}, token=viewer[1])
    assert status == 403
    assert body["code"] == PERMISSION_DENIED and "SELLER" in body["message"]

    stub = video_pb2_grpc.VideoServiceStub(mesh.channel())
    with pytest.raises(grpc.RpcError) as caught:
        stub.CreateVideo(
            video_pb2.CreateVideoRequest(title="nor over gRPC", duration_sec=10), metadata=mesh.metadata(viewer[1])
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_seller_may_not_list_another_sellers_videos(mesh, seller):
    other_id, other_token = mesh.sign_up_and_login("SELLER")
    mesh.json("POST", "/v1/videos", {"title": "private list", "duration_sec": 10}, token=other_token)
    status, body = mesh.json("GET", f"/v1/sellers/{other_id}/videos", token=seller[1])
    assert status == 403
    assert body["code"] == PERMISSION_DENIED
    assert "videos" not in body


def test_signing_up_and_logging_in_need_no_token(mesh):
    username = mesh.unique_username("open")
    status, _ = mesh.json("POST", "/v1/accounts", {"username": username, "password": "long-enough-1", "role": "VIEWER"})
    assert status == 200
    status, body = mesh.json("POST", "/v1/auth/token", {"username": username, "password": "long-enough-1"})
    assert status == 200 and body["access_token"]


def test_a_json_error_carries_no_grpc_headers_and_a_grpc_client_cannot_ask_for_json_errors(mesh, seller):
    other_id, _ = mesh.sign_up_and_login("SELLER")
    status, body = mesh.json("GET", f"/v1/sellers/{other_id}/settlements?period=DAILY&date=2020-01-01", token=seller[1])
    assert status == 403 and body["code"] == PERMISSION_DENIED
    assert "grpc-status" not in mesh.last_headers and "grpc-message" not in mesh.last_headers
    # The JSON mark is the proxy's alone: sent by a gRPC client, it changes nothing.
    stub = video_pb2_grpc.VideoServiceStub(mesh.channel())
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetVideo(video_pb2.GetVideoRequest(video_id=1), metadata=[("x-paysystem-json", "1")], timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert caught.value.details() == "Jwt is missing"
