"""Archival of a closed, sealed month's raw playbacks (issue #17 item 5; docs/scaling.md,
"History that grows"): `archive_month` writes the month's plays to a compressed file with a
checksum and removes them from `plays`; `restore_month` puts them back, identical. The file is
the month in the Parquet history's layout (services/video/parquet_history.py), which the Spark
engine reads too; archives of the first format (gzip JSON lines, services/video/archive_jsonl.py)
are still restored.

What stays: every statistic (daily_video_stats, period_video_stats, the audience retention
video_daily_retention, the frozen and ledger tables, play_day_counts: the archived days'
counts stay current, services/video/play_counts.py)
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
- the files are written, fsynced, renamed into place and read back (count and checksum of each
  day, against what was read from the table) before any row is deleted, and recorded (status
  DELETING, with the month's sha256 and count) before the first delete; the rows are then
  deleted `batch_rows` per transaction, reading the files, not the table: a killed archival is
  finished by running it again (ARCHIVING: every row is still there and the files are written
  anew; DELETING: the recorded file goes on deleting), or undone by a restore, which inserts
  what is missing;
- nothing holds the month in memory: the table is read in keyset pages, the files are written
  and read a page at a time, so a month of the platform's size (about 90M plays) takes the same
  memory as a small one;
- re-runs are idempotent: archiving an archived month, or restoring a month that is not
  archived, changes nothing.

The file: the folder `plays-YYYY-MM/`, every day of the month as `local_day=YYYY-MM-DD/
part-0.parquet` (an empty one for a day without plays) and `_manifest.json` (each day's rows
and sha256); `sha256` in archived_months is parquet_history.month_sha256 of the month's days.
The first format's file (`plays-YYYY-MM.jsonl.gz`) is told apart by its recorded name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from batch.published import days_to_compute
from domain.audit_chain import OPERATOR, AuditEvent, summary_json
from domain.errors import Conflict, NotFound, NotReady
from domain.periods import day_bounds_us, month_end, month_name, next_month
from services.audit import published as audit
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement.published import month_closings
from services.video import archive_jsonl, parquet_history
from services.video.parquet_history import HistoryMismatch
from services.video.tables import archive_fence, archived_months, plays, videos

ARCHIVE_COLUMNS = tuple(plays.columns.keys())  # every column, in the table's order
ARCHIVING, DELETING, ARCHIVED = "ARCHIVING", "DELETING", "ARCHIVED"
# DESIGN 2 "Counted view" rules 2-3 (the batch's own constants live in domain/counted_views.py, which
# this shared module may not import): a repeat starts < 30 s after its previous playback, an
# overlap < watch time / 2 <= duration / 2 after it (players go no faster than 2x).
_REPEAT_WINDOW_US = 30_000_000
_MAX_SPEED = 2
_CHUNK = 5_000  # ids per IN list
_BATCH = 50_000  # plays per page read, per delete and per restore transaction


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
    """Where archive_month writes the month: its Parquet folder."""
    return Path(directory) / f"plays-{month_name(month)}"


def jsonl_archive_path(directory: Path, month: dt.date) -> Path:
    """Where the first format's archive of the month is (read only)."""
    return Path(directory) / f"plays-{month_name(month)}{archive_jsonl.SUFFIX}"


