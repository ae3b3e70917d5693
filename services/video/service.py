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
from services.common.db import unit_of_work
from services.video import repository

TITLE_MAX = 200
DURATION_MAX_SEC = 86_400
_TOKEN_PREFIX = "v1:"


@dataclasses.dataclass(frozen=True)
class Video:
    video_id: int
    seller_id: int
    title: str
    duration_sec: int
    created_at_us: int


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


def _video(row: sa.Row) -> Video:
    return Video(int(row.video_id), int(row.seller_id), row.title, int(row.duration_sec), int(row.created_at_us))


def create_video(
    engine: sa.Engine, principal: Principal, title: str, duration_sec: int, *, clock: Clock = SYSTEM_CLOCK
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
    with unit_of_work(engine) as conn:
        video_id = repository.insert_video(
            conn, seller_id=principal.account_id, title=title, duration_sec=duration_sec, created_at_us=created
        )
    return Video(video_id, principal.account_id, title, duration_sec, created)


def get_video(engine: sa.Engine, principal: Principal, video_id: int) -> Video:
    require_positive_id(video_id, "video_id")
    with engine.connect() as conn:
        row = repository.video_by_id(conn, video_id)
    if row is None:
        raise VideoNotFound(f"no video {video_id}", field="video_id")
    return _video(row)


def encode_page_token(last_video_id: int) -> str:
    return paging.encode_page_token(_TOKEN_PREFIX, last_video_id)


def decode_page_token(token: str) -> int:
    """The last video_id of the previous page; 0 for the first page."""
    return paging.decode_page_token(_TOKEN_PREFIX, token)


def list_seller_videos(
    engine: sa.Engine, principal: Principal, seller_id: int, page_size: int, page_token: str
) -> VideoPage:
    require_positive_id(seller_id, "seller_id")
    require_self_or_admin(principal, seller_id, "seller's video list")
    size = paging.page_size(page_size)
    after = decode_page_token(page_token)
    with engine.connect() as conn:
        rows = repository.videos_of_seller(conn, seller_id, after_video_id=after, limit=size + 1)
    page = [_video(r) for r in rows[:size]]
    next_token = encode_page_token(page[-1].video_id) if len(rows) > size else ""
    return VideoPage(page, next_token)


def get_resume_position(engine: sa.Engine, principal: Principal, video_id: int) -> Resume:
    """The caller's own position; 0 (and no updated_at) if they never played the video."""
    require_positive_id(video_id, "video_id")
    with engine.connect() as conn:
        if repository.video_by_id(conn, video_id) is None:
            raise VideoNotFound(f"no video {video_id}", field="video_id")
        row = repository.resume_position(conn, principal.account_id, video_id)
    if row is None:
        return Resume(video_id, principal.account_id, 0, None)
    return Resume(video_id, principal.account_id, int(row.position_sec), int(row.updated_at_us))
