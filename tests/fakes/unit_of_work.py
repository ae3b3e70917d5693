"""What every fake unit of work shares: a snapshot of its fakes' state when a block starts and
at each commit; leaving the block without a commit restores the last snapshot (the SQL
adapters' transaction: writes kept only when committed). `committed` says whether the block
committed, `commits` how many commits happened in all. `audit` records the audit events
(services/common/unit_of_work.AuditTrail) and forgets those of a block that rolled back, as
the SQL audit log does: every fake unit of work answers `uow.audit`."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from domain.audit_chain import AuditEvent


class FakeAuditTrail:
    """The audit events recorded and committed so far, with their times (`events`)."""

    def __init__(self) -> None:
        self.events: list[tuple[AuditEvent, int]] = []

    def record(self, event: AuditEvent, at_us: int) -> None:
        self.events.append((event, at_us))

    @property
    def actions(self) -> list[str]:
        return [event.action for event, _ in self.events]


class SnapshotUnitOfWork:
    def __init__(self) -> None:
        self.committed = False
        self.commits = 0
        self._saved: Any = None
        self.audit = FakeAuditTrail()
        self._audit_saved = 0

    def _snapshot(self) -> Any:
        """A copy of the fakes' state that later writes do not change."""
        raise NotImplementedError

    def _restore(self, saved: Any) -> None:
        """Puts the fakes back to `saved` (in place: tests hold the fakes they seeded)."""
        raise NotImplementedError

    def _block_ended(self) -> None:
        """What ends with the block besides the writes (locks held, for example)."""

    def __enter__(self) -> Self:
        self._saved = self._snapshot()
        self._audit_saved = len(self.audit.events)
        self.committed = False
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if not self.committed:
            self.rollback()
        self._saved = None
        self._block_ended()

    def commit(self) -> None:
        self.committed = True
        self.commits += 1
        self._saved = self._snapshot()
        self._audit_saved = len(self.audit.events)

    def rollback(self) -> None:
        if self._saved is not None:
            self._restore(self._saved)
            del self.audit.events[self._audit_saved :]
