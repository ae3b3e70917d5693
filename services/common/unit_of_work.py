"""The transaction every service's ports.UnitOfWork is: `with` begins it, `commit()` makes the
writes durable, leaving the block without a commit (an error, a refusal) rolls it back. Each
service's protocol adds its repositories (services/<service>/ports.py); the SQL side is
db.SqlTransaction, the in-memory side tests/fakes/unit_of_work.py. No I/O here: the ports,
which import no infrastructure, build on it."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from domain.audit_chain import AuditEvent


class Transaction(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class AuditTrail(Protocol):
    """The audit log as a use case sees it (DESIGN 2b): `record` appends one entry in the unit
    of work's transaction, so it commits or rolls back with the action. The SQL side is
    services/audit/published.SqlAuditTrail; the fakes keep a list (tests/fakes/unit_of_work.py)."""

    def record(self, event: AuditEvent, at_us: int) -> None: ...


class Audited(Protocol):
    """A unit of work whose use cases record admin or money actions."""

    @property
    def audit(self) -> AuditTrail: ...
