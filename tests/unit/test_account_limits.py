"""Issue 14 on accounts, the pure parts: token subjects, the log-in throttle, the cache of
active accounts, and refusals that happen before any database work or hashing."""

from __future__ import annotations

import time

import jwt
import pytest

from domain.errors import NotAuthenticated, TooManyRequests
from services.account import service
from services.account.throttle import LocalCounts, LoginThrottle
from services.common import auth
from services.common.account_status import ActiveAccounts

ISSUER = "paysystem-test"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    keys_dir = tmp_path_factory.mktemp("keys")
    auth.ensure_keys(keys_dir)
    return keys_dir


def _signed(keys, sub) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": sub, "name": "x", "role": "SELLER", "iat": now, "exp": now + 60}
    return jwt.encode(claims, auth.load_private_key(keys), algorithm="RS256")


@pytest.mark.parametrize("sub", ["abc", " 7", "7 ", "1_000", "\u0667", "0", "-3", "9223372036854775808", "1e3"])
def test_a_validly_signed_token_whose_subject_is_not_an_account_id_is_unauthenticated(keys, sub):
    with pytest.raises(NotAuthenticated, match="subject is not an account id"):
        auth.verify_token(auth.load_public_key(keys), _signed(keys, sub), issuer=ISSUER, leeway_sec=0)


def test_the_largest_account_id_is_a_valid_subject(keys):
    principal = auth.verify_token(
        auth.load_public_key(keys), _signed(keys, "9223372036854775807"), issuer=ISSUER, leeway_sec=0
    )
    assert principal.account_id == 2**63 - 1


@pytest.mark.parametrize("username", ["alice\n", "alice\r\n", "a" * 64 + "\n", "al", "a" * 65, "ali ce", "alicé"])
def test_usernames_no_sign_up_accepts(username):
    assert service.USERNAME.fullmatch(username) is None
    with pytest.raises(Exception, match="username"):
        service.validate_sign_up(username, "long-enough", "VIEWER", service.SELF_SERVICE_ROLES)


@pytest.mark.parametrize(
    "username, password", [("alice", "p" * (8 << 20)), ("alice", "p" * 129), ("alice\n", "long-enough"), ("", "x" * 8)]
)
def test_a_log_in_no_sign_up_could_match_is_refused_before_the_database_or_a_hash(username, password):
    # engine=None: the password is hashed only after the account is read, so reaching either
    # would fail with AttributeError, not NotAuthenticated.
    with pytest.raises(NotAuthenticated, match="wrong username or password"):
        service.log_in(None, username, password, private_key=b"", issuer=ISSUER, ttl_sec=60)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_refuses_after_n_failures_until_the_window_ends_even_with_the_right_password():
    clock = Clock()
    throttle = LoginThrottle(LocalCounts(clock), max_failures=3, window_sec=60)
    for _ in range(3):
        throttle.check("alice")
        throttle.failed("alice")
    clock.now += 10
    with pytest.raises(TooManyRequests) as err:
        throttle.check("alice")
    assert err.value.retry_after_sec == 50  # the window opened at the first failure
    throttle.check("bob")  # other usernames are not affected
    clock.now += 50
    throttle.check("alice")  # the window is over


def test_a_success_clears_the_failures_of_its_username():
    throttle = LoginThrottle(LocalCounts(Clock()), max_failures=2, window_sec=60)
    throttle.failed("alice")
    throttle.succeeded("alice")
    throttle.failed("alice")
    throttle.check("alice")


def test_active_accounts_are_remembered_for_the_ttl_and_refused_accounts_are_asked_again():
    clock = Clock()
    state = {1: "SELLER", 2: None}
    asked = []

    def lookup(account_id: int) -> str | None:
        asked.append(account_id)
        return state.get(account_id)

    accounts = ActiveAccounts(lookup, ttl_sec=5, clock=clock)
    accounts.require_active(1)
    accounts.require_active(1)
    assert asked == [1]
    for refused in (2, 3):
        for _ in range(2):
            with pytest.raises(NotAuthenticated, match="account disabled or unknown"):
                accounts.require_active(refused)
    assert asked == [1, 2, 2, 3, 3]
    state[1] = None  # disabled: still let through until its entry is 5 s old
    clock.now += 4.9
    accounts.require_active(1)
    clock.now += 0.2
    with pytest.raises(NotAuthenticated):
        accounts.require_active(1)


def test_when_the_lookup_fails_only_accounts_seen_active_before_are_let_through():
    clock = Clock()
    up = {"db": True}

    def lookup(account_id: int) -> str | None:
        if not up["db"]:
            raise ConnectionError("database down")
        return "SELLER"

    accounts = ActiveAccounts(lookup, ttl_sec=1, clock=clock)
    accounts.require_active(1)
    up["db"] = False
    clock.now += 30
    accounts.require_active(1)
    with pytest.raises(ConnectionError):
        accounts.require_active(2)