def archive_month(
    engine: sa.Engine,
    month: dt.date,
    directory: Path,
    *,
    zone: ZoneInfo,
    batch_rows: int = _BATCH,
    clock: Clock = SYSTEM_CLOCK,
    actor_id: int = OPERATOR,
) -> ArchiveResult:
    """Archives `month` (its first day) to `directory`, the mark and the end dated by
    `clock`; see the module's contract. The audit entry (by `actor_id`) is appended in the
    transaction that makes the month ARCHIVED: one per archival, none for a re-run."""
    month = month.replace(day=1)
    path = archive_path(directory, month)
    with engine.connect() as conn:
        record = _record(conn, month)
    if record is not None and record.status != ARCHIVING:
        path = Path(directory) / record.file_name  # what it was archived to, in either format
    if record is not None and record.status == ARCHIVED:
        return ArchiveResult(month_name(month), ARCHIVED, path, record.sha256, record.plays, record.kept_plays, False)
    if record is None:
        with engine.connect() as conn:
            _require_archivable(conn, month)
        _mark(engine, month, path, clock.now_us())
    if record is None or record.status == ARCHIVING:  # every row is still there: (re)write the file
        with engine.connect() as conn:
            try:
                _require_archivable(conn, month)  # again: a late play may have come before the mark
            except MonthNotArchivable:
                conn.rollback()
                with engine.begin() as unmark:
                    unmark.execute(sa.delete(archived_months).where(archived_months.c.month == month))
                raise
        sha256, count = _write(engine, month, path, batch_rows)
        _check_file(path, sha256, count)  # what is on disk is what was read
        with engine.begin() as conn:  # from here on, the file is the month's copy
            conn.execute(
                sa.update(archived_months)
                .where(archived_months.c.month == month)
                .values(status=DELETING, sha256=sha256, plays=count, file_name=path.name)
            )
    else:  # DELETING: a run killed while deleting; the file it verified goes on (either format)
        sha256, count = record.sha256, record.plays
        _check_file(path, sha256, count)
    kept = _delete_all_but_evening(engine, month, path, zone, batch_rows)
    first, last = month, month_end(month)
    with engine.begin() as conn:
        left = conn.execute(
            sa.select(sa.func.count()).select_from(plays).where(plays.c.local_day >= first, plays.c.local_day <= last)
        ).scalar_one()
        if left != kept:
            raise ArchiveMismatch(
                f"{month_name(month)}: {left} plays left after the delete, expected {kept} kept; the month"
                " stays DELETING (ingest and the batch keep refusing it): restore it from its file"
            )
        archived_at_us = clock.now_us()
        conn.execute(
            sa.update(archived_months)
            .where(archived_months.c.month == month)
            .values(status=ARCHIVED, kept_plays=kept, archived_at_us=archived_at_us)
        )
        after = summary_json({"status": ARCHIVED, "file": path.name, "sha256": sha256, "plays": count, "kept": kept})
        audit.append(
            conn, AuditEvent(actor_id, "month.archive", f"month:{month_name(month)}", "", after), archived_at_us
        )
    return ArchiveResult(month_name(month), ARCHIVED, path, sha256, count, kept, True)


def restore_month(engine: sa.Engine, month: dt.date, directory: Path, *, batch_rows: int = _BATCH) -> ArchiveResult:
    """Puts an archived month's plays back, identical (same play_id and every column), after
    checking the file's checksum and count against archived_months; then the month is no
    longer archived (ingest and the batch take it again). Not archived: nothing to do. Each
    `batch_rows` of the file are one transaction that inserts the ones missing: a killed
    restore is finished by running it again."""
    month = month.replace(day=1)
    path = archive_path(directory, month)
    with engine.connect() as conn:
        record = _record(conn, month)
    if record is not None:
        path = Path(directory) / record.file_name  # either format
    if record is None:
        return ArchiveResult(month_name(month), "NOT_ARCHIVED", path, "", 0, 0, False)
    if record.status == ARCHIVING:  # marked, rows never deleted: only the mark goes
        with engine.begin() as conn:
            conn.execute(sa.delete(archived_months).where(archived_months.c.month == month))
        return ArchiveResult(month_name(month), "NOT_ARCHIVED", path, "", 0, 0, True)
    if not path.exists():
        raise NotFound(f"{path}: no archive file for {month_name(month)} (archived as {record.file_name})")
    _check_file(path, record.sha256, record.plays)
    first, last = month, month_end(month)
    present_before = 0
    for rows in _batches(_file_rows(path), batch_rows):
        with engine.begin() as conn:
            present = _present_ids(conn, month, [r[0] for r in rows])
            present_before += len(present)
            missing = [dict(zip(ARCHIVE_COLUMNS, r, strict=True)) for r in rows if r[0] not in present]
            for row in missing:
                row["local_day"] = dt.date.fromisoformat(row["local_day"])
            for start in range(0, len(missing), _CHUNK):
                conn.execute(sa.insert(plays), missing[start : start + _CHUNK])
    with engine.begin() as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(plays).where(plays.c.local_day >= first, plays.c.local_day <= last)
        ).scalar_one()
        if total != record.plays:
            raise ArchiveMismatch(
                f"{month_name(month)}: {total} plays after the restore, the archive holds {record.plays};"
                " the month stays archived"
            )
        conn.execute(sa.delete(archived_months).where(archived_months.c.month == month))
    return ArchiveResult(month_name(month), "RESTORED", path, record.sha256, record.plays, present_before, True)


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


