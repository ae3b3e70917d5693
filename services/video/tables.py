"""The video service's tables: the catalogue, the play history and what ingest keeps beside it
(event ids, resume positions, per-day counts, the archive's records). Written only by
services/video; others read them through services/video/published.py."""

from __future__ import annotations

import sqlalchemy as sa

from services.common.sqltypes import EventId, Id
from services.common.tables import metadata

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
# removes that month's rows (services/video/archive.py). play_id follows arrival order, which
# lets the batch find what arrived after a day was computed (late data) by an id watermark.
# On MySQL/MariaDB (migration 0014) the table is RANGE-partitioned by month on local_day
# (services/video/partitions.py) and its primary key is (play_id, local_day), since a
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
# (services/video/archive.py). status ARCHIVING: marked (ingest already refuses the month),
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

# Plays stored per local day, kept by every writer of `plays` in the writer's own transaction
# (services/video/play_counts.py), so that the batch learns which days got late data from a
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
