"""The fake of the account ports (tests/fakes/account.py) answers as the SQL adapter
(services/account/repository.py) does: one scenario runs against both, on MariaDB and SQLite,
and the answers must be equal, so the use-case tests over the fake stay true of the service."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.account import repository
from services.account.ports import StoredAccount, UnitOfWork
from tests.databases import fresh_engine
from tests.fakes.account import FakeAccounts, FakeUnitOfWork

T0 = 1_700_000_000_000_000


def scenario(new_uow: Callable[[], UnitOfWork]) -> list[object]:
    """Port calls and what they answered. Ids are shown as the order in which they were
    first seen (#1, #2, ...): a database may skip numbers after a refused insert."""
    seen: dict[int, str] = {}

    def name(account_id: int | None) -> str | None:
        return None if account_id is None else seen.setdefault(account_id, f"#{len(seen) + 1}")

    def shown(row: StoredAccount | None) -> object:
        if row is None:
            return None
        return (name(row.account_id), row.username, row.password_hash, row.role, row.created_at_us, row.disabled_at_us)

    answers: list[object] = []
    with new_uow() as uow:
        alice = uow.accounts.add(username="alice", password_hash="h1", role="SELLER", created_at_us=T0)
        answers.append(("add alice", name(alice)))
        answers.append(
            ("add alice again", uow.accounts.add(username="alice", password_hash="h2", role="VIEWER", created_at_us=T0))
        )
        # The refused insert leaves the unit of work usable.
        answers.append(
            (
                "add Alice",
                name(uow.accounts.add(username="Alice", password_hash="h3", role="VIEWER", created_at_us=T0 + 1)),
            )
        )
        first = uow.accounts.add(username="admin1", password_hash="h4", role="ADMIN", created_at_us=T0 + 2)
        second = uow.accounts.add(username="admin2", password_hash="h5", role="ADMIN", created_at_us=T0 + 3)
        uow.commit()
    assert alice is not None and first is not None and second is not None
    name(first)
    name(second)
    with new_uow() as uow:
        answers.append(("alice", shown(uow.accounts.by_username("alice"))))
        answers.append(("ALICE", shown(uow.accounts.by_username("ALICE"))))
        answers.append(("by id, locked", shown(uow.accounts.by_id(alice, for_update=True))))
        answers.append(("no such id", shown(uow.accounts.by_id(max(alice, first, second) + 1000))))
        answers.append(("admins besides admin1", uow.accounts.other_active_admins(first)))
        answers.append(("admins besides alice", uow.accounts.other_active_admins(alice)))
        uow.accounts.set_disabled_at(second, T0 + 10)
        uow.accounts.set_password_hash(alice, "h9")
        uow.accounts.set_role(alice, "VIEWER")
        answers.append(("admins besides admin1, admin2 disabled", uow.accounts.other_active_admins(first)))
        uow.commit()
    with new_uow() as uow:
        answers.append(("alice changed", shown(uow.accounts.by_username("alice"))))
        answers.append(("admin2 disabled", shown(uow.accounts.by_id(second))))
        uow.accounts.set_role(first, "VIEWER")
        uow.accounts.add(username="temp", password_hash="h0", role="VIEWER", created_at_us=T0)
        # no commit: leaving the block rolls back
    with new_uow() as uow:
        answers.append(("after rollback", shown(uow.accounts.by_id(first)), shown(uow.accounts.by_username("temp"))))
        uow.accounts.set_role(first, "SELLER")
        uow.rollback()
    with new_uow() as uow:
        answers.append(("after explicit rollback", shown(uow.accounts.by_id(first))))
    with pytest.raises(ZeroDivisionError), new_uow() as uow:
        uow.accounts.set_role(first, "SELLER")
        1 / 0  # noqa: B018 (an error inside the block)
    with new_uow() as uow:
        answers.append(("after an error", shown(uow.accounts.by_id(first))))
    return answers


EXPECTED = [
    ("add alice", "#1"),
    ("add alice again", None),
    ("add Alice", "#2"),
    ("alice", ("#1", "alice", "h1", "SELLER", T0, None)),
    ("ALICE", None),
    ("by id, locked", ("#1", "alice", "h1", "SELLER", T0, None)),
    ("no such id", None),
    ("admins besides admin1", 1),
    ("admins besides alice", 2),
    ("admins besides admin1, admin2 disabled", 0),
    ("alice changed", ("#1", "alice", "h9", "VIEWER", T0, None)),
    ("admin2 disabled", ("#4", "admin2", "h5", "ADMIN", T0 + 3, T0 + 10)),
    ("after rollback", ("#3", "admin1", "h4", "ADMIN", T0 + 2, None), None),
    ("after explicit rollback", ("#3", "admin1", "h4", "ADMIN", T0 + 2, None)),
    ("after an error", ("#3", "admin1", "h4", "ADMIN", T0 + 2, None)),
]


def test_the_fake_answers_the_scenario_as_written():
    accounts = FakeAccounts()
    assert scenario(lambda: FakeUnitOfWork(accounts)) == EXPECTED


@pytest.mark.parametrize("backend", ["mariadb", "sqlite"])
def test_the_sql_adapter_answers_the_scenario_as_the_fake(backend, tmp_path):
    accounts = FakeAccounts()
    fake = scenario(lambda: FakeUnitOfWork(accounts))
    with fresh_engine(backend, "paysystem_account_ports_", tmp_path) as engine:
        sql = scenario(lambda: repository.SqlUnitOfWork(engine))
    assert sql == fake
