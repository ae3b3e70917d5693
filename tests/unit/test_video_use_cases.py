"""The video use cases (services/video/service.py: create, get, list, resume position)
against the in-memory fakes (tests/fakes/video.py): no database. Each refusal is checked to
commit nothing."""

from __future__ import annotations

import pytest

from domain.errors import (
    BadId,
    BadPageRequest,
    BadText,
    BadVideoDetails,
    NotOwner,
    RoleNotAllowed,
    VideoNotFound,
)
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.video import service
from services.video.ports import StoredResume, Video
from tests.fakes.video import FakeUnitOfWork, FakeVideos

SELLER = Principal(7, "seller", "SELLER")
OTHER_SELLER = Principal(8, "other", "SELLER")
VIEWER = Principal(20, "viewer", "VIEWER")
ADMIN = Principal(1, "admin", "ADMIN")
T0 = 1_700_000_000_000_000


def world(*videos: Video) -> FakeUnitOfWork:
    return FakeUnitOfWork(FakeVideos(list(videos)))


def test_a_seller_creates_a_video_with_a_trimmed_title_at_the_clocks_instant():
    uow = world()
    video = service.create_video(uow, SELLER, "  My clip  ", 600, clock=FixedClock(T0))
    assert video == Video(1, 7, "My clip", 600, T0)
    assert uow.committed
    assert uow.videos.rows == {1: video}


@pytest.mark.parametrize(
    ("principal", "title", "duration", "error"),
    [
        (VIEWER, "clip", 60, RoleNotAllowed),
        (ADMIN, "clip", 60, RoleNotAllowed),  # only sellers own videos
        (SELLER, "   ", 60, BadVideoDetails),
        (SELLER, "x" * 201, 60, BadVideoDetails),
        (SELLER, "bad\x00title", 60, BadText),  # a control character
        (SELLER, "clip", 0, BadVideoDetails),
        (SELLER, "clip", 86_401, BadVideoDetails),
    ],
)
def test_refused_videos_store_nothing(principal, title, duration, error):
    uow = world()
    with pytest.raises(error):
        service.create_video(uow, principal, title, duration)
    assert not uow.committed
    assert uow.videos.rows == {}


def test_the_longest_title_and_duration_are_accepted():
    video = service.create_video(world(), SELLER, "x" * 200, 86_400)
    assert (len(video.title), video.duration_sec) == (200, 86_400)


def test_anyone_signed_in_gets_a_video_and_an_unknown_id_is_not_found():
    clip = Video(3, 7, "clip", 60, T0)
    uow = world(clip)
    assert service.get_video(uow, VIEWER, 3) == clip
    with pytest.raises(VideoNotFound):
        service.get_video(uow, VIEWER, 4)
    with pytest.raises(BadId):
        service.get_video(uow, VIEWER, 0)
    assert not uow.committed


def test_a_sellers_videos_come_in_pages_by_id():
    mine = [Video(i, 7, f"v{i}", 60, T0) for i in (2, 5, 9)]
    uow = world(*mine, Video(4, 8, "not mine", 60, T0))
    first = service.list_seller_videos(uow, SELLER, 7, 2, "")
    assert first.videos == mine[:2]
    assert first.next_page_token == service.encode_page_token(5)
    second = service.list_seller_videos(uow, ADMIN, 7, 2, first.next_page_token)
    assert (second.videos, second.next_page_token) == ([mine[2]], "")
    exact = service.list_seller_videos(uow, SELLER, 7, 3, "")
    assert (len(exact.videos), exact.next_page_token) == (3, "")  # no empty last page


@pytest.mark.parametrize(
    ("principal", "seller_id", "size", "error"),
    [(OTHER_SELLER, 7, 0, NotOwner), (ADMIN, 0, 0, BadId), (SELLER, 7, -1, BadPageRequest)],
)
def test_refused_lists(principal, seller_id, size, error):
    with pytest.raises(error):
        service.list_seller_videos(world(), principal, seller_id, size, "")


def test_a_resume_position_is_the_callers_own_and_zero_if_never_played():
    uow = world(Video(3, 7, "clip", 600, T0))
    uow.videos.resumes[(20, 3)] = StoredResume(125, T0 + 9)
    assert service.get_resume_position(uow, VIEWER, 3) == service.Resume(3, 20, 125, T0 + 9)
    assert service.get_resume_position(uow, SELLER, 3) == service.Resume(3, 7, 0, None)
    with pytest.raises(VideoNotFound):
        service.get_resume_position(uow, VIEWER, 4)
    assert not uow.committed
