"""In-memory fakes of services/account/ports.py for the use-case tests (tests/unit/
test_account_use_cases.py). They keep the SQL adapter's contract (checked against it by
tests/integration/test_account_ports_contract.py): ids from 1 up, a username taken when it is
equal character for character, writes kept only when the unit of work commits."""

from __future__ import annotations

import copy
import dataclasses

from services.account.ports import StoredAccount
from tests.fakes.unit_of_work import SnapshotUnitOfWork


class FakeAccounts:
    def __init__(self, accounts: list[StoredAccount] | None = None) -> None:
        self.rows: dict[int, StoredAccount] = {account.account_id: account for account in accounts or []}
        self.locked: set[int] = set()  # ids read FOR UPDATE, for tests that check the locking

    def add(self, *, username: str, password_hash: str, role: str, created_at_us: int) -> int | None:
        if self.by_username(username) is not None:
            return None
        account_id = max(self.rows, default=0) + 1
        self.rows[account_id] = StoredAccount(account_id, username, password_hash, role, created_at_us, None)
        return account_id

    def by_username(self, username: str) -> StoredAccount | None:
        return next((row for row in self.rows.values() if row.username == username), None)

    def by_id(self, account_id: int, *, for_update: bool = False) -> StoredAccount | None:
        if for_update:
            self.locked.add(account_id)
        return self.rows.get(account_id)

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        self._change(account_id, password_hash=password_hash)

    def set_disabled_at(self, account_id: int, disabled_at_us: int) -> None:
        self._change(account_id, disabled_at_us=disabled_at_us)

    def set_role(self, account_id: int, role: str) -> None:
        self._change(account_id, role=role)

    def other_active_admins(self, account_id: int) -> int:
        return sum(
            1
            for row in self.rows.values()
            if row.role == "ADMIN" and row.disabled_at_us is None and row.account_id != account_id
        )

    def _change(self, account_id: int, **values: object) -> None:
        # An UPDATE of an id that is not there changes nothing, as in SQL.
        if account_id in self.rows:
            self.rows[account_id] = dataclasses.replace(self.rows[account_id], **values)  # type: ignore[arg-type]


class FakeUnitOfWork(SnapshotUnitOfWork):
    """ports.UnitOfWork over FakeAccounts: `committed` says whether a commit happened;
    leaving the block without one puts the accounts back as they were at its start."""

    def __init__(self, accounts: FakeAccounts | None = None) -> None:
        super().__init__()
        self.accounts = accounts or FakeAccounts()

    def _snapshot(self) -> dict[int, StoredAccount]:
        return copy.copy(self.accounts.rows)

    def _restore(self, saved: dict[int, StoredAccount]) -> None:
        self.accounts.rows = copy.copy(saved)

    def _block_ended(self) -> None:
        self.accounts.locked.clear()
