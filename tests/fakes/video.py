"""In-memory fakes of services/video/ports.py for the video use-case tests (tests/unit/
test_video_use_cases.py). They keep the SQL adapter's contract (checked against it by
tests/integration/test_video_ports_contract.py): growing ids, a seller's videos by id, writes
kept only when the unit of work commits; FakePlayLog, the ingest's play log (tests/unit/
test_ingest_use_cases.py; checked by tests/integration/test_ingest_ports_contract.py)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping

from domain.plays import resume_position
from services.video.ports import PlayRow, StoredResume, StoreOutcome, Video
from tests.fakes.unit_of_work import SnapshotUnitOfWork


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


class FakeUnitOfWork(SnapshotUnitOfWork):
    """ports.UnitOfWork over FakeVideos: `committed` says whether a commit happened; leaving
    the block without one puts the videos back as they were at its start (ids stay used)."""

    def __init__(self, videos: FakeVideos | None = None) -> None:
        super().__init__()
        self.videos = videos or FakeVideos()

    def _snapshot(self) -> dict[int, Video]:
        return copy.copy(self.videos.rows)

    def _restore(self, saved: dict[int, Video]) -> None:
        self.videos.rows = copy.copy(saved)


class FakePlayLog:
    """ports.PlayLog in memory. `videos`: video_id -> duration_sec; `accounts`: the account
    ids; `archived_months`: 'YYYY-MM' months that accept no more playbacks. The first writer
    of an event_id wins; `plays` holds event_id -> (content, local_day), `resumes` (viewer_id,
    video_id) -> (position_sec, started_at_us, event_id, updated_at_us), `day_counts` local
    day -> plays stored. `stores` counts the store calls."""

    def __init__(
        self,
        videos: Mapping[int, int] | None = None,
        accounts: set[int] | None = None,
        archived_months: set[str] | None = None,
    ) -> None:
        self.videos = dict(videos or {})
        self.accounts = set(accounts or ())
        self.archived_months = set(archived_months or ())
        self.plays: dict[str, tuple[tuple[int, ...], str]] = {}
        self.resumes: dict[tuple[int, int], tuple[int, int, str, int]] = {}
        self.day_counts: Counter[str] = Counter()
        self.stores = 0

    def durations(self, video_ids: list[int]) -> dict[int, int]:
        return {v: self.videos[v] for v in video_ids if v in self.videos}

    def existing_accounts(self, account_ids: list[int]) -> set[int]:
        return {a for a in account_ids if a in self.accounts}

    def store(self, rows: list[PlayRow], durations: Mapping[int, int], received_at_us: int) -> StoreOutcome:
        self.stores += 1
        inserted: set[str] = set()
        stored: dict[str, tuple[int, ...]] = {}
        archived: set[str] = set()
        for event_id, video_id, viewer_id, started_at_us, day, start, end in rows:
            if day[:7] in self.archived_months:
                archived.add(event_id)
            elif event_id in self.plays:
                stored[event_id] = self.plays[event_id][0]
            else:
                self.plays[event_id] = ((video_id, viewer_id, started_at_us, start, end), day)
                inserted.add(event_id)
                self.day_counts[day] += 1
                key = (viewer_id, video_id)
                current = self.resumes.get(key)
                # DESIGN 2 "Playback": the newest by started_at, then event_id, wins.
                if current is None or (started_at_us, event_id) > (current[1], current[2]):
                    position = resume_position(end, durations[video_id])
                    self.resumes[key] = (position, started_at_us, event_id, received_at_us)
        return StoreOutcome(inserted, stored, archived)

    def resume_position(self, viewer_id: int, video_id: int) -> StoredResume | None:
        found = self.resumes.get((viewer_id, video_id))
        return None if found is None else StoredResume(found[0], found[3])
