"""Use cases of the video service: videos (create, get, list) and resume positions.

Playback ingest lives in `ingest.py`; the rules it applies are in `plays.py`.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from domain.errors import BadVideoDetails, VideoNotFound, require_positive_id
from domain.text import require_plain_text
from services.common import paging
from services.common.auth import Principal, require_role, require_self_or_admin
from services.common.clock import SYSTEM_CLOCK, Clock
from services.video import sql_adapter
from services.video.ports import UnitOfWork, Video

TITLE_MAX = 200
DURATION_MAX_SEC = 86_400
_TOKEN_PREFIX = "v1:"


@dataclasses.dataclass(frozen=True)
class VideoPage:
    videos: list[Video]
    next_page_token: str


@dataclasses.dataclass(frozen=True)
class Resume:
    video_id: int
    viewer_id: int
    position_sec: int
    updated_at_us: int | None  # None: never watched


def sql_unit_of_work(engine: sa.Engine) -> UnitOfWork:
    """The SQL unit of work (sql_adapter.SqlUnitOfWork), for callers holding an engine:
    the servicer and tests. One per use case call."""
    return sql_adapter.SqlUnitOfWork(engine)


def create_video(
    uow: UnitOfWork, principal: Principal, title: str, duration_sec: int, *, clock: Clock = SYSTEM_CLOCK
) -> Video:
    require_role(principal, "SELLER")
    title = title.strip()
    if not title:
        raise BadVideoDetails("must not be empty", field="title")
    if len(title) > TITLE_MAX:
        raise BadVideoDetails(f"must be at most {TITLE_MAX} characters, got {len(title)}", field="title")
    # Controls, bidirectional overrides, invisible-only titles (domain/text.py).
    require_plain_text(title, "title")
    if not 1 <= duration_sec <= DURATION_MAX_SEC:
        raise BadVideoDetails(f"must be 1..{DURATION_MAX_SEC} seconds, got {duration_sec}", field="duration_sec")
    created = clock.now_us()
    with uow:
        video_id = uow.videos.add(
            seller_id=principal.account_id, title=title, duration_sec=duration_sec, created_at_us=created
        )
        uow.commit()
    return Video(video_id, principal.account_id, title, duration_sec, created)


def get_video(uow: UnitOfWork, principal: Principal, video_id: int) -> Video:
    require_positive_id(video_id, "video_id")
    with uow:
        video = uow.videos.by_id(video_id)
    if video is None:
        raise VideoNotFound(f"no video {video_id}", field="video_id")
    return video


def encode_page_token(last_video_id: int) -> str:
    return paging.encode_page_token(_TOKEN_PREFIX, last_video_id)


def decode_page_token(token: str) -> int:
    """The last video_id of the previous page; 0 for the first page."""
    return paging.decode_page_token(_TOKEN_PREFIX, token)


def list_seller_videos(
    uow: UnitOfWork, principal: Principal, seller_id: int, page_size: int, page_token: str
) -> VideoPage:
    require_positive_id(seller_id, "seller_id")
    require_self_or_admin(principal, seller_id, "seller's video list")
    size = paging.page_size(page_size)
    after = decode_page_token(page_token)
    with uow:
        rows = uow.videos.of_seller(seller_id, after_video_id=after, limit=size + 1)
    page = rows[:size]
    next_token = encode_page_token(page[-1].video_id) if len(rows) > size else ""
    return VideoPage(page, next_token)


def get_resume_position(uow: UnitOfWork, principal: Principal, video_id: int) -> Resume:
    """The caller's own position; 0 (and no updated_at) if they never played the video."""
    require_positive_id(video_id, "video_id")
    with uow:
        if uow.videos.by_id(video_id) is None:
            raise VideoNotFound(f"no video {video_id}", field="video_id")
        stored = uow.videos.resume_position(principal.account_id, video_id)
    if stored is None:
        return Resume(video_id, principal.account_id, 0, None)
    return Resume(video_id, principal.account_id, stored.position_sec, stored.updated_at_us)
