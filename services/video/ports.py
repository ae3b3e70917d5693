"""What the video use cases (service.py: create, get, list, resume position) need from
storage, as protocols: the SQL adapter (sql_adapter.py, over repository.py) and the
in-memory fake of the unit tests (tests/fakes/video.py) both answer them. Plain values; no
SQL, no gRPC. The ingest (ingest.py) stores through `PlayLog`: the SQL one is
sql_play_log.py, the fake tests/fakes/video.py's FakePlayLog."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import NamedTuple, Protocol

from services.common.unit_of_work import Transaction


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


class UnitOfWork(Transaction, Protocol):
    """One transaction around a use case: `with uow:` begins it; `commit()` makes its writes
    durable; leaving the block without a commit rolls it back (reads just end). One instance
    serves one use case call at a time (build one per call)."""

    @property
    def videos(self) -> Videos: ...


# --- the play log (the ingest's storage) ----------------------------------------------------
# A play row is a plain tuple, cheap to build 5,000 times a call: (event_id, video_id,
# viewer_id, started_at_us, local_day as an ISO date string, start_position_sec,
# end_position_sec). A play's content is what a repeated event_id must match to be a
# duplicate: (video_id, viewer_id, started_at_us, start_position_sec, end_position_sec).
PlayRow = tuple[str, int, int, int, str, int, int]


class StoreOutcome(NamedTuple):
    inserted: set[str]
    """The event_ids this call stored."""
    stored: dict[str, tuple[int, ...]]
    """Of the others, those stored before: event_id -> the stored content."""
    archived: set[str]
    """The event_ids refused because their local day is in an archived month (not stored)."""


class PlayLog(Protocol):
    """What the ingest needs from storage. Each call is its own transaction (or read)."""

    def durations(self, video_ids: list[int]) -> dict[int, int]:
        """video_id -> duration_sec, for those of `video_ids` that exist."""
        ...

    def existing_accounts(self, account_ids: list[int]) -> set[int]:
        """Those of `account_ids` that exist."""
        ...

    def store(self, rows: list[PlayRow], durations: Mapping[int, int], received_at_us: int) -> StoreOutcome:
        """Stores the rows (distinct event_ids, sorted by event_id) in one transaction: a row
        whose local day is in an archived month is refused; a row whose event_id is new is
        inserted, received at `received_at_us`, and adds one to its local day's play count;
        the newest inserted playback of each (viewer, video), by (started_at_us, event_id),
        becomes its resume position (plays.resume_position of its end and the video's
        duration in `durations`) unless the stored one is newer. Rows whose event_id exists
        already are left as they are."""
        ...
