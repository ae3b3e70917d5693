"""What the account use cases need from storage (service.py), as protocols: the SQL adapter
(repository.SqlUnitOfWork) and the in-memory fake of the unit tests (tests/fakes/account.py)
both answer them. Plain values in and out; no SQL, no gRPC."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from services.common.unit_of_work import Audited, Transaction


@dataclasses.dataclass(frozen=True)
class StoredAccount:
    """An account as stored, its password hash included."""

    account_id: int
    username: str
    password_hash: str
    role: str
    created_at_us: int
    disabled_at_us: int | None


class Accounts(Protocol):
    def add(self, *, username: str, password_hash: str, role: str, created_at_us: int) -> int | None:
        """The new account's id, or None if the username is taken (compared exactly: case
        and every character count); a taken username leaves the unit of work usable."""
        ...

    def by_username(self, username: str) -> StoredAccount | None: ...

    def by_id(self, account_id: int, *, for_update: bool = False) -> StoredAccount | None:
        """`for_update`: the row stays locked until the unit of work ends."""
        ...

    def set_password_hash(self, account_id: int, password_hash: str) -> None: ...

    def set_disabled_at(self, account_id: int, disabled_at_us: int) -> None: ...

    def set_role(self, account_id: int, role: str) -> None: ...

    def other_active_admins(self, account_id: int) -> int:
        """Active (not disabled) ADMIN accounts other than this one, read under a lock: two
        admins demoting each other at once are judged one after the other."""
        ...


class UnitOfWork(Transaction, Audited, Protocol):
    """One transaction around a use case: `with uow:` begins it; `commit()` makes its
    writes durable; leaving the block without a commit (an error, a refusal) rolls it back.
    One instance serves one use case call at a time (build one per call)."""

    @property
    def accounts(self) -> Accounts: ...
