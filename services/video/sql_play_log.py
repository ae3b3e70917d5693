"""The SQL adapter of ports.PlayLog, the ingest's storage (services/video/ingest.py), over
repository.py's functions (unchanged): the lookups, and the whole storing transaction with
its retries, as Ingest._write ran it before the port."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Mapping

import sqlalchemy as sa

from domain.plays import resume_position
from services.video import play_counts, repository
from services.video.ports import PlayRow, StoreOutcome

log = logging.getLogger(__name__)
# Errors after which the whole transaction is tried again: a deadlock, a lock wait timeout,
# and a duplicate key, which only the plain INSERT of MySQL 8's exact path raises (it lost a
# race for an event_id: the retry finds that event stored). The INSERT IGNORE statements
# never raise it.
_RETRYABLE_MYSQL_ERRORS = {1213, 1205, repository.DUPLICATE_KEY}
_ATTEMPTS = 5


class _SomeExist(Exception):
    """The optimistic insert found event_ids that exist already."""


class SqlPlayLog:
    """ports.PlayLog on `engine`: each call its own connection (one store, one transaction).

    exact_strategy: None lets the server decide (repository.exact_strategy); tests pass
    repository.SELECT_THEN_INSERT to run MySQL 8's way on MariaDB."""

    def __init__(self, engine: sa.Engine, *, exact_strategy: str | None = None) -> None:
        self._engine = engine
        self._exact_strategy = exact_strategy

    def durations(self, video_ids: list[int]) -> dict[int, int]:
        with self._engine.connect() as conn:
            return repository.durations(conn, video_ids)

    def existing_accounts(self, account_ids: list[int]) -> set[int]:
        with self._engine.connect() as conn:
            return repository.existing_accounts(conn, account_ids)

    def store(self, rows: list[PlayRow], durations: Mapping[int, int], received_at_us: int) -> StoreOutcome:
        # One lock order for every writer (event_id, then (viewer, video)) keeps deadlocks
        # rare: the rows come sorted by event_id. A deadlock, a lock timeout, or (MySQL 8's
        # exact path) a duplicate key from a concurrent writer rolls everything back and the
        # call retries.
        now = received_at_us
        all_rows = rows
        attempt, exact = 1, False
        while True:
            try:
                with self._engine.begin() as conn:
                    # An archived month accepts no more playbacks (services/video/archive.py);
                    # read in this transaction, after the fence that an archival waits on.
                    archived = repository.archived_months_fenced(conn)
                    rows = all_rows
                    if archived:
                        keep = [i for i, r in enumerate(all_rows) if r[4][:7] not in archived]
                        if len(keep) != len(all_rows):
                            rows = [all_rows[i] for i in keep]
                    inserted: set[str]
                    stored: dict[str, tuple]
                    if not rows:
                        inserted, stored = set(), {}
                    elif exact:
                        inserted, stored = repository.insert_plays_exactly(conn, rows, now, forced=self._exact_strategy)
                    else:
                        all_new = repository.insert_plays(conn, rows, now)
                        if all_new is None:
                            raise _SomeExist
                        inserted, stored = all_new, {}
                        if len(inserted) != len(rows):
                            stored = repository.stored_plays(conn, [r[0] for r in rows if r[0] not in inserted])
                    ours = rows if len(inserted) == len(rows) else [r for r in rows if r[0] in inserted]
                    repository.upsert_resume_positions(conn, _resume_rows(ours, durations, now))
                    # The day counts commit with the rows (services/video/play_counts.py).
                    play_counts.add(conn, Counter(r[4] for r in ours))
                break
            except _SomeExist:  # rolled back: insert again, learning which rows are ours
                exact = True
            except Exception as exc:
                code = repository.mysql_error_code(exc)
                if code not in _RETRYABLE_MYSQL_ERRORS or attempt == _ATTEMPTS:
                    raise
                log.info("ingest transaction retried after MySQL error %s (attempt %d)", code, attempt)
                time.sleep(0.01 * attempt)
                attempt += 1
        refused = set() if len(rows) == len(all_rows) else {r[0] for r in all_rows} - {r[0] for r in rows}
        return StoreOutcome(inserted, stored, refused)


def _resume_rows(stored: list[PlayRow], durations: Mapping[int, int], now: int) -> list[tuple]:
    """One row per (viewer, video): the newest stored playback of the call, newest by
    (started_at_us, event_id) as plays.resume_key orders them."""
    newest: dict[tuple[int, int], PlayRow] = {}
    for r in stored:
        key = (r[2], r[1])
        current = newest.get(key)
        if current is None or r[3] > current[3] or (r[3] == current[3] and r[0] > current[0]):
            newest[key] = r
    return [
        (viewer_id, video_id, resume_position(r[6], durations[video_id]), r[3], r[0], now)
        for (viewer_id, video_id), r in sorted(newest.items())
    ]
