"""What the audit use cases (service.py) need from storage, as protocols: the SQL adapter
(repository.SqlAuditUnitOfWork) and the in-memory fake (tests/fakes/audit.py) answer them.
Plain values; no SQL, no gRPC. Appends do not go through here: each owner appends in its own
unit of work (services/common/unit_of_work.AuditTrail)."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from domain.audit_chain import AuditEntry
from services.common.unit_of_work import Transaction


@dataclasses.dataclass(frozen=True)
class AuditFilter:
    """Which entries a page shows: at_us in [first_us, last_us), and the actor and action
    when given (None: any)."""

    first_us: int | None = None
    last_us: int | None = None
    actor_id: int | None = None
    action: str | None = None


class AuditEntries(Protocol):
    def head(self) -> tuple[int, str]:
        """The chain head: the last appended seq (0 for none) and its hash."""
        ...

    def newest(self, where: AuditFilter, *, before_seq: int | None, limit: int) -> list[AuditEntry]:
        """The entries matching `where` with seq < before_seq (None: any), newest first, at most `limit`."""
        ...

    def ascending(self, *, after_seq: int, limit: int) -> list[AuditEntry]:
        """The entries with seq > after_seq, by seq, at most `limit` (the verification's walk)."""
        ...


class AuditUnitOfWork(Transaction, Protocol):
    @property
    def entries(self) -> AuditEntries: ...
