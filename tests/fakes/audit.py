"""In-memory audit.ports.AuditUnitOfWork (the reads; appends are recorded by every fake unit
of work's FakeAuditTrail): a list of entries built with the domain's chain rules."""

from __future__ import annotations

import dataclasses

from domain.audit_chain import GENESIS, AuditEntry, AuditEvent, chained
from services.audit.ports import AuditFilter
from tests.fakes.unit_of_work import SnapshotUnitOfWork


@dataclasses.dataclass
class FakeAuditEntries:
    rows: list[AuditEntry] = dataclasses.field(default_factory=list)
    head_seq: int = 0
    head_hash: str = GENESIS

    def add(self, event: AuditEvent, at_us: int, request_id: str = "r") -> AuditEntry:
        entry = chained(self.head_seq + 1, event, request_id=request_id, at_us=at_us, prev_hash=self.head_hash)
        self.rows.append(entry)
        self.head_seq, self.head_hash = entry.seq, entry.hash
        return entry

    def head(self) -> tuple[int, str]:
        return self.head_seq, self.head_hash

    def newest(self, where: AuditFilter, *, before_seq: int | None, limit: int) -> list[AuditEntry]:
        found = [
            e
            for e in sorted(self.rows, key=lambda e: -e.seq)
            if (where.first_us is None or e.at_us >= where.first_us)
            and (where.last_us is None or e.at_us < where.last_us)
            and (where.actor_id is None or e.actor_id == where.actor_id)
            and (where.action is None or e.action == where.action)
            and (before_seq is None or e.seq < before_seq)
        ]
        return found[:limit]

    def ascending(self, *, after_seq: int, limit: int) -> list[AuditEntry]:
        return sorted((e for e in self.rows if e.seq > after_seq), key=lambda e: e.seq)[:limit]


class FakeAuditUnitOfWork(SnapshotUnitOfWork):
    def __init__(self, entries: FakeAuditEntries | None = None) -> None:
        super().__init__()
        self.entries = entries or FakeAuditEntries()

    def _snapshot(self) -> list[AuditEntry]:
        return list(self.entries.rows)

    def _restore(self, saved: list[AuditEntry]) -> None:
        self.entries.rows[:] = saved
