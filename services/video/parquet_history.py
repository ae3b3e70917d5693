"""The Parquet history of the plays (issue 30 item 3b; docs/scaling.md, "The Parquet history"):
days of `plays` written to files that the Spark engine reads (PAYSYSTEM_SPARK_PLAYS=parquet:URI),
by `paysystem plays export` and by the archive of a closed month (services/video/archive.py).

The layout (binding: batch/spark reads it):

    <dir>/local_day=YYYY-MM-DD/part-0.parquet   (one or more part-N files per day)
    <dir>/_manifest.json                          (every day written there: rows and sha256)

Each file holds the columns of `plays` except local_day (the folder names it), with the types
of SCHEMA, the rows sorted by SORT_KEY (the day-scan index's order, so that a page is read in
index order with no sort; unique, event ids being unique: play_event_ids), written by pyarrow
one row group per page read. A day with no plays
has an empty file: the manifest and the folders then say the same thing.

The checksum of a day is the sha256 of its canonical rows: in SORT_KEY order, each the JSON
array of its COLUMNS (compact, UTF-8, "\\n" after each). `table_digest` computes it from the
table and `files_digest` from the files, by the same function; a reader checks a day against
the manifest with `verify`.

Nothing holds a day in memory: the table is read in keyset pages of `batch_rows` on the
day-scan index (each page on a connection of its own), the files are written a page at a
time and read back a batch at a time. A day is written to a hidden temporary folder (fsynced),
read back and checked, then put in place of the old one by two renames (the old one aside,
the new one in): a re-export replaces a day, and a reader never sees a half-written one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from domain.errors import BadInput, BadRange, Conflict
from services.video.tables import archived_months, plays

SCHEMA = pa.schema(
    [
        pa.field("play_id", pa.int64(), nullable=False),
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("video_id", pa.int64(), nullable=False),
        pa.field("viewer_id", pa.int64(), nullable=False),
        pa.field("started_at_us", pa.int64(), nullable=False),
        pa.field("start_position_sec", pa.int64(), nullable=False),
        pa.field("end_position_sec", pa.int64(), nullable=False),
        pa.field("received_at_us", pa.int64(), nullable=False),
    ]
)
COLUMNS = tuple(SCHEMA.names)
SORT_KEY = ("video_id", "viewer_id", "started_at_us", "event_id")
KEY_AT = tuple(COLUMNS.index(name) for name in SORT_KEY)
MANIFEST = "_manifest.json"
FORMAT = "paysystem-plays-parquet/1"
DIGEST = (
    "sha256 over the day's rows in sort order, each the JSON array of `columns`"
    ' (separators "," and ":", UTF-8, not ASCII-escaped), "\\n" after each'
)
_BATCH = 50_000  # rows per page read, per row group written, per batch read back


class HistoryMismatch(Conflict):
    """Files that are not what their manifest (or the table) says."""


@dataclass(frozen=True)
class DayDigest:
    day: dt.date
    rows: int
    sha256: str


def history_dir(uri: str | Path) -> Path:
    """The local folder of a history: a path, or a file:// URI."""
    text = str(uri)
    if "://" not in text:
        return Path(text)
    parsed = urlparse(text)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        raise BadInput(f"{text}: only a local folder or a file:// URI is written here", field="to_dir")
    return Path(unquote(parsed.path))


def day_folder(directory: Path, day: dt.date) -> Path:
    return Path(directory) / f"local_day={day.isoformat()}"


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def month_sha256(digests: Iterable[DayDigest]) -> str:
    """One checksum for several days: the sha256 of "YYYY-MM-DD rows sha256\\n" per day, in order."""
    digest = hashlib.sha256()
    for d in sorted(digests, key=lambda d: d.day):
        digest.update(f"{d.day.isoformat()} {d.rows} {d.sha256}\n".encode("ascii"))
    return digest.hexdigest()


# --- the table ------------------------------------------------------------------------------


def table_rows(engine: sa.Engine, day: dt.date, batch_rows: int = _BATCH) -> Iterator[list[tuple]]:
    """The day's plays in SORT_KEY order, as tuples of COLUMNS, `batch_rows` per page."""
    last: tuple | None = None
    while True:
        query = page_query(day, last, batch_rows)
        with engine.connect() as conn:
            page = [tuple(v if isinstance(v, str) else int(v) for v in row) for row in conn.execute(query)]
        if page:
            yield page
        if len(page) < batch_rows:
            return
        last = tuple(page[-1][i] for i in KEY_AT)


