"""Use case: a video's audience retention over a range of local days (DESIGN.md section 2c,
docs/statistics_settlement.md "Audience retention").

The batch stores one row per (video, day) with the day's counted views and 100 counts
(domain/retention.py); a range is those rows summed point by point. The refusals are the
video series' (service.get_video_stats): the arguments' shape, a signed-in seller or admin,
VideoNotFound, the video's owner or an admin, then the range (not before `from`, at most
MAX_POINTS days: service.series_periods). Read like the series, at one pinned data state on
the read path's connection (a replica when configured).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from domain.errors import VideoNotFound, require_positive_id
from domain.periods import Period, parse_day
from domain.retention import sum_points
from services.common.auth import Principal, require_role, require_self_or_admin
from services.readpath.readside import ReadSide
from services.statistics.ports import StatisticsReader
from services.statistics.repository import SqlStatisticsReader
from services.statistics.service import series_periods


@dataclasses.dataclass(frozen=True)
class VideoRetention:
    video_id: int
    first: dt.date
    last: dt.date
    views: int
    points: tuple[int, ...]  # 100 counts
    data_through: dt.date | None


def get_video_retention(
    read: ReadSide, principal: Principal, video_id: int, from_text: str, to_text: str
) -> VideoRetention:
    require_positive_id(video_id, "video_id")
    first = parse_day(from_text, "from")
    last = parse_day(to_text, "to")
    require_role(principal, "SELLER", "ADMIN")
    return read.read_at(
        read.data_state(),
        lambda conn, state: read_video_retention(
            SqlStatisticsReader(conn), principal, video_id, first, last, state.data_through
        ),
    )


def read_video_retention(
    reader: StatisticsReader,
    principal: Principal,
    video_id: int,
    first: dt.date,
    last: dt.date,
    data_through: dt.date | None,
) -> VideoRetention:
    """VideoNotFound, then who may read it, then the range; the days' rows summed."""
    seller_id = reader.video_seller(video_id)
    if seller_id is None:
        raise VideoNotFound(f"no video {video_id}", field="video_id")
    require_self_or_admin(principal, seller_id, "video's statistics")
    series_periods(Period.DAILY, first, last)
    days = reader.daily_retention(video_id, first, last)
    views = sum(day_views for day_views, _ in days)
    return VideoRetention(video_id, first, last, views, sum_points(points for _, points in days), data_through)