def _mark(engine: sa.Engine, month: dt.date, path: Path, now_us: int) -> None:
    """The mark: from its commit on, ingest rejects the month (see archive_fence)."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(archive_fence).where(archive_fence.c.id == 1).values(version=archive_fence.c.version + 1)
        )
        conn.execute(
            sa.insert(archived_months).values(month=month, status=ARCHIVING, file_name=path.name, marked_at_us=now_us)
        )


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _present_ids(conn: sa.Connection, month: dt.date, ids: list[int]) -> set[int]:
    present: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        present.update(
            conn.execute(
                sa.select(plays.c.play_id).where(
                    plays.c.local_day >= month,
                    plays.c.local_day <= month_end(month),
                    plays.c.play_id.in_(ids[start : start + _CHUNK]),
                )
            ).scalars()
        )
    return present


def _delete_all_but_evening(engine: sa.Engine, month: dt.date, path: Path, zone: ZoneInfo, batch_rows: int) -> int:
    """Deletes the file's plays from `plays`, `batch_rows` per transaction, except the month's
    last evening (the module's docstring); returns how many plays of the file are kept. Runs
    again over what a killed run left: deleting a deleted play changes nothing."""
    midnight_us = day_bounds_us(next_month(month), zone)[0]
    durations: dict[int, int] = {}
    kept = 0
    for rows in _batches(_file_rows(path), batch_rows):
        with engine.begin() as conn:
            unknown = sorted({r[2] for r in rows} - durations.keys())
            for start in range(0, len(unknown), _CHUNK):
                chosen = unknown[start : start + _CHUNK]
                for video_id, duration in conn.execute(
                    sa.select(videos.c.video_id, videos.c.duration_sec).where(videos.c.video_id.in_(chosen))
                ):
                    durations[int(video_id)] = int(duration)
            removed = []
            for r in rows:
                half_duration_us = -(-durations.get(r[2], 0) * 1_000_000 // _MAX_SPEED)
                if r[4] >= midnight_us - max(_REPEAT_WINDOW_US, half_duration_us):
                    kept += 1
                else:
                    removed.append(r[0])
            for start in range(0, len(removed), _CHUNK):
                conn.execute(
                    sa.delete(plays).where(
                        plays.c.local_day >= month,
                        plays.c.local_day <= month_end(month),
                        plays.c.play_id.in_(removed[start : start + _CHUNK]),
                    )
                )
    return kept


def _write(engine: sa.Engine, month: dt.date, path: Path, batch_rows: int) -> tuple[str, int]:
    """Writes every day of the month to the folder `path`; returns (month sha256, plays)."""
    written = parquet_history.export_days(
        engine, month, month_end(month), path, batch_rows=batch_rows, allow_archived=True
    )
    return parquet_history.month_sha256(written), sum(d.rows for d in written)


def _file_rows(path: Path) -> Iterator[tuple]:
    """The archive's plays, tuples of ARCHIVE_COLUMNS (local_day as YYYY-MM-DD), streamed."""
    if archive_jsonl.is_jsonl(path):
        yield from archive_jsonl.file_rows(path)
        return
    at = ARCHIVE_COLUMNS.index("local_day")
    for day in sorted(map(dt.date.fromisoformat, parquet_history.read_manifest(path).get("days", {}))):
        for row in parquet_history.read_day(path, day):
            yield (*row[:at], day.isoformat(), *row[at:])


def _check_file(path: Path, sha256: str, count: int) -> None:
    """The files hold `count` plays whose checksum is `sha256`, or ArchiveMismatch."""
    if archive_jsonl.is_jsonl(path):
        archive_jsonl.check_file(path, sha256, count, ArchiveMismatch)
        return
    try:
        days = parquet_history.verify(path)
    except HistoryMismatch as exc:
        raise ArchiveMismatch(f"{exc}; nothing was changed") from None
    found, rows = parquet_history.month_sha256(days), sum(d.rows for d in days)
    if (found, rows) != (sha256, count):
        raise ArchiveMismatch(
            f"{path}: sha256 {found} over {rows} plays, the archive recorded {sha256} over {count}; nothing was changed"
        )
