"""The database schema, as SQLAlchemy Core tables (one metadata for every service).

Portable between MySQL/MariaDB (the system of record) and SQLite (the embedded default).
Instants are stored as UTC epoch microseconds in BIGINT columns: exact, ordered, and
arithmetic on them (the 30-second repeat rule) is the same integer math on both engines.
Money is DECIMAL(24, 4) on MySQL/MariaDB and exact decimal text on SQLite; counts are BIGINT
(the column types: sqltypes.py). Keys are chosen so that a video's or a seller's rows can
live on one shard (see DESIGN.md section 5).
"""

from __future__ import annotations

import sqlalchemy as sa

from services.common.sqltypes import BinaryString, EventId, Id, Money

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", Id, primary_key=True, autoincrement=True),
    sa.Column("username", BinaryString(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    # NULL while active; when an admin disabled the account (tokens refused, no log-in).
    sa.Column("disabled_at_us", sa.BigInteger, nullable=True),
)

videos = sa.Table(
    "videos",
    metadata,
    sa.Column("video_id", Id, primary_key=True, autoincrement=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("duration_sec", sa.BigInteger, nullable=False),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
)

# The play history: an append-only log, except that the archival of a closed, sealed month
# removes that month's rows (services/common/archive.py). play_id follows arrival order, which
# lets the batch find what arrived after a day was computed (late data) by an id watermark.
# On MySQL/MariaDB (migration 0014) the table is RANGE-partitioned by month on local_day
# (services/common/plays_partitions.py) and its primary key is (play_id, local_day), since a
# partitioned table's unique keys must hold the partition column; SQLite keeps play_id alone
# (it autoincrements only an INTEGER PRIMARY KEY). event_id's uniqueness lives in
# play_event_ids for the same reason.
plays = sa.Table(
    "plays",
    metadata,
    sa.Column("play_id", Id, primary_key=True, autoincrement=True),
    sa.Column("event_id", EventId(128), nullable=False, index=True),
    sa.Column("video_id", sa.BigInteger, nullable=False),
    sa.Column("viewer_id", sa.BigInteger, nullable=False),
    sa.Column("started_at_us", sa.BigInteger, nullable=False),
    # The local day (platform time zone) on which the playback started.
    sa.Column("local_day", sa.Date, nullable=False),
    sa.Column("start_position_sec", sa.BigInteger, nullable=False),
    sa.Column("end_position_sec", sa.BigInteger, nullable=False),
    sa.Column("received_at_us", sa.BigInteger, nullable=False),
    # Day-range scans of the batch, covering what the daily step reads.
    sa.Index(
        "ix_plays_day_scan",
        "local_day",
        "video_id",
        "viewer_id",
        "started_at_us",
        "event_id",
        "start_position_sec",
        "end_position_sec",
    ),
    # The 30-second repeat rule looks up a viewer's previous playback of a video.
    sa.Index("ix_plays_repeat", "video_id", "viewer_id", "started_at_us"),
    # The batch reads the plays just before a day (rules 2-3 across midnight) as one range.
    sa.Index("ix_plays_started", "started_at_us"),
)

# Every stored event_id, once (the idempotency key, DESIGN 2 "Playback"): written by ingest in
# the same transaction as the play. Kept when a month's plays are archived, so that a resent
# event is still known (migration 0014).
play_event_ids = sa.Table(
    "play_event_ids",
    metadata,
    sa.Column("event_id", EventId(128), primary_key=True),
    sa.Column("local_day", sa.Date, nullable=False),
)

# Months whose raw playbacks were archived to a file and removed from `plays`
# (services/common/archive.py). status ARCHIVING: marked (ingest already refuses the month),
# file not yet verified, every row still there; DELETING: the file verified and recorded
# (sha256, plays), rows being removed; ARCHIVED: done. kept_plays: the plays of the
# month's last evening that stay in `plays`, which the next month's first day reads (rules 2-3
# across midnight).
archived_months = sa.Table(
    "archived_months",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=True),
    sa.Column("plays", sa.BigInteger, nullable=True),
    sa.Column("kept_plays", sa.BigInteger, nullable=True),
    sa.Column("marked_at_us", sa.BigInteger, nullable=False),
    sa.Column("archived_at_us", sa.BigInteger, nullable=True),
)

# One row (id 1): every ingest transaction reads it with a shared lock before it reads
# archived_months; an archival updates it (exclusive) when it marks a month, so that it waits
# for the ingest transactions in flight and every later one sees the mark.
archive_fence = sa.Table(
    "archive_fence",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger, nullable=False),
)

# Each viewer's position per video; updates follow started_at order (then event_id).
resume_positions = sa.Table(
    "resume_positions",
    metadata,
    sa.Column("viewer_id", sa.BigInteger, primary_key=True),
    sa.Column("video_id", sa.BigInteger, primary_key=True),
    sa.Column("position_sec", sa.BigInteger, nullable=False),
    sa.Column("started_at_us", sa.BigInteger, nullable=False),
    sa.Column("event_id", EventId(128), nullable=False),
    sa.Column("updated_at_us", sa.BigInteger, nullable=False),
)

