"""What the video use cases (service.py: create, get, list, resume position) need from
storage, as protocols: the SQL adapter (sql_adapter.py, over repository.py) and the
in-memory fake of the unit tests (tests/fakes/video.py) both answer them. Plain values; no
SQL, no gRPC. (The ingest, ingest.py, keeps its own SQL path.)"""

from __future__ import annotations

import dataclasses
from types import TracebackType
from typing import NamedTuple, Protocol, Self


@dataclasses.dataclass(frozen=True)
class Video:
    video_id: int
    seller_id: int
    title: str
    duration_sec: int
    created_at_us: int


class StoredResume(NamedTuple):
    position_sec: int
    updated_at_us: int


class Videos(Protocol):
    def add(self, *, seller_id: int, title: str, duration_sec: int, created_at_us: int) -> int:
        """The new video's id (ids only grow)."""
        ...

    def by_id(self, video_id: int) -> Video | None: ...

    def of_seller(self, seller_id: int, *, after_video_id: int, limit: int) -> list[Video]:
        """The seller's videos with video_id > after_video_id, by video_id, at most `limit`."""
        ...

    def resume_position(self, viewer_id: int, video_id: int) -> StoredResume | None:
        """Where the viewer's last playback of the video ended; None if they never played it."""
        ...


class UnitOfWork(Protocol):
    """One transaction around a use case: `with uow:` begins it; `commit()` makes its writes
    durable; leaving the block without a commit rolls it back (reads just end). One instance
    serves one use case call at a time (build one per call)."""

    @property
    def videos(self) -> Videos: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...
