"""Use cases of playback ingest: RecordPlays (one call, up to 5,000 events) and ImportPlays
(a stream, processed in chunks of the same size). Rules: plays.py and docs/ingest.md.

Per event: STORED, DUPLICATE (same event_id, identical content, already stored) or REJECTED
with a reason. The good events of a call are stored even when others are rejected; a
rejected event leaves no trace. Stored events and the resume positions they move are
written in one transaction, by the play log (ports.PlayLog: sql_play_log.py, or a fake).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from domain.errors import NotOwner, TooManyEvents
from domain.plays import (
    ARCHIVED_MONTH,
    CONFLICT_IN_REQUEST,
    CONFLICT_STORED,
    DEFAULT_VIEWER_LATE_WINDOW_SEC,
    FUTURE_ALLOWANCE_US,
    MAX_EVENTS_PER_CALL,
    LocalDays,
    Outcome,
    PlayEvent,
    PlayResult,
    shape_is_fine,
    shape_problem,
    timing_problem,
    video_problem,
)
from services.common import metrics
from services.common.auth import Principal, require_role
from services.common.clock import SYSTEM_CLOCK, Clock
from services.video.ports import PlayLog, PlayRow
from services.video.sql_play_log import SqlPlayLog

_CACHE_LIMIT = 1_000_000
STORED, DUPLICATE, REJECTED = Outcome.STORED, Outcome.DUPLICATE, Outcome.REJECTED


def sql_play_log(engine: sa.Engine, *, exact_strategy: str | None = None) -> PlayLog:
    """The SQL play log (sql_play_log.SqlPlayLog), for callers holding an engine: the
    servicer, the CLI's seed and tests. exact_strategy: None lets the server decide
    (repository.exact_strategy); tests pass repository.SELECT_THEN_INSERT to run MySQL 8's
    way on MariaDB."""
    return SqlPlayLog(engine, exact_strategy=exact_strategy)


def too_many_events(got: int | str, *, chunk: bool = False) -> TooManyEvents:
    """The refusal of a call (or an ImportPlays chunk) over MAX_EVENTS_PER_CALL; `got` is the
    count, or "more than N" when the raw message was counted only up to the cap
    (services/common/decoding.py)."""
    if chunk:
        return TooManyEvents(
            f"at most {MAX_EVENTS_PER_CALL} events per ImportPlays chunk, got {got}: send smaller chunks; "
            "the stream ended at this chunk (chunks before it may be stored: resending them is safe)",
            field="events",
        )
    return TooManyEvents(
        f"at most {MAX_EVENTS_PER_CALL} events per call, got {got}: "
        "split the batch (or use ImportPlays with the INGEST role); nothing was stored",
        field="events",
    )


def require_events_within_limit(count: int, *, chunk: bool = False) -> None:
    if count > MAX_EVENTS_PER_CALL:
        raise too_many_events(count, chunk=chunk)


def _capped(batches: Iterable[Sequence[PlayEvent]]) -> Iterator[Sequence[PlayEvent]]:
    for batch in batches:
        require_events_within_limit(len(batch), chunk=True)
        yield batch


class Ingest:
    """Holds what never changes once created: video durations and account existence.

    A video's duration never changes and neither videos nor accounts are deleted, so
    positive lookups are cached for the life of the process.
    """

    def __init__(
        self,
        play_log: PlayLog,
        zone: ZoneInfo,
        *,
        viewer_late_window_sec: int = DEFAULT_VIEWER_LATE_WINDOW_SEC,
        clock: Clock = SYSTEM_CLOCK,
        on_stored: Callable[[list[PlayRow], int], None] | None = None,
    ) -> None:
        """play_log: the storage (sql_play_log(engine) or a fake).
        viewer_late_window_sec: how old a playback RecordPlays takes from a non-INGEST account.
        clock: the server's clock, each event's received_at (plays.timing_problem).
        on_stored: called with the rows each store inserted (committed) and the time they were
        received: the realtime estimate's count (services/video/realtime.py IngestCounter),
        which must not raise."""
        self._log = play_log
        self._on_stored = on_stored
        self._zone = zone
        self._viewer_late_window_us = viewer_late_window_sec * 1_000_000
        self._clock = clock
        self._durations: dict[int, int] = {}
        self._accounts: set[int] = set()
        self._days = LocalDays(zone)

    # --- the calls --------------------------------------------------------------------

    def record_plays(self, principal: Principal, events: Sequence[PlayEvent]) -> list[PlayResult]:
        require_events_within_limit(len(events))
        late_window_us = None
        if principal.role != "INGEST":
            late_window_us = self._viewer_late_window_us
            own = principal.account_id
            for event in events:
                if event[2] != own and event.viewer_id > 0:
                    raise NotOwner(
                        f"viewer_id: {event.viewer_id} is another viewer (event_id {event.event_id!r}); "
                        "an account records only its own playbacks; nothing was stored"
                    )
        return self._ingest(events, known_account=principal.account_id, late_window_us=late_window_us)

    def import_plays(self, principal: Principal, batches: Iterable[Sequence[PlayEvent]]) -> Iterator[list[PlayResult]]:
        """Results chunk by chunk: the events of the stream's batches, regrouped into chunks
        of MAX_EVENTS_PER_CALL events, one database round each. A batch of more than
        MAX_EVENTS_PER_CALL events ends the import with TooManyEvents (the chunks before it
        may be written).

        Chunks are written one after another, in stream order (so a repeat in a later chunk
        sees the earlier one stored), while the next chunk is being read off the stream.
        """
        require_role(principal, "INGEST")
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer") as writer:
            pending: Future | None = None
            for chunk in _regroup(_capped(batches), MAX_EVENTS_PER_CALL):
                submitted = writer.submit(self._ingest, chunk, None)
                if pending is not None:
                    yield pending.result()
                pending = submitted
            if pending is not None:
                yield pending.result()

    # --- the steps --------------------------------------------------------------------
    # Events are tuples (PlayEvent): event_id, video_id, viewer_id, started_at_us,
    # start_position_sec, end_position_sec; the loops below index them by position.

    def _ingest(
        self, events: Sequence[PlayEvent], known_account: int | None, late_window_us: int | None = None
    ) -> list[PlayResult]:
        """late_window_us: None for INGEST accounts, which may backfill any past day."""
        now = self._clock.now_us()  # received_at of the rules in plays.timing_problem
        latest = now + FUTURE_ALLOWANCE_US
        earliest = 0 if late_window_us is None else now - late_window_us
        results: list[PlayResult | None] = [None] * len(events)
        valid: list[int] = []
        for i, event in enumerate(events):
            if shape_is_fine(event):
                valid.append(i)
                continue
            problem = shape_problem(event)
            if problem:
                results[i] = PlayResult(event[0], REJECTED, problem)
            else:
                valid.append(i)
        durations = self._lookup_durations({events[i][1] for i in valid})
        accounts = self._lookup_accounts({events[i][2] for i in valid} - {known_account})
        if known_account is not None:
            accounts.add(known_account)
        # First valid occurrence of each event_id is the candidate; later ones follow it.
        candidates: dict[str, int] = {}
        followers: list[int] = []
        for i in valid:
            event = events[i]
            duration = durations.get(event[1])
            if duration is None or event[4] > duration or event[2] not in accounts:
                problem = video_problem(event, duration) or f"viewer_id: unknown account {event[2]}"
                results[i] = PlayResult(event[0], REJECTED, problem)
            # plays.timing_problem's test, inlined for the hot loop (start <= end and start <=
            # duration hold here, so the watch time is not negative; a conditional instead of
            # min(): a third of the cost, measured). The shape is fine: started_at is an int.
            elif not (
                earliest  # type: ignore[operator]
                <= event[3]
                <= latest - ((event[5] if event[5] < duration else duration) - event[4]) * 500_000
            ):
                results[i] = PlayResult(event[0], REJECTED, timing_problem(event, duration, now, late_window_us) or "")
            elif event[0] in candidates:
                followers.append(i)
            else:
                candidates[event[0]] = i
        if candidates:
            outcomes = self._write([events[i] for i in candidates.values()], durations, now)
            for event_id, i in candidates.items():
                results[i] = outcomes[event_id]
        for i in followers:
            event = events[i]
            first_index = candidates[event[0]]
            first = results[first_index]  # (the candidates' results are all set above)
            if events[first_index][1:] != event[1:]:
                results[i] = PlayResult(event[0], REJECTED, CONFLICT_IN_REQUEST)
            elif first is not None and first.outcome is REJECTED:
                results[i] = first
            else:
                results[i] = PlayResult(event[0], DUPLICATE)
        return results  # type: ignore[return-value]

    def _write(self, candidates: list[PlayEvent], durations: dict[int, int], now: int) -> dict[str, PlayResult]:
        # Sorted by event_id: the one lock order of every writer (sql_play_log.py).
        candidates.sort(key=_event_id)
        day = self._days.iso
        # Every candidate's shape is fine: started_at (e[3]) is an int.
        rows: list[PlayRow] = [(e[0], e[1], e[2], e[3], day(e[3]), e[4], e[5]) for e in candidates]  # type: ignore[arg-type, misc]
        inserted, stored, archived = self._log.store(rows, durations, now)
        if inserted and self._on_stored is not None:
            self._on_stored(rows if len(inserted) == len(rows) else [r for r in rows if r[0] in inserted], now)
        outcomes: dict[str, PlayResult] = {}
        if archived:
            metrics.INGEST_REJECTED_ARCHIVED.inc(len(archived))
        for e in candidates:
            event_id = e[0]
            if event_id in inserted:
                outcomes[event_id] = PlayResult(event_id, STORED)
            elif event_id in archived:
                outcomes[event_id] = PlayResult(event_id, REJECTED, ARCHIVED_MONTH)
            elif stored.get(event_id) == e[1:]:
                outcomes[event_id] = PlayResult(event_id, DUPLICATE)
            else:
                outcomes[event_id] = PlayResult(event_id, REJECTED, CONFLICT_STORED)
        return outcomes

    def _lookup_durations(self, video_ids: set[int]) -> dict[int, int]:
        missing = [v for v in video_ids if v not in self._durations]
        if missing:
            found = self._log.durations(sorted(missing))
            if len(self._durations) > _CACHE_LIMIT:
                self._durations.clear()
            self._durations.update(found)
        return {v: self._durations[v] for v in video_ids if v in self._durations}

    def _lookup_accounts(self, account_ids: set[int]) -> set[int]:
        missing = [a for a in account_ids if a is not None and a not in self._accounts]
        if missing:
            found = self._log.existing_accounts(sorted(missing))
            if len(self._accounts) > _CACHE_LIMIT:
                self._accounts.clear()
            self._accounts.update(found)
        return {a for a in account_ids if a in self._accounts}


def _event_id(event: PlayEvent) -> str:
    return event[0]


def _regroup(batches: Iterable[Sequence[PlayEvent]], size: int) -> Iterator[list[PlayEvent]]:
    """The events of the batches, in order, in lists of `size` (the last one shorter)."""
    chunk: list[PlayEvent] = []
    for batch in batches:
        chunk.extend(batch)
        while len(chunk) >= size:
            yield chunk[:size]
            chunk = chunk[size:]
    if chunk:
        yield chunk