# Tier prices are data: a tier applies from `lower_bound` (the cumulative count before the
# view or ad view) upwards, for days on or after `effective_from`.
tier_prices = sa.Table(
    "tier_prices",
    metadata,
    sa.Column("kind", sa.String(8), primary_key=True),  # VIEW | AD
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("lower_bound", sa.BigInteger, primary_key=True),
    sa.Column("unit_price", Money(12), nullable=False),
)

RULE_EXCLUSION_COLUMNS = (
    "plays",
    "excluded_self_view",
    "excluded_overlap",
    "excluded_repeat",
    "excluded_cap",
    "excluded_stream_limit",  # migration 0015
)


def _rule_exclusion_columns() -> list[sa.Column]:
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

# Plays stored per local day, kept by every writer of `plays` in the writer's own transaction
# (services/common/play_counts.py), so that the batch learns which days got late data from a
# few rows per day instead of counting the history (DESIGN.md section 2 "Re-runs and late
# data"). A day's count is the sum over its slots: concurrent ingest transactions add to
# different slots and so do not queue on one row.
play_day_counts = sa.Table(
    "play_day_counts",
    metadata,
    sa.Column("local_day", sa.Date, primary_key=True),
    sa.Column("slot", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("plays", sa.BigInteger, nullable=False),
)

# How long read services may trust a data version they read (one row, id 1): written by the
# batch before it commits new days, read with the data version (services/common/dataversion.py).
data_publication = sa.Table(
    "data_publication",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("reader_max_age_ms", sa.BigInteger, nullable=False),
    sa.Column("published_at_us", sa.BigInteger, nullable=False),
)

# One row (id 1) that the primary's batch instances update every second and after each
# job's commit; read on a replica it tells how far behind the replica is (lag = now -
# beat_us) and whether it has applied a job's figures (seq; services/common/replicas.py).
replica_heartbeat = sa.Table(
    "replica_heartbeat",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("beat_us", sa.BigInteger, nullable=False),
)

# --- the ledger (DESIGN 2a, docs/ledger.md) ------------------------------------------------
# Months are stored as the DATE of their first day. Rows here are only ever inserted, except
# a payout's status, which moves once from PENDING to PAID or FAILED.

# One row per closed month, written last by the close's single transaction.
month_closings = sa.Table(
    "month_closings",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("closed_at_us", sa.BigInteger, nullable=False),
    sa.Column("closed_by", sa.BigInteger, nullable=False),
    sa.Column("sellers", sa.BigInteger, nullable=False),
    sa.Column("lines", sa.BigInteger, nullable=False),
    sa.Column("earnings", Money(), nullable=False),
    sa.Column("adjustment_lines", sa.BigInteger, nullable=False),
    sa.Column("adjustments", Money(), nullable=False),
    sa.Column("payouts_created", sa.BigInteger, nullable=False),
    sa.Column("payouts_krw", sa.BigInteger, nullable=False),
)

# A closed month's statement lines, frozen at close (per video, the month's exact figures).
closed_lines = sa.Table(
    "closed_lines",
    metadata,
    sa.Column("month", sa.Date, primary_key=True),
    sa.Column("video_id", sa.BigInteger, primary_key=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("views", sa.BigInteger, nullable=False),
    sa.Column("ad_views", sa.BigInteger, nullable=False),
    sa.Column("video_revenue", Money(), nullable=False),
    sa.Column("ad_revenue", Money(), nullable=False),
    sa.Index("ix_closed_lines_seller_month", "seller_id", "month"),
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

# Immutable, exact entries; a seller's balance is their sum and is stored nowhere else.
# kind: EARNING | ADJUSTMENT (video_id and original_month set) | PAYOUT | PAYOUT_REVERSAL
# (payout_id set). posted_month: the closing that posted it (a reversal: its payout's).
ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("entry_id", Id, primary_key=True, autoincrement=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("posted_month", sa.Date, nullable=False),
    sa.Column("original_month", sa.Date, nullable=True),
    sa.Column("video_id", sa.BigInteger, nullable=True),
    sa.Column("payout_id", sa.BigInteger, nullable=True),
    sa.Column("amount", Money(), nullable=False),
    sa.Column("posted_at_us", sa.BigInteger, nullable=False),
    sa.Index("ix_ledger_entries_seller_month", "seller_id", "posted_month", "entry_id"),
    # What the ledger holds per earlier closed month and video (the adjustments' basis).
    sa.Index("ix_ledger_entries_original", "original_month", "video_id"),
)

payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("payout_id", Id, primary_key=True, autoincrement=True),
    sa.Column("seller_id", sa.BigInteger, nullable=False),
    sa.Column("month", sa.Date, nullable=False),
    sa.Column("amount_krw", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(8), nullable=False),  # PENDING | PAID | FAILED
    sa.Column("reference", sa.String(128), nullable=True),
    sa.Column("created_at_us", sa.BigInteger, nullable=False),
    sa.Column("updated_at_us", sa.BigInteger, nullable=False),
    # One payout per seller per closing.
    sa.UniqueConstraint("seller_id", "month"),
)

# The minimum payout is data: the row in force on the closed month's last day applies.
payout_minimums = sa.Table(
    "payout_minimums",
    metadata,
    sa.Column("effective_from", sa.Date, primary_key=True),
    sa.Column("minimum_krw", sa.BigInteger, nullable=False),
)
