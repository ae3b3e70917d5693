"""Archival of a closed, sealed month's raw playbacks (issue #17 item 5; docs/scaling.md,
"History that grows"): `archive_month` writes the month's plays to a compressed file with a
checksum and removes them from `plays`; `restore_month` puts them back, identical.

What stays: every statistic (daily_video_stats, period_video_stats, the frozen and ledger
tables, play_day_counts: the archived days' counts stay current, services/common/play_counts.py)
and every event id (play_event_ids: a resent event is still known). What goes: the rows of
`plays`, except the month's last evening: the plays that started within max(30 s, duration/2)
of the next month's first local midnight stay, because the batch reads them when it computes
that first day (DESIGN 2 rules 2-3 across midnight: a repeat or an overlap of the previous
evening's playback; batch/steps/daily.py reads the same window).

Contract, and where it is enforced:
- only a month that is closed (month_closings) and sealed (no day up to its last one is new or
  stale, computed_days.days_to_compute) is archived, and months are archived oldest first
  (every earlier month with plays is archived): so no archived day, and no day whose running
  totals an archived day fed, is ever recomputed from missing plays;
- from the mark on (archived_months, status ARCHIVING), ingest rejects the month's playbacks
  (services/video/ingest.py): the mark's transaction updates archive_fence, which every ingest
  transaction reads with a shared lock, so it waits for the ingest transactions in flight and
  every later one sees the mark; an archived month accepts no more late data;
- the file is written, flushed, renamed into place and read back (count and checksum) before
  any row is deleted; the delete is one transaction that also checks what is left; a killed
  archival leaves either every row (rerun it) or the finished archive;
- re-runs are idempotent: archiving an archived month, or restoring a month that is not
  archived, changes nothing.

The file: `plays-YYYY-MM.jsonl.gz`, one JSON array per play in play_id order
(ARCHIVE_COLUMNS), UTF-8, "\\n" after each; `sha256` is over the uncompressed bytes, stored in
archived_months and in `plays-YYYY-MM.json` beside the file.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.common.computed_days import days_to_compute
from services.common.errors import Conflict, NotFound, NotReady
from services.common.periods import day_bounds_us, month_end, month_name, next_month
from services.common.schema import archive_fence, archived_months, month_closings, plays, videos

ARCHIVE_COLUMNS = (
    "play_id",
    "event_id",
    "video_id",
    "viewer_id",
    "started_at_us",
    "local_day",
    "start_position_sec",
    "end_position_sec",
    "received_at_us",
)
ARCHIVING, ARCHIVED = "ARCHIVING", "ARCHIVED"
# DESIGN 2 "Counted view" rules 2-3 (the batch's own constants live in batch/rules.py, which
# this shared module may not import): a repeat starts < 30 s after its previous playback, an
# overlap < watch time / 2 <= duration / 2 after it (players go no faster than 2x).
_REPEAT_WINDOW_US = 30_000_000
_MAX_SPEED = 2
_CHUNK = 5_000


class MonthNotArchivable(NotReady):
    """The month is not closed, not sealed, or an earlier month is not archived yet."""


class ArchiveMismatch(Conflict):
    """The file or the table is not what the archive recorded: nothing was changed."""


@dataclass(frozen=True)
class ArchiveResult:
    month: str
    status: str
    path: Path
    sha256: str
    plays: int  # plays of the month in the file
    kept_plays: int  # of those, the plays of its last evening that stay in `plays`
    changed: bool  # False: it was already so (an idempotent re-run)


def archive_path(directory: Path, month: dt.date) -> Path:
    return Path(directory) / f"plays-{month_name(month)}.jsonl.gz"


def archived_days(conn: sa.Connection) -> set[dt.date]:
    """Every local day of the archived (or being archived) months."""
    out: set[dt.date] = set()
    for month in conn.execute(sa.select(archived_months.c.month)).scalars():
        day, last = month, month_end(month)
        while day <= last:
            out.add(day)
            day += dt.timedelta(days=1)
    return out


def archived_month_names(conn: sa.Connection) -> list[str]:
    return [month_name(m) for m in conn.execute(sa.select(archived_months.c.month).order_by("month")).scalars()]


def archive_month(engine: sa.Engine, month: dt.date, directory: Path, *, zone: ZoneInfo) -> ArchiveResult:
    """Archives `month` (its first day) to `directory`; see the module's contract."""
    month = month.replace(day=1)
    path = archive_path(directory, month)
    with engine.connect() as conn:
        record = _record(conn, month)
    if record is not None and record.status == ARCHIVED:
        return ArchiveResult(month_name(month), ARCHIVED, path, record.sha256, record.plays, record.kept_plays, False)
    if record is None:
        with engine.connect() as conn:
            _require_archivable(conn, month)
        _mark(engine, month, path)
    with engine.connect() as conn:
        try:
            _require_archivable(conn, month)  # again: a late play may have come before the mark
        except MonthNotArchivable:
            conn.rollback()
            with engine.begin() as unmark:
                unmark.execute(sa.delete(archived_months).where(archived_months.c.month == month))
            raise
        rows = _month_plays(conn, month)
        kept = _evening_play_ids(conn, month, rows, zone)
    path.parent.mkdir(parents=True, exist_ok=True)
    sha256 = _write(path, rows)
    if _read_checked(path, sha256, len(rows)) != rows:
        raise ArchiveMismatch(f"{path}: read back differs from the rows written; nothing was deleted")
    _write_manifest(path, month, sha256, len(rows))
    removed = [r[0] for r in rows if r[0] not in kept]
    first, last = month, month_end(month)
    with engine.begin() as conn:
        for start in range(0, len(removed), _CHUNK):
            conn.execute(
                sa.delete(plays).where(
                    plays.c.local_day >= first,
                    plays.c.local_day <= last,
                    plays.c.play_id.in_(removed[start : start + _CHUNK]),
                )
            )
        left = conn.execute(
            sa.select(sa.func.count()).select_from(plays).where(plays.c.local_day >= first, plays.c.local_day <= last)
        ).scalar_one()
        if left != len(kept):
            raise ArchiveMismatch(
                f"{month_name(month)}: {left} plays left after the delete, expected {len(kept)} kept;"
                " rolled back, nothing deleted: run the archival again"
            )
        conn.execute(
            sa.update(archived_months)
            .where(archived_months.c.month == month)
            .values(
                status=ARCHIVED,
                sha256=sha256,
                plays=len(rows),
                kept_plays=len(kept),
                archived_at_us=time.time_ns() // 1000,
                file_name=path.name,
            )
        )
    return ArchiveResult(month_name(month), ARCHIVED, path, sha256, len(rows), len(kept), True)


