"""One transaction written again when a concurrent writer's insert of the same new row won
(ports.WriteConflict): two admins scheduling one day's table, two first PUTs of one profile.
The loser's second attempt finds the winner's row and replaces it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from services.settlement.ports import WriteConflict

T = TypeVar("T")

ATTEMPTS = 3


def retried(write: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """`write()` (a whole `with uow:` block), tried again on a WriteConflict; after `attempts`
    the storage's own error is raised, as before the ports existed."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except WriteConflict as conflict:
            if attempt == attempts:
                raise conflict.storage_error from conflict.storage_error.__cause__
    raise AssertionError("attempts must be at least 1")