def page_query(day: dt.date, last: tuple | None, batch_rows: int) -> sa.Select:
    """The day's next `batch_rows` plays after the key `last` (None: from the first)."""
    key = [plays.c[name] for name in SORT_KEY]
    query = sa.select(*(plays.c[name] for name in COLUMNS)).where(plays.c.local_day == day)
    if last is not None:
        query = query.where(_after(key, last))
    query = query.order_by(*key).limit(batch_rows)
    for dialect in ("mysql", "mariadb"):  # see _after; SQLite picks the index by itself
        query = query.with_hint(plays, "FORCE INDEX (ix_plays_day_scan)", dialect_name=dialect)
    return query


def _after(key: list, values: tuple) -> sa.ColumnElement[bool]:
    """Rows after `values` in `key` order, spelled with AND/OR. The leading `key[0] >=` term
    adds nothing logically; with FORCE INDEX (table_rows) it lets MariaDB 10.11 scan
    ix_plays_day_scan (local_day, video_id, ...) from the page's first row (EXPLAIN: range,
    key_len 541). Without both, it read the day as `ref` on local_day alone and from its start
    for every page: a page in the middle of a 3M-play day took 73-86 s instead of about 2 s,
    quadratic in pages (measured on bench_batch's data, 2026-12-07)."""
    terms = []
    for i, column in enumerate(key):
        terms.append(sa.and_(*(key[j] == values[j] for j in range(i)), column > values[i]))
    return sa.and_(key[0] >= values[0], sa.or_(*terms))


def table_digest(engine: sa.Engine, day: dt.date, batch_rows: int = _BATCH) -> DayDigest:
    return _digest(day, (row for page in table_rows(engine, day, batch_rows) for row in page))


# --- writing --------------------------------------------------------------------------------


def export_days(
    engine: sa.Engine,
    first: dt.date,
    last: dt.date,
    directory: str | Path,
    *,
    batch_rows: int = _BATCH,
    today: dt.date | None = None,
    allow_archived: bool = False,
    progress: Callable[[DayDigest], None] | None = None,
) -> list[DayDigest]:
    """Writes the days first..last to `directory` (each replacing the day's folder, checked
    against what was read from the table) and records them in its manifest. Refuses a range
    that ends before it starts, a day not over by `today`, and a day of an archived month
    (its plays are in the archive), unless `allow_archived` (the archive itself)."""
    if last < first:
        raise BadRange(f"the range ends ({last}) before it starts ({first})")
    if today is not None and last >= today:
        raise BadRange(f"{last} is not over yet (today is {today}): only ended days are exported")
    if not allow_archived:
        with engine.connect() as conn:
            months = sorted(conn.execute(sa.select(archived_months.c.month)).scalars())
        archived = [m for m in months if m <= last and (m.year, m.month) >= (first.year, first.month)]
        if archived:
            raise BadRange(
                f"{', '.join(f'{m:%Y-%m}' for m in archived)} archived: its plays are in the archive's"
                " Parquet folder (plays-YYYY-MM/), not in the table"
            )
    root = history_dir(directory)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for day in days_between(first, last):
        written.append(write_day(engine, day, root, batch_rows=batch_rows))
        _record(root, [written[-1]])
        if progress is not None:
            progress(written[-1])
    return written


def write_day(engine: sa.Engine, day: dt.date, root: Path, *, batch_rows: int = _BATCH) -> DayDigest:
    """Writes one day's folder (see the module's docstring); its manifest entry is the caller's."""
    final = day_folder(root, day)
    tmp = root / f".tmp-{final.name}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    digest, count = hashlib.sha256(), 0
    path = tmp / "part-0.parquet"
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        for page in table_rows(engine, day, batch_rows):
            for row in page:
                digest.update(_line(row))
            count += len(page)
            writer.write_table(
                pa.Table.from_pydict(dict(zip(COLUMNS, zip(*page, strict=True), strict=True)), schema=SCHEMA)
            )
        if count == 0:
            writer.write_table(SCHEMA.empty_table())
    _fsync(path)
    _fsync(tmp)
    written = DayDigest(day, count, digest.hexdigest())
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).where(plays.c.local_day == day)).scalar_one()
    if stored != count:
        raise HistoryMismatch(
            f"{day}: {count} plays read in pages, {stored} in the table: the day changed while it was"
            " read (late data), or two of its plays share a sort key; export it again"
        )
    read_back = files_digest(tmp, day, folder=tmp)
    if read_back != written:
        raise HistoryMismatch(f"{day}: the files read back hold {read_back}, the table gave {written}")
    old = root / f".old-{final.name}"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        os.rename(final, old)
    os.rename(tmp, final)
    _fsync(root)
    shutil.rmtree(old, ignore_errors=True)
    return written