def restore_month(engine: sa.Engine, month: dt.date, directory: Path) -> ArchiveResult:
    """Puts an archived month's plays back, identical (same play_id and every column), after
    checking the file's checksum and count against archived_months; then the month is no
    longer archived (ingest and the batch take it again). Not archived: nothing to do."""
    month = month.replace(day=1)
    path = archive_path(directory, month)
    with engine.connect() as conn:
        record = _record(conn, month)
    if record is None:
        return ArchiveResult(month_name(month), "NOT_ARCHIVED", path, "", 0, 0, False)
    if record.status == ARCHIVING:  # marked, rows never deleted: only the mark goes
        with engine.begin() as conn:
            conn.execute(sa.delete(archived_months).where(archived_months.c.month == month))
        return ArchiveResult(month_name(month), "NOT_ARCHIVED", path, "", 0, 0, True)
    if not path.exists():
        raise NotFound(f"{path}: no archive file for {month_name(month)} (archived as {record.file_name})")
    rows = _read_checked(path, record.sha256, record.plays)
    first, last = month, month_end(month)
    with engine.begin() as conn:
        present = set()
        for start in range(0, len(rows), _CHUNK):
            ids = [r[0] for r in rows[start : start + _CHUNK]]
            present.update(
                conn.execute(
                    sa.select(plays.c.play_id).where(
                        plays.c.local_day >= first, plays.c.local_day <= last, plays.c.play_id.in_(ids)
                    )
                ).scalars()
            )
        missing = [dict(zip(ARCHIVE_COLUMNS, r, strict=True)) for r in rows if r[0] not in present]
        for row in missing:
            row["local_day"] = dt.date.fromisoformat(row["local_day"])
        for start in range(0, len(missing), _CHUNK):
            conn.execute(sa.insert(plays), missing[start : start + _CHUNK])
        total = conn.execute(
            sa.select(sa.func.count()).select_from(plays).where(plays.c.local_day >= first, plays.c.local_day <= last)
        ).scalar_one()
        if total != record.plays:
            raise ArchiveMismatch(
                f"{month_name(month)}: {total} plays after the restore, the archive holds {record.plays}; rolled back"
            )
        conn.execute(sa.delete(archived_months).where(archived_months.c.month == month))
    return ArchiveResult(month_name(month), "RESTORED", path, record.sha256, record.plays, len(present), True)


# --- the steps ------------------------------------------------------------------------------


def _record(conn: sa.Connection, month: dt.date) -> sa.Row | None:
    return conn.execute(sa.select(archived_months).where(archived_months.c.month == month)).first()


