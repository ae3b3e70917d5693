"""The archive's first format, read only (services/video/archive.py writes Parquet since issue 30):
`plays-YYYY-MM.jsonl.gz`, one JSON array per play in play_id order (every column of `plays`, in
the table's order, local_day as YYYY-MM-DD), UTF-8, "\\n" after each; its sha256 is over the
uncompressed bytes, recorded in archived_months (and in `plays-YYYY-MM.json` beside the file).
Archives written so are still restored, and an archival killed while deleting from one is
still finished, from these two functions.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from domain.errors import Conflict

SUFFIX = ".jsonl.gz"


def is_jsonl(path: Path) -> bool:
    return path.name.endswith(SUFFIX)


def file_rows(path: Path) -> Iterator[tuple]:
    """The file's plays, tuples of every column of `plays` in the table's order, streamed."""
    with gzip.open(path, "rb") as f:
        for line in f:
            yield tuple(json.loads(line))


def check_file(path: Path, sha256: str, count: int, mismatch: type[Conflict]) -> None:
    """The file's uncompressed bytes have `sha256` and hold `count` plays, or `mismatch`."""
    digest = hashlib.sha256()
    lines = 0
    with gzip.open(path, "rb") as f:
        for line in f:
            digest.update(line)
            lines += 1
    if digest.hexdigest() != sha256 or lines != count:
        raise mismatch(
            f"{path}: sha256 {digest.hexdigest()} over {lines} plays, the archive recorded {sha256}"
            f" over {count}; nothing was changed"
        )
