"""In-memory fakes of services/video/ports.py for the video use-case tests (tests/unit/
test_video_use_cases.py). They keep the SQL adapter's contract (checked against it by
tests/integration/test_video_ports_contract.py): growing ids, a seller's videos by id, writes
kept only when the unit of work commits."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Self

from services.video.ports import StoredResume, Video


class FakeVideos:
    def __init__(self, videos: list[Video] | None = None) -> None:
        self.rows: dict[int, Video] = {video.video_id: video for video in videos or []}
        self.resumes: dict[tuple[int, int], StoredResume] = {}  # (viewer_id, video_id)
        self.last_id = max(self.rows, default=0)  # ids are never reused, as AUTO_INCREMENT's

    def add(self, *, seller_id: int, title: str, duration_sec: int, created_at_us: int) -> int:
        self.last_id += 1
        self.rows[self.last_id] = Video(self.last_id, seller_id, title, duration_sec, created_at_us)
        return self.last_id

    def by_id(self, video_id: int) -> Video | None:
        return self.rows.get(video_id)

    def of_seller(self, seller_id: int, *, after_video_id: int, limit: int) -> list[Video]:
        found = sorted(
            v.video_id for v in self.rows.values() if v.seller_id == seller_id and v.video_id > after_video_id
        )
        return [self.rows[video_id] for video_id in found[:limit]]

    def resume_position(self, viewer_id: int, video_id: int) -> StoredResume | None:
        return self.resumes.get((viewer_id, video_id))


class FakeUnitOfWork:
    """ports.UnitOfWork over FakeVideos: `committed` says whether a commit happened; leaving
    the block without one puts the videos back as they were at its start (ids stay used)."""

    def __init__(self, videos: FakeVideos | None = None) -> None:
        self.videos = videos or FakeVideos()
        self.committed = False
        self._saved: dict[int, Video] | None = None

    def __enter__(self) -> Self:
        self._saved = copy.copy(self.videos.rows)
        self.committed = False
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if not self.committed:
            self.rollback()
        self._saved = None

    def commit(self) -> None:
        self.committed = True
        self._saved = copy.copy(self.videos.rows)

    def rollback(self) -> None:
        if self._saved is not None:
            self.videos.rows = copy.copy(self._saved)
