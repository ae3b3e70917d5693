"""What every fake unit of work shares: a snapshot of its fakes' state when a block starts and
at each commit; leaving the block without a commit restores the last snapshot (the SQL
adapters' transaction: writes kept only when committed). `committed` says whether the block
committed, `commits` how many commits happened in all."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self


class SnapshotUnitOfWork:
    def __init__(self) -> None:
        self.committed = False
        self.commits = 0
        self._saved: Any = None

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

    def rollback(self) -> None:
        if self._saved is not None:
            self._restore(self._saved)
