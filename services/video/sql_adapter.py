"""The SQL adapter of ports.py: the video use cases' storage over repository.py's functions
(unchanged). Its own module because repository.py, with the ingest's SQL, is near the
400-line limit."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.db import SqlTransaction
from services.video import repository
from services.video.ports import StoredResume, Video


def _video(row: sa.Row) -> Video:
    return Video(int(row.video_id), int(row.seller_id), row.title, int(row.duration_sec), int(row.created_at_us))


class SqlVideos:
    """ports.Videos on the unit of work's connection."""

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def add(self, *, seller_id: int, title: str, duration_sec: int, created_at_us: int) -> int:
        return repository.insert_video(
            self._conn, seller_id=seller_id, title=title, duration_sec=duration_sec, created_at_us=created_at_us
        )

    def by_id(self, video_id: int) -> Video | None:
        row = repository.video_by_id(self._conn, video_id)
        return None if row is None else _video(row)

    def of_seller(self, seller_id: int, *, after_video_id: int, limit: int) -> list[Video]:
        rows = repository.videos_of_seller(self._conn, seller_id, after_video_id=after_video_id, limit=limit)
        return [_video(row) for row in rows]

    def resume_position(self, viewer_id: int, video_id: int) -> StoredResume | None:
        row = repository.resume_position(self._conn, viewer_id, video_id)
        return None if row is None else StoredResume(int(row.position_sec), int(row.updated_at_us))


class SqlUnitOfWork(SqlTransaction):
    """ports.UnitOfWork: one transaction of `engine` (engine.begin()'s), its videos."""

    @property
    def videos(self) -> SqlVideos:
        return SqlVideos(self.connection)
