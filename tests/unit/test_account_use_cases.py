"""The account use cases (services/account/service.py) against the in-memory fakes
(tests/fakes/account.py): no database. Each refusal is checked to commit nothing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from domain.errors import (
    AccountExists,
    AccountNotFound,
    BadAccountDetails,
    BadCredentials,
    BadInput,
    BadRoleChange,
    LastAdmin,
    NotFound,
    NotOwner,
    OwnRoleChange,
    RoleNotAllowed,
)
from services.account import service
from services.account.ports import StoredAccount
from services.common import auth
from services.common.clock import FixedClock
from tests.fakes.account import FakeAccounts, FakeUnitOfWork

ISSUER = "paysystem-test"
PASSWORD = "correct-horse"
T0 = 1_700_000_000_000_000  # an instant in microseconds
# A cheap hash (the fakes store what they are given): log-in rehashes it to the service's settings.
WEAK_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
# The service's settings (argon2id, 19 MiB, 2 passes): log-in keeps such a hash.
STRONG_HASH = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1).hash(PASSWORD)


def stored(account_id: int, username: str, role: str, *, disabled_at_us: int | None = None) -> StoredAccount:
    return StoredAccount(account_id, username, STRONG_HASH, role, T0, disabled_at_us)


def world(*accounts: StoredAccount) -> FakeUnitOfWork:
    return FakeUnitOfWork(FakeAccounts(list(accounts)))


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    keys_dir = tmp_path_factory.mktemp("keys")
    auth.ensure_keys(keys_dir)
    return keys_dir


# --- sign-up -------------------------------------------------------------------------------


def test_sign_up_stores_the_account_with_a_hash_of_the_password_and_commits():
    uow = world()
    account = service.create_account(uow, "alice", PASSWORD, "SELLER", clock=FixedClock(T0))
    assert account == service.Account(1, "alice", "SELLER", T0)
    assert uow.committed
    row = uow.accounts.rows[1]
    assert (row.username, row.role, row.created_at_us, row.disabled_at_us) == ("alice", "SELLER", T0, None)
    assert row.password_hash != PASSWORD
    assert PasswordHasher().verify(row.password_hash, PASSWORD)


def test_a_taken_username_is_refused_commits_nothing_and_the_first_account_stays():
    uow = world(stored(1, "alice", "VIEWER"))
    with pytest.raises(AccountExists, match="taken"):
        service.create_account(uow, "alice", "another-password", "SELLER")
    assert not uow.committed
    assert list(uow.accounts.rows.values()) == [stored(1, "alice", "VIEWER")]


def test_usernames_differing_in_case_are_two_accounts():
    uow = world(stored(1, "alice", "VIEWER"))
    assert service.create_account(uow, "Alice", PASSWORD, "VIEWER").account_id == 2


@pytest.mark.parametrize(
    ("username", "password", "role", "field"),
    [
        ("al", PASSWORD, "SELLER", "username"),
        ("alice\n", PASSWORD, "SELLER", "username"),
        ("alice", "short", "SELLER", "password"),
        ("alice", "x" * 129, "SELLER", "password"),
        ("alice", PASSWORD, "ADMIN", "role"),  # not a self-service role
    ],
)
def test_bad_sign_ups_are_refused_before_storage(username, password, role, field):
    uow = world()
    with pytest.raises(BadAccountDetails) as raised:
        service.create_account(uow, username, password, role)
    assert raised.value.field == field
    assert not uow.committed
    assert uow.accounts.rows == {}


def test_the_operator_may_create_an_admin_with_allowed_roles():
    uow = world()
    account = service.create_account(uow, "root-admin", PASSWORD, "ADMIN", allowed_roles=("ADMIN",))
    assert account.role == "ADMIN"
    assert uow.committed


# --- log-in --------------------------------------------------------------------------------


def _log_in(uow: FakeUnitOfWork, keys, username: str, password: str = PASSWORD) -> service.IssuedToken:
    return service.log_in(uow, username, password, private_key=auth.load_private_key(keys), issuer=ISSUER, ttl_sec=60)


def test_log_in_issues_a_token_naming_the_account_and_its_role(keys):
    uow = world(stored(7, "bob", "SELLER"))
    issued = _log_in(uow, keys, "bob")
    assert issued.account == service.Account(7, "bob", "SELLER", T0)
    assert issued.expires_in == 60
    principal = auth.verify_token(auth.load_public_key(keys), issued.access_token, issuer=ISSUER, leeway_sec=0)
    assert principal == auth.Principal(7, "bob", "SELLER")
    assert uow.accounts.rows[7].password_hash == STRONG_HASH  # already the service's settings: kept


def test_log_in_with_an_older_hash_stores_a_new_one_and_commits_it(keys):
    uow = world(StoredAccount(3, "carol", WEAK_HASH, "VIEWER", T0, None))
    _log_in(uow, keys, "carol")
    assert uow.committed
    new_hash = uow.accounts.rows[3].password_hash
    assert new_hash != WEAK_HASH
    assert "m=19456,t=2,p=1" in new_hash
    assert PasswordHasher().verify(new_hash, PASSWORD)


@pytest.mark.parametrize(
    ("username", "password", "disabled"),
    [("bob", "wrong-password", None), ("nobody", PASSWORD, None), ("bob", PASSWORD, T0 + 1)],
    ids=["wrong password", "unknown username", "disabled account"],
)
def test_every_failed_log_in_gets_the_same_answer_and_commits_nothing(keys, username, password, disabled):
    uow = world(StoredAccount(7, "bob", WEAK_HASH, "SELLER", T0, disabled))
    with pytest.raises(BadCredentials) as raised:
        _log_in(uow, keys, username, password)
    assert str(raised.value) == "wrong username or password"
    assert not uow.committed
    assert uow.accounts.rows[7].password_hash == WEAK_HASH  # no rehash on a failure


def test_a_username_no_sign_up_could_make_is_refused_without_reading_storage(keys):
    # None in place of the unit of work: any use of it would fail with another error.
    with pytest.raises(BadCredentials):
        service.log_in(None, "a b", PASSWORD, private_key=b"", issuer=ISSUER, ttl_sec=60)  # type: ignore[arg-type]


# --- disabling -----------------------------------------------------------------------------


def test_disabling_marks_the_account_once_with_the_first_instant():
    uow = world(stored(1, "dave", "SELLER"))
    account, disabled_at = service.disable_account(uow, "dave", clock=FixedClock(T0 + 5))
    assert (account, disabled_at) == (service.Account(1, "dave", "SELLER", T0), T0 + 5)
    assert uow.committed
    _, again = service.disable_account(uow, "dave", clock=FixedClock(T0 + 99))
    assert again == T0 + 5
    assert uow.accounts.rows[1].disabled_at_us == T0 + 5


def test_disabling_an_unknown_username_is_not_found_and_commits_nothing():
    uow = world(stored(1, "dave", "SELLER"))
    with pytest.raises(NotFound) as raised:
        service.disable_account(uow, "nobody")
    assert raised.value.field == "username"
    assert not uow.committed


# --- role changes --------------------------------------------------------------------------

ADMIN = auth.Principal(1, "admin", "ADMIN")


def test_an_admin_changes_a_role_under_a_lock_and_gets_the_previous_role():
    uow = world(stored(1, "admin", "ADMIN"), stored(2, "seller", "SELLER"))
    locked = []
    by_id = uow.accounts.by_id

    def spy(account_id, *, for_update=False):
        locked.append((account_id, for_update))
        return by_id(account_id, for_update=for_update)

    uow.accounts.by_id = spy  # type: ignore[method-assign]
    account, previous = service.set_role(uow, 2, "VIEWER", actor=ADMIN)
    assert (account, previous) == (service.Account(2, "seller", "VIEWER", T0), "SELLER")
    assert locked == [(2, True)]
    assert uow.committed
    assert uow.accounts.rows[2].role == "VIEWER"


def test_the_same_role_again_changes_nothing():
    uow = world(stored(1, "admin", "ADMIN"), stored(2, "seller", "SELLER"))
    account, previous = service.set_role(uow, 2, "SELLER", actor=ADMIN)
    assert (account.role, previous) == ("SELLER", "SELLER")
    assert uow.accounts.rows[2] == stored(2, "seller", "SELLER")


@pytest.mark.parametrize(
    ("actor", "account_id", "role", "error"),
    [
        (auth.Principal(5, "seller", "SELLER"), 2, "VIEWER", RoleNotAllowed),
        (ADMIN, 1, "SELLER", OwnRoleChange),
        (ADMIN, 2, "ROOT", BadRoleChange),
        (ADMIN, 0, "VIEWER", BadInput),  # not a positive id
        (ADMIN, 99, "VIEWER", AccountNotFound),
    ],
    ids=["not an admin", "own role", "no such role", "bad id", "no such account"],
)
def test_refused_role_changes_commit_nothing(actor, account_id, role, error):
    before = [stored(1, "admin", "ADMIN"), stored(2, "seller", "SELLER")]
    uow = world(*before)
    with pytest.raises(error):
        service.set_role(uow, account_id, role, actor=actor)
    assert not uow.committed
    assert list(uow.accounts.rows.values()) == before


def test_the_last_active_admin_keeps_the_role_a_disabled_admin_does_not_count():
    before = [stored(1, "only", "ADMIN"), stored(2, "gone", "ADMIN", disabled_at_us=T0)]
    uow = world(*before)
    with pytest.raises(LastAdmin, match="last active admin"):
        service.set_role(uow, 1, "SELLER", actor=None)
    with pytest.raises(LastAdmin):
        service.set_role_by_username(uow, "only", "VIEWER")
    assert not uow.committed
    assert list(uow.accounts.rows.values()) == before


def test_with_another_active_admin_an_admin_may_be_demoted_and_a_disabled_admin_always():
    uow = world(
        stored(1, "first", "ADMIN"), stored(2, "second", "ADMIN"), stored(3, "gone", "ADMIN", disabled_at_us=T0)
    )
    assert service.set_role(uow, 2, "SELLER", actor=ADMIN)[1] == "ADMIN"
    assert service.set_role_by_username(uow, "gone", "VIEWER")[1] == "ADMIN"
    assert [row.role for row in uow.accounts.rows.values()] == ["ADMIN", "SELLER", "VIEWER"]


def test_the_operator_changes_a_role_by_username_and_refusals_commit_nothing():
    uow = world(stored(1, "admin", "ADMIN"), stored(2, "seller", "SELLER"))
    account, previous = service.set_role_by_username(uow, "seller", "ADMIN")
    assert (account.account_id, account.role, previous) == (2, "ADMIN", "SELLER")
    assert uow.commits == 1
    with pytest.raises(NotFound):
        service.set_role_by_username(uow, "nobody", "SELLER")
    with pytest.raises(BadRoleChange):
        service.set_role_by_username(uow, "seller", "ROOT")
    assert uow.commits == 1
    assert uow.accounts.rows[2].role == "ADMIN"


# --- reading an account ----------------------------------------------------------------------

READERS = [stored(1, "admin", "ADMIN"), stored(2, "seller", "SELLER"), stored(3, "other", "VIEWER")]


@pytest.mark.parametrize(
    ("reader", "account_id"),
    [(ADMIN, 2), (ADMIN, 1), (auth.Principal(2, "seller", "SELLER"), 2), (auth.Principal(3, "other", "VIEWER"), 3)],
    ids=["admin reads a seller", "admin reads itself", "seller reads itself", "viewer reads itself"],
)
def test_an_account_is_read_by_itself_or_an_admin_without_its_password_hash(reader, account_id):
    uow = world(*READERS)
    account = service.read_account(uow, account_id, reader=reader)
    row = uow.accounts.rows[account_id]
    assert account == service.Account(account_id, row.username, row.role, T0)
    assert not uow.committed


def test_a_disabled_account_is_still_named_to_an_admin():
    uow = world(stored(1, "admin", "ADMIN"), stored(2, "gone", "SELLER", disabled_at_us=T0))
    assert service.read_account(uow, 2, reader=ADMIN).username == "gone"


@pytest.mark.parametrize(
    ("reader", "account_id", "error"),
    [
        (auth.Principal(2, "seller", "SELLER"), 3, NotOwner),
        (auth.Principal(2, "seller", "SELLER"), 1, NotOwner),
        (auth.Principal(2, "seller", "SELLER"), 99, NotOwner),  # no hint that 99 does not exist
        (ADMIN, 99, AccountNotFound),
        (ADMIN, 0, BadInput),
        (auth.Principal(2, "seller", "SELLER"), -2, BadInput),
    ],
    ids=["another seller", "an admin", "an unknown id", "admin: unknown id", "zero", "negative"],
)
def test_refused_reads_of_an_account(reader, account_id, error):
    uow = world(*READERS)
    with pytest.raises(error):
        service.read_account(uow, account_id, reader=reader)
    assert list(uow.accounts.rows.values()) == READERS
