"""The realtime estimate's rules (domain/realtime.py) on hand-worked instants, and its use cases
(services/statistics/realtime.py) on in-memory counts: who may read, the stream's pushes and
its admission."""

from __future__ import annotations

import datetime as dt

import pytest

from domain import realtime
from domain.errors import NotOwner, RoleNotAllowed, TooManyRequests, VideoNotFound
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.statistics import realtime as use_cases
from services.video.realtime import key

# 2026-12-07 10:30:25.5 UTC
NOW = FixedClock.at(dt.datetime(2026, 12, 7, 10, 30, 25, 500000, tzinfo=dt.UTC))
MIN = 60_000_000
HOUR = 60 * MIN
THIS_MINUTE = NOW.instant_us - 25_500_000
THIS_HOUR = THIS_MINUTE - 30 * MIN
SELLER = Principal(7, "s", "SELLER")


def test_a_playback_counts_in_the_minute_and_hour_it_started():
    counts = realtime.per_minute(
        [
            THIS_MINUTE,  # this minute's first microsecond
            THIS_MINUTE + MIN - 1,  # its last
            THIS_MINUTE - 59 * MIN,  # the oldest of the 60 minutes
            THIS_MINUTE - 60 * MIN,  # an hour ago: in the hours only
            THIS_HOUR - 47 * HOUR,  # the oldest of the 48 hours
            THIS_HOUR - 47 * HOUR - 1,  # before the window
            THIS_MINUTE + MIN,  # next minute: not shown yet
        ]
    )
    figures = realtime.figures(NOW.instant_us, counts)
    assert len(figures.minutes) == 60 and len(figures.hours) == 48
    assert figures.minutes[-1] == realtime.Point(THIS_MINUTE, 2)
    assert figures.minutes[0] == realtime.Point(THIS_MINUTE - 59 * MIN, 1)
    assert figures.last_60_minutes == 3
    # 10:30 twice in 10:00; 09:31 (the oldest minute) and 09:30 (an hour ago) in 09:00
    assert figures.hours[-1] == realtime.Point(THIS_HOUR, 2)
    assert figures.hours[-2] == realtime.Point(THIS_HOUR - HOUR, 2)
    assert figures.hours[0] == realtime.Point(THIS_HOUR - 47 * HOUR, 1)
    assert figures.last_48_hours == 5


def test_the_window_starts_47_hours_before_the_current_hour():
    assert realtime.window_start(NOW.instant_us) == THIS_HOUR - 47 * HOUR
    assert realtime.window_end(NOW.instant_us) == THIS_MINUTE + MIN
    assert realtime.in_window(THIS_HOUR - 47 * HOUR, NOW.instant_us)
    assert not realtime.in_window(THIS_HOUR - 47 * HOUR - 1, NOW.instant_us)


def test_a_self_view_is_not_counted():
    assert not realtime.is_counted(viewer_id=7, seller_id=7)
    assert realtime.is_counted(viewer_id=8, seller_id=7)


def test_a_sellers_keys_and_its_videos_share_one_cluster_hash_tag():
    hour = THIS_HOUR
    assert key(7, None, hour) == f"psrt:{{7}}:s:{hour // 1_000_000}"
    assert key(7, 42, hour) == f"psrt:{{7}}:v42:{hour // 1_000_000}"


class _Counts:
    """RealtimeCounts in memory: (seller_id, video_id or None) -> per-minute counts; the
    catalogue video_id -> seller_id."""

    def __init__(self, sellers: dict[int, int] | None = None) -> None:
        self.by_scope: dict[tuple[int, int | None], dict[int, int]] = {}
        self.sellers = sellers or {}
        self.reads = 0

    def video_seller(self, video_id: int) -> int | None:
        return self.sellers.get(video_id)

    def per_minute(self, seller_id: int, video_id: int | None, now_us: int) -> dict[int, int]:
        self.reads += 1
        return dict(self.by_scope.get((seller_id, video_id), {}))


class _Read:
    """The part of ReadSide the realtime use cases use: the clock."""

    clock = NOW


def test_a_seller_reads_their_own_figures_and_no_one_elses():
    counts = _Counts()
    counts.by_scope[(7, None)] = {THIS_MINUTE: 4}
    figures = use_cases.seller_realtime(_Read(), counts, SELLER, 7)
    assert figures.last_60_minutes == 4
    with pytest.raises(NotOwner):
        use_cases.seller_realtime(_Read(), counts, SELLER, 8)
    with pytest.raises(RoleNotAllowed):
        use_cases.seller_realtime(_Read(), counts, Principal(9, "v", "VIEWER"), 9)
    assert use_cases.seller_realtime(_Read(), counts, Principal(1, "a", "ADMIN"), 7).last_60_minutes == 4


def test_a_video_is_read_by_its_seller_and_an_unknown_video_is_not_found():
    sellers_read, counts = _Read(), _Counts({42: 7})
    counts.by_scope[(7, 42)] = {THIS_MINUTE - MIN: 2}
    figures, seller_id = use_cases.video_realtime(sellers_read, counts, SELLER, 42)
    assert (figures.minutes[-2].playbacks, seller_id) == (2, 7)
    with pytest.raises(NotOwner):
        use_cases.video_realtime(sellers_read, counts, Principal(8, "t", "SELLER"), 42)
    with pytest.raises(VideoNotFound):
        use_cases.video_realtime(sellers_read, counts, SELLER, 43)


def test_the_stream_pushes_a_change_and_resends_a_quiet_figure():
    counts = _Counts()
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 2:  # a playback arrives during the second second
            counts.by_scope[(7, None)] = {THIS_MINUTE: 1}
        return len(waits) <= 6

    pushed = list(use_cases.watch_seller(_Read(), counts, SELLER, 7, wait=wait, poll_sec=1.0, resend_sec=3.0))
    # now (0), the change after the 2nd poll, then unchanged 3 polls later (the resend)
    assert [f.last_60_minutes for f in pushed] == [0, 1, 1]
    assert counts.reads == 7


def test_the_stream_refuses_a_reader_before_it_starts():
    with pytest.raises(NotOwner):
        next(use_cases.watch_seller(_Read(), _Counts(), SELLER, 8, wait=lambda s: True))


def test_streams_are_limited_per_caller_and_per_instance():
    slots = use_cases.StreamSlots(max_streams=3, per_caller=2)
    other = Principal(8, "t", "SELLER")
    with slots.admit(SELLER), slots.admit(SELLER):
        with pytest.raises(TooManyRequests, match="per account"), slots.admit(SELLER):
            pass
        with slots.admit(other):
            with pytest.raises(TooManyRequests, match="instance"), slots.admit(Principal(9, "u", "SELLER")):
                pass
    with slots.admit(SELLER), slots.admit(SELLER):  # released on leaving
        pass
