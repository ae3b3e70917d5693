"""The batch's tables: the figures it computes (daily and period rows, the stream limit's
plays, the frozen copies of closed days) and what it records about its work (computed days,
the publication window). Written only by the batch; the read services read them through
batch/published.py. The job repository's own tables: batch/jobs/tables.py."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.sqltypes import EventId, Money
from services.common.tables import metadata

RULE_EXCLUSION_COLUMNS = (
    "plays",
    "excluded_self_view",
    "excluded_overlap",
    "excluded_repeat",
    "excluded_cap",
    "excluded_stream_limit",  # migration 0015
)


def _rule_exclusion_columns() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in RULE_EXCLUSION_COLUMNS]


# One row per (video, local day) with plays: the batch's output and every figure's source.
daily_video_stats = sa.Table(
    "daily_video_stats",
    metadata,
    sa.Column("video_id", sa.BigInteger, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("views", sa.BigInteger, nullable=False),
    sa.Column("watch_time_sec", sa.BigInteger, nullable=False),
    sa.Column("ad_views", sa.BigInteger, nullable=False),
    # Running totals at the end of the day, since the video's first playback.
    sa.Column("cum_views", sa.BigInteger, nullable=False),
    sa.Column("cum_ad_views", sa.BigInteger, nullable=False),
    sa.Column("video_revenue", Money(), nullable=False),
    sa.Column("ad_revenue", Money(), nullable=False),
    sa.Column("job_execution_id", sa.BigInteger, nullable=True),
    # Playbacks read and, of those, how many each counted-view rule excluded (DESIGN 2
    # "Counted view" 1-5; the strongest rule that applies, see docs/rules.md).
    *_rule_exclusion_columns(),
    sa.Index("ix_daily_video_stats_seller_day", "seller_id", "day"),
)

# Weekly (ISO week, named by its Monday) and monthly sums of daily_video_stats.
period_video_stats = sa.Table(
    "period_video_stats",
    metadata,
    sa.Column("period", sa.String(8), primary_key=True),  # WEEKLY | MONTHLY
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("video_id", sa.BigInteger, primary_key=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("views", sa.BigInteger, nullable=False),
    sa.Column("watch_time_sec", sa.BigInteger, nullable=False),
    sa.Column("ad_views", sa.BigInteger, nullable=False),
    sa.Column("video_revenue", Money(), nullable=False),
    sa.Column("ad_revenue", Money(), nullable=False),
    # Playbacks read and, of those, how many each counted-view rule excluded (DESIGN 2
    # "Counted view" 1-5; the strongest rule that applies, see docs/rules.md).
    *_rule_exclusion_columns(),
    sa.Index("ix_period_video_stats_seller", "seller_id", "period", "period_start"),
)

# The plays of a local day over the stream limit (DESIGN 2 "Counted view" 5), whatever rule
# they are finally attributed to: written by the batch's viewer-keyed step
# (batch/steps/streams.py) once per day before the day's partitions by video range, which
# read it; rewritten for the day each time the day is computed (migration 0015).
stream_limited_plays = sa.Table(
    "stream_limited_plays",
    metadata,
    sa.Column("local_day", sa.Date, primary_key=True),
    sa.Column("video_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("viewer_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("started_at_us", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("event_id", EventId(128), primary_key=True),
)

# Which local days the batch has computed, up to which play_id it had seen then, and how
# many of the day's plays its partitions read (late-data detection, batch/steps/days.py).
computed_days = sa.Table(
    "computed_days",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("play_id_watermark", sa.BigInteger, nullable=False),
    # NULL: computed before migration 0004 (count unknown), so treated as stale.
    sa.Column("plays_read", sa.BigInteger, nullable=True),
    sa.Column("computed_at_us", sa.BigInteger, nullable=False),
    sa.Column("job_execution_id", sa.BigInteger, nullable=True),
)

# How long read services may trust a data version they read (one row, id 1): written by the
# batch before it commits new days, read with the data version (services/readpath/dataversion.py).
data_publication = sa.Table(
    "data_publication",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("reader_max_age_ms", sa.BigInteger, nullable=False),
    sa.Column("published_at_us", sa.BigInteger, nullable=False),
)

# The daily rows of a closed day as they were at close, copied by the batch just before it
# first recomputes that day (copy on write: a close copies nothing per day). `frozen_days`
# says which days were copied; a closed day not in it still has its daily rows unchanged.
frozen_days = sa.Table(
    "frozen_days",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("frozen_at_us", sa.BigInteger, nullable=False),
)

frozen_daily_stats = sa.Table(
    "frozen_daily_stats",
    metadata,
    sa.Column("video_id", sa.BigInteger, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("views", sa.BigInteger, nullable=False),
    sa.Column("ad_views", sa.BigInteger, nullable=False),
    sa.Column("video_revenue", Money(), nullable=False),
    sa.Column("ad_revenue", Money(), nullable=False),
    sa.Index("ix_frozen_daily_stats_seller_day", "seller_id", "day"),
)

# Audience retention (DESIGN 2c, docs/statistics_settlement.md "Audience retention"): one row
# per (video, local day) the batch computed, written in the same transaction as the day's
# daily_video_stats row: `views`, the day's counted views, and `point_deltas`, the changes of
# the 100 counts (domain/retention.py: `point:delta` pairs, the count of point k the sum of
# the deltas up to k). Compact (one narrow row a day); a range is one primary-key range read
# (migrations 0021, 0022).
video_daily_retention = sa.Table(
    "video_daily_retention",
    metadata,
    sa.Column("video_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("views", sa.BigInteger, nullable=False),
    sa.Column("point_deltas", sa.Text, nullable=False),
)
