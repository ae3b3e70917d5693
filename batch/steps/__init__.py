"""Set-based SQL steps of the batch (the compute core): see batch/steps/daily.py."""

from batch.computed_days import days_to_compute
from batch.steps.daily import BadPlayRow, StepCounts, compute_day_partition, tier_tables
from batch.steps.days import current_play_watermark, finish_day, video_id_bounds
from batch.steps.frozen import freeze_closed_day
from batch.steps.streams import compute_stream_limit

__all__ = [
    "BadPlayRow",
    "StepCounts",
    "compute_day_partition",
    "compute_stream_limit",
    "current_play_watermark",
    "days_to_compute",
    "finish_day",
    "freeze_closed_day",
    "tier_tables",
    "video_id_bounds",
]