def test_a_bulk_refresh_renews_remembered_accounts_and_forgets_disabled_ones():
    clock = Clock()
    state = {1: "VIEWER", 2: "VIEWER"}
    asked, bulk = [], []

    def lookup(account_id: int) -> str | None:
        asked.append(account_id)
        return state.get(account_id)

    def current_roles(ids: list[int]) -> dict[int, str]:
        bulk.append(sorted(ids))
        return {i: state[i] for i in ids if state.get(i)}

    # No background thread: the test calls the refresh itself.
    accounts = ActiveAccounts(lookup, ttl_sec=5, current_roles=current_roles, background=False, clock=clock)
    accounts.require_active(1)
    accounts.require_active(2)
    assert asked == [1, 2]
    clock.now += 4
    state[2] = None
    accounts.refresh_remembered()
    assert bulk == [[1, 2]]
    # 1 was renewed at t+4: trusted until t+9 without another single lookup.
    clock.now += 4.9
    accounts.require_active(1)
    assert asked == [1, 2]
    # 2 was found disabled by the refresh: refused at once, well inside its first TTL.
    with pytest.raises(NotAuthenticated, match="account disabled or unknown"):
        accounts.require_active(2)
    assert asked == [1, 2, 2]
    # Past the renewed TTL without a refresh: asked again, one by one.
    clock.now += 0.2
    accounts.require_active(1)
    assert asked == [1, 2, 2, 1]


def test_a_failed_bulk_refresh_keeps_the_remembered_accounts_and_their_ttl():
    clock = Clock()
    asked = []

    def lookup(account_id: int) -> str | None:
        asked.append(account_id)
        return "SELLER"

    def current_roles(ids: list[int]) -> dict[int, str]:
        raise ConnectionError("database down")

    accounts = ActiveAccounts(lookup, ttl_sec=5, current_roles=current_roles, background=False, clock=clock)
    accounts.require_active(1)
    clock.now += 2
    with pytest.raises(ConnectionError):
        accounts.refresh_remembered()
    clock.now += 2.9
    accounts.require_active(1)  # still inside the TTL of the first lookup
    assert asked == [1]
    clock.now += 0.2
    accounts.require_active(1)
    assert asked == [1, 1]


def test_a_token_whose_role_is_no_longer_the_accounts_is_refused_within_the_ttl():
    clock = Clock()
    state = {1: "SELLER"}
    asked = []

    def lookup(account_id: int) -> str | None:
        asked.append(account_id)
        return state.get(account_id)

    def current_roles(ids: list[int]) -> dict[int, str]:
        return {i: state[i] for i in ids if state.get(i)}

    accounts = ActiveAccounts(lookup, ttl_sec=5, current_roles=current_roles, background=False, clock=clock)
    accounts.require_active(1, "SELLER")
    with pytest.raises(NotAuthenticated, match="role changed since this token was issued; log in again"):
        accounts.require_active(1, "ADMIN")  # a token naming another role than the account's
    state[1] = "VIEWER"  # demoted: the old token works until the remembered role is renewed
    clock.now += 2
    accounts.require_active(1, "SELLER")
    accounts.refresh_remembered()  # the background thread does this every ttl / 2
    with pytest.raises(NotAuthenticated, match="role changed"):
        accounts.require_active(1, "SELLER")
    accounts.require_active(1, "VIEWER")  # a new token, with the new role
    accounts.require_active(1)  # no role named: any role
    # Without a refresh, the single lookup after the TTL finds the change all the same.
    state[1] = "SELLER"
    clock.now += 5.1
    with pytest.raises(NotAuthenticated, match="role changed"):
        accounts.require_active(1, "VIEWER")
    # A role other than the remembered one is always asked about (never refused from memory):
    # the first call, the ADMIN token, the stale SELLER token, the VIEWER token after the TTL.
    assert asked == [1, 1, 1, 1]


def test_a_new_token_with_the_new_role_is_honoured_where_the_old_role_is_still_remembered():
    """Another instance saw the change first and the client logged in again: this instance
    still remembers the old role, and asks instead of refusing the new token."""
    clock = Clock()
    state = {1: "SELLER"}
    accounts = ActiveAccounts(state.get, ttl_sec=5, background=False, clock=clock)
    accounts.require_active(1, "SELLER")
    state[1] = "VIEWER"
    clock.now += 1
    accounts.require_active(1, "VIEWER")
    with pytest.raises(NotAuthenticated, match="role changed"):
        accounts.require_active(1, "SELLER")
