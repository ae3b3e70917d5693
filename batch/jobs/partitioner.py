"""Splits the video-id space into N named, contiguous, non-overlapping ranges."""

from __future__ import annotations

from batch.jobs.model import MAX_VIDEO_ID, Partition


def plan_partitions(video_id_lo: int, video_id_hi: int, count: int) -> list[Partition]:
    """N ranges of about equal width over [video_id_lo, video_id_hi) (the ids seen today).

    The first range starts at 0 and the last ends at MAX_VIDEO_ID, so the plan, fixed once
    per instance, still covers videos created after it was made. Fewer than `count` ranges
    when there are fewer ids than that; one range when there are none.
    """
    if count < 1:
        raise ValueError("partition count must be at least 1")
    span = max(0, video_id_hi - video_id_lo)
    count = max(1, min(count, span))
    bounds = [video_id_lo + (span * i) // count for i in range(count + 1)]
    bounds[0] = 0
    bounds[-1] = MAX_VIDEO_ID
    width = len(str(count - 1))
    return [Partition(key=f"p{i:0{width}d}", video_id_lo=bounds[i], video_id_hi=bounds[i + 1]) for i in range(count)]
