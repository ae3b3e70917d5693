"""Video CRUD over real gRPC, on MariaDB and on the embedded SQLite default."""

from __future__ import annotations

import grpc
import pytest

from paysystem.v1 import video_pb2
from tests.plugins.video import video_service


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def harness(request, tmp_path_factory):
    with video_service(request.param, tmp_path_factory.mktemp("video")) as h:
        yield h


def _code(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code(), caught.value.details()


def test_a_seller_creates_a_video_that_anyone_signed_in_can_get(harness):
    seller, viewer = harness.account("SELLER"), harness.account("VIEWER")
    created = harness.stub.CreateVideo(
        video_pb2.CreateVideoRequest(title="  Cooking 101  ", duration_sec=600), metadata=harness.md(seller)
    )
    assert (created.seller_id, created.title, created.duration_sec) == (seller.account_id, "Cooking 101", 600)
    assert created.video_id > 0 and created.created_at.seconds > 0
    got = harness.stub.GetVideo(video_pb2.GetVideoRequest(video_id=created.video_id), metadata=harness.md(viewer))
    assert got == created


def test_only_a_seller_may_create_a_video(harness):
    viewer = harness.account("VIEWER")
    code, _ = _code(
        lambda: harness.stub.CreateVideo(
            video_pb2.CreateVideoRequest(title="mine", duration_sec=10), metadata=harness.md(viewer)
        )
    )
    assert code is grpc.StatusCode.PERMISSION_DENIED


def test_calls_without_a_token_are_unauthenticated(harness):
    code, _ = _code(lambda: harness.stub.GetVideo(video_pb2.GetVideoRequest(video_id=1)))
    assert code is grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("title", "duration", "field"),
    [
        ("   ", 10, "title"),
        ("x" * 201, 10, "title"),
        ("bad\ntitle", 10, "title"),
        ("abc\u202egpj.exe", 10, "title"),
        ("a\u2066b", 10, "title"),
        ("a\x85b", 10, "title"),
        ("\u200b\u200d\ufeff", 10, "title"),
        ("\u3164", 10, "title"),
        ("ok", 0, "duration_sec"),
        ("ok", -5, "duration_sec"),
        ("ok", 86_401, "duration_sec"),
    ],
)
def test_bad_videos_are_invalid_argument_naming_the_field(harness, title, duration, field):
    seller = harness.account("SELLER")
    code, message = _code(
        lambda: harness.stub.CreateVideo(
            video_pb2.CreateVideoRequest(title=title, duration_sec=duration), metadata=harness.md(seller)
        )
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT and message.startswith(f"{field}:")
    listed = harness.stub.ListSellerVideos(
        video_pb2.ListSellerVideosRequest(seller_id=seller.account_id), metadata=harness.md(seller)
    )
    assert list(listed.videos) == []


def test_the_longest_title_and_duration_are_accepted(harness):
    seller = harness.account("SELLER")
    video = harness.stub.CreateVideo(
        video_pb2.CreateVideoRequest(title="t" * 200, duration_sec=86_400), metadata=harness.md(seller)
    )
    assert len(video.title) == 200 and video.duration_sec == 86_400


def test_getting_an_unknown_video_is_not_found_and_a_bad_id_is_invalid(harness):
    viewer = harness.account()
    assert (
        _code(lambda: harness.stub.GetVideo(video_pb2.GetVideoRequest(video_id=10**15), metadata=harness.md(viewer)))[0]
        is grpc.StatusCode.NOT_FOUND
    )
    assert (
        _code(lambda: harness.stub.GetVideo(video_pb2.GetVideoRequest(video_id=0), metadata=harness.md(viewer)))[0]
        is grpc.StatusCode.INVALID_ARGUMENT
    )


def test_a_sellers_videos_are_listed_in_id_order_page_by_page(harness):
    seller, other = harness.account("SELLER"), harness.account("SELLER")
    harness.stub.CreateVideo(video_pb2.CreateVideoRequest(title="other", duration_sec=5), metadata=harness.md(other))
    ids = [
        harness.stub.CreateVideo(
            video_pb2.CreateVideoRequest(title=f"v{i}", duration_sec=60), metadata=harness.md(seller)
        ).video_id
        for i in range(5)
    ]
    seen, token = [], ""
    while True:
        page = harness.stub.ListSellerVideos(
            video_pb2.ListSellerVideosRequest(seller_id=seller.account_id, page_size=2, page_token=token),
            metadata=harness.md(seller),
        )
        assert len(page.videos) <= 2
        seen += [v.video_id for v in page.videos]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(ids)


def test_only_that_seller_or_an_admin_may_list_their_videos(harness):
    seller, stranger, admin = harness.account("SELLER"), harness.account("SELLER"), harness.account("ADMIN")
    harness.stub.CreateVideo(video_pb2.CreateVideoRequest(title="a", duration_sec=5), metadata=harness.md(seller))
    request = video_pb2.ListSellerVideosRequest(seller_id=seller.account_id)
    assert (
        _code(lambda: harness.stub.ListSellerVideos(request, metadata=harness.md(stranger)))[0]
        is grpc.StatusCode.PERMISSION_DENIED
    )
    assert len(harness.stub.ListSellerVideos(request, metadata=harness.md(admin)).videos) == 1


@pytest.mark.parametrize(("page_size", "token"), [(1001, ""), (-1, ""), (10, "garbage!"), (10, "djE6LTU")])
def test_bad_page_sizes_and_forged_page_tokens_are_invalid(harness, page_size, token):
    seller = harness.account("SELLER")
    code, message = _code(
        lambda: harness.stub.ListSellerVideos(
            video_pb2.ListSellerVideosRequest(seller_id=seller.account_id, page_size=page_size, page_token=token),
            metadata=harness.md(seller),
        )
    )
    assert code is grpc.StatusCode.INVALID_ARGUMENT and message.split(":")[0] in {"page_size", "page_token"}
