"""Sign-up, login and videos through Envoy: JSON over HTTP/1.1 and native gRPC on one port."""

from __future__ import annotations

import grpc
import pytest

from paysystem.v1 import account_pb2, account_pb2_grpc, common_pb2, video_pb2, video_pb2_grpc
from tests.mesh import PASSWORD


def test_a_json_client_signs_up_logs_in_and_gets_a_usable_token(mesh):
    username = mesh.unique_username("json")
    status, account = mesh.json("POST", "/v1/accounts", {"username": username, "password": PASSWORD, "role": "SELLER"})
    assert status == 200, account
    assert account["username"] == username and account["role"] == "SELLER"
    assert int(account["account_id"]) > 0  # int64 arrives as a JSON string
    assert "grpc-status" not in mesh.last_headers

    status, token = mesh.json("POST", "/v1/auth/token", {"username": username, "password": PASSWORD})
    assert status == 200, token
    assert token["token_type"] == "Bearer" and int(token["expires_in"]) > 0
    assert token["account_id"] == account["account_id"]

    status, body = mesh.json("GET", f"/v1/sellers/{account['account_id']}/videos", token=token["access_token"])
    assert status == 200, body
    assert body == {"videos": [], "next_page_token": ""}  # zero values are printed too


def test_a_grpc_client_signs_up_and_logs_in_through_the_same_port(mesh):
    stub = account_pb2_grpc.AccountServiceStub(mesh.channel())
    username = mesh.unique_username("grpc")
    account = stub.SignUp(account_pb2.SignUpRequest(username=username, password=PASSWORD, role=common_pb2.VIEWER))
    token = stub.Login(account_pb2.LoginRequest(username=username, password=PASSWORD))
    assert token.account_id == account.account_id and token.role == common_pb2.VIEWER


def test_a_wrong_password_is_a_json_401(mesh):
    username = mesh.unique_username("pw")
    mesh.json("POST", "/v1/accounts", {"username": username, "password": PASSWORD, "role": "VIEWER"})
    status, body = mesh.json("POST", "/v1/auth/token", {"username": username, "password": "not-the-password"})
    assert status == 401
    assert body["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0] and "wrong" in body["message"]


def test_signing_up_twice_with_one_username_is_a_409(mesh):
    username = mesh.unique_username("twice")
    request = {"username": username, "password": PASSWORD, "role": "VIEWER"}
    assert mesh.json("POST", "/v1/accounts", request)[0] == 200
    status, body = mesh.json("POST", "/v1/accounts", request)
    assert status == 409 and "taken" in body["message"]


def test_a_seller_creates_a_video_in_json_and_anyone_signed_in_reads_it(mesh, seller, viewer):
    seller_id, seller_token = seller
    status, video = mesh.json(
        "POST", "/v1/videos", {"title": "  Cooking with gas  ", "duration_sec": 900}, token=seller_token
    )
    assert status == 200, video
    assert video["seller_id"] == str(seller_id)  # the owner is the caller, not a field of the request
    assert video["title"] == "Cooking with gas"
    assert video["duration_sec"] == "900"

    status, read = mesh.json("GET", f"/v1/videos/{video['video_id']}", token=viewer[1])
    assert status == 200
    assert read == video


def test_a_seller_lists_their_own_videos_newest_last(mesh, seller):
    seller_id, token = seller
    created = [
        mesh.json("POST", "/v1/videos", {"title": f"part {n}", "duration_sec": 60 * n}, token=token)[1]["video_id"]
        for n in (1, 2, 3)
    ]
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/videos", token=token)
    assert status == 200
    assert [v["video_id"] for v in body["videos"]] == created


def test_an_admin_lists_any_sellers_videos(mesh, seller):
    seller_id, token = seller
    mesh.json("POST", "/v1/videos", {"title": "admin can see", "duration_sec": 10}, token=token)
    _, admin_token = mesh.create_admin()
    status, body = mesh.json("GET", f"/v1/sellers/{seller_id}/videos", token=admin_token)
    assert status == 200 and [v["title"] for v in body["videos"]] == ["admin can see"]


def test_grpc_stubs_create_get_and_list_videos_through_envoy(mesh, seller, viewer):
    seller_id, seller_token = seller
    stub = video_pb2_grpc.VideoServiceStub(mesh.channel())
    video = stub.CreateVideo(
        video_pb2.CreateVideoRequest(title="gRPC video", duration_sec=125), metadata=mesh.metadata(seller_token)
    )
    assert video.seller_id == seller_id and video.duration_sec == 125

    read = stub.GetVideo(video_pb2.GetVideoRequest(video_id=video.video_id), metadata=mesh.metadata(viewer[1]))
    assert read == video

    listed = stub.ListSellerVideos(
        video_pb2.ListSellerVideosRequest(seller_id=seller_id), metadata=mesh.metadata(seller_token)
    )
    assert list(listed.videos) == [video]


def test_a_video_made_over_grpc_reads_the_same_over_json(mesh, seller):
    seller_id, token = seller
    stub = video_pb2_grpc.VideoServiceStub(mesh.channel())
    video = stub.CreateVideo(
        video_pb2.CreateVideoRequest(title="both ways", duration_sec=42), metadata=mesh.metadata(token)
    )
    status, body = mesh.json("GET", f"/v1/videos/{video.video_id}", token=token)
    assert status == 200
    assert (body["video_id"], body["seller_id"], body["title"], body["duration_sec"]) == (
        str(video.video_id),
        str(seller_id),
        "both ways",
        "42",
    )


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/paysystem.v1.NoSuchService/Call"])
def test_an_unknown_path_is_a_json_404(mesh, viewer, path):
    status, body = mesh.json("GET", path, token=viewer[1])
    assert status == 404
    assert body["code"] == grpc.StatusCode.NOT_FOUND.value[0] and path in body["message"]