def _require_archivable(conn: sa.Connection, month: dt.date) -> None:
    name = month_name(month)
    closed = conn.execute(sa.select(month_closings.c.month).where(month_closings.c.month == month)).first()
    if closed is None:
        raise MonthNotArchivable(f"{name} is not closed: only a closed month's playbacks are archived")
    pending = [d for d in days_to_compute(conn, through=month_end(month)) if d <= month_end(month)]
    if pending:
        shown = ", ".join(str(d) for d in pending[:5]) + (" ..." if len(pending) > 5 else "")
        raise MonthNotArchivable(
            f"{name} is not sealed: days up to its end are not computed or are stale ({shown}); run the batch first"
        )
    counts = sa.table("play_day_counts", sa.column("local_day", sa.Date), sa.column("plays", sa.BigInteger))
    earlier = {
        d.replace(day=1)
        for d in conn.execute(
            sa.select(counts.c.local_day).where(counts.c.local_day < month, counts.c.plays > 0).distinct()
        ).scalars()
    }
    done = set(conn.execute(sa.select(archived_months.c.month).where(archived_months.c.status == ARCHIVED)).scalars())
    unarchived = sorted(earlier - done)
    if unarchived:
        raise MonthNotArchivable(
            f"{name}: earlier months with plays are not archived ({', '.join(map(month_name, unarchived[:5]))});"
            " months are archived oldest first"
        )


def _mark(engine: sa.Engine, month: dt.date, path: Path) -> None:
    """The mark: from its commit on, ingest rejects the month (see archive_fence)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(archive_fence).where(archive_fence.c.id == 1).values(version=archive_fence.c.version + 1)
        )
        conn.execute(
            sa.insert(archived_months).values(
                month=month, status=ARCHIVING, file_name=path.name, marked_at_us=time.time_ns() // 1000
            )
        )


def _month_plays(conn: sa.Connection, month: dt.date) -> list[tuple]:
    columns = [plays.c[name] for name in ARCHIVE_COLUMNS]
    query = (
        sa.select(*columns)
        .where(plays.c.local_day >= month, plays.c.local_day <= month_end(month))
        .order_by(plays.c.play_id)
    )
    return [_plain(row) for row in conn.execute(query)]


def _plain(row) -> tuple:
    return tuple(v.isoformat() if isinstance(v, dt.date) else (v if isinstance(v, str) else int(v)) for v in row)


def _evening_play_ids(conn: sa.Connection, month: dt.date, rows: list[tuple], zone: ZoneInfo) -> set[int]:
    """The plays that the next month's first day reads (the module's docstring)."""
    midnight_us = day_bounds_us(next_month(month), zone)[0]
    video_ids = sorted({r[2] for r in rows})
    durations: dict[int, int] = {}
    for start in range(0, len(video_ids), _CHUNK):
        chosen = video_ids[start : start + _CHUNK]
        for video_id, duration in conn.execute(
            sa.select(videos.c.video_id, videos.c.duration_sec).where(videos.c.video_id.in_(chosen))
        ):
            durations[int(video_id)] = int(duration)
    kept = set()
    for r in rows:
        half_duration_us = -(-durations.get(r[2], 0) * 1_000_000 // _MAX_SPEED)
        if r[4] >= midnight_us - max(_REPEAT_WINDOW_US, half_duration_us):
            kept.add(r[0])
    return kept


def _lines(rows: list[tuple]) -> Iterator[bytes]:
    for r in rows:
        yield (json.dumps(list(r), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _write(path: Path, rows: list[tuple]) -> str:
    digest = hashlib.sha256()
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
            for line in _lines(rows):
                digest.update(line)
                out.write(line)
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
    return digest.hexdigest()


def _read_checked(path: Path, sha256: str, count: int) -> list[tuple]:
    digest = hashlib.sha256()
    rows = []
    with gzip.open(path, "rb") as f:
        for line in f:
            digest.update(line)
            rows.append(tuple(json.loads(line)))
    if digest.hexdigest() != sha256 or len(rows) != count:
        raise ArchiveMismatch(
            f"{path}: sha256 {digest.hexdigest()} over {len(rows)} plays, the archive recorded {sha256}"
            f" over {count}; nothing was changed"
        )
    return rows


def _write_manifest(path: Path, month: dt.date, sha256: str, count: int) -> None:
    manifest = {"month": month_name(month), "file": path.name, "sha256": sha256, "plays": count}
    manifest["columns"] = list(ARCHIVE_COLUMNS)
    manifest_path = path.with_name(f"plays-{month_name(month)}.json")
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