def _record(root: Path, digests: list[DayDigest]) -> None:
    """Adds (or replaces) the days in the folder's manifest, written through a temporary file."""
    manifest = read_manifest(root)
    days = manifest.get("days", {})
    for d in digests:
        days[d.day.isoformat()] = {"rows": d.rows, "sha256": d.sha256}
    manifest = {
        "format": FORMAT,
        "columns": {field.name: str(field.type) for field in SCHEMA},
        "sort": list(SORT_KEY),
        "digest": DIGEST,
        "days": dict(sorted(days.items())),
    }
    tmp = root / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(json.dumps(manifest, indent=2) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, root / MANIFEST)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading --------------------------------------------------------------------------------


def read_manifest(directory: str | Path) -> dict:
    path = history_dir(directory) / MANIFEST
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def stored_days(directory: str | Path) -> list[dt.date]:
    """The days that have a folder."""
    root = history_dir(directory)
    if not root.is_dir():
        return []
    names = (p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("local_day="))
    return sorted(dt.date.fromisoformat(name.removeprefix("local_day=")) for name in names)


def read_day(
    directory: str | Path, day: dt.date, *, batch_rows: int = _BATCH, folder: Path | None = None
) -> Iterator[tuple]:
    """The day's rows, tuples of COLUMNS, in the files' order (part-0, part-1, ...)."""
    where = folder if folder is not None else day_folder(history_dir(directory), day)
    if not where.is_dir():
        raise HistoryMismatch(f"{where}: no folder for {day}")
    parts = sorted(where.glob("part-*.parquet"), key=lambda p: int(p.stem.removeprefix("part-")))
    for path in parts:
        file = pq.ParquetFile(path)
        if not file.schema_arrow.remove_metadata().equals(SCHEMA):
            raise HistoryMismatch(f"{path}: columns {file.schema_arrow} are not the plays history's {SCHEMA}")
        for batch in file.iter_batches(batch_size=batch_rows, columns=list(COLUMNS)):
            yield from zip(*(batch.column(i).to_pylist() for i in range(len(COLUMNS))), strict=True)


def files_digest(directory: str | Path, day: dt.date, *, folder: Path | None = None) -> DayDigest:
    """The day's checksum from its files; HistoryMismatch if they are not in SORT_KEY order."""
    return _digest(day, read_day(directory, day, folder=folder), check_order=True)


def verify(directory: str | Path, days: Iterable[dt.date] | None = None) -> list[DayDigest]:
    """Checks each day (every day of the manifest by default) against the manifest: its files'
    rows and checksum; returns the digests, or raises HistoryMismatch naming the first wrong day."""
    root = history_dir(directory)
    entries = read_manifest(root).get("days", {})
    wanted = sorted(days) if days is not None else sorted(dt.date.fromisoformat(d) for d in entries)
    out = []
    for day in wanted:
        entry = entries.get(day.isoformat())
        if entry is None:
            raise HistoryMismatch(f"{root}: {day} is not in {MANIFEST}")
        found = files_digest(root, day)
        if (found.rows, found.sha256) != (entry["rows"], entry["sha256"]):
            raise HistoryMismatch(
                f"{day_folder(root, day)}: {found.rows} rows with sha256 {found.sha256}, {MANIFEST} says"
                f" {entry['rows']} with {entry['sha256']}"
            )
        out.append(found)
    return out


def _line(row: tuple) -> bytes:
    return (json.dumps(list(row), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _digest(day: dt.date, rows: Iterable[tuple], *, check_order: bool = False) -> DayDigest:
    digest, count, previous = hashlib.sha256(), 0, None
    for row in rows:
        if check_order:
            key = tuple(row[i] for i in KEY_AT)
            if previous is not None and key <= previous:
                raise HistoryMismatch(f"{day}: row {count} ({key}) is not after the one before it ({previous})")
            previous = key
        digest.update(_line(row))
        count += 1
    return DayDigest(day, count, digest.hexdigest())
