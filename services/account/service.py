"""Use cases: sign up, log in, create an admin or an ingest service account, disable an
account, change an account's role, read an account."""

from __future__ import annotations

import dataclasses
import re

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from domain.audit_chain import OPERATOR, AuditEvent, summary_json
from domain.errors import (
    AccountExists,
    AccountNotFound,
    BadAccountDetails,
    BadCredentials,
    BadRoleChange,
    LastAdmin,
    NotFound,
    OwnRoleChange,
    require_positive_id,
)
from services.account import repository
from services.account.ports import StoredAccount, UnitOfWork
from services.account.throttle import LoginThrottle
from services.common import auth
from services.common.clock import SYSTEM_CLOCK, Clock

# fullmatch: `$` would also match before a trailing newline ("alice\n" is not "alice").
USERNAME = re.compile(r"[A-Za-z0-9._-]{3,64}")
PASSWORD_MAX = 128
SELF_SERVICE_ROLES = ("VIEWER", "SELLER")
WRONG_CREDENTIALS = "wrong username or password"
# argon2id with OWASP's minimum (19 MiB, 2 passes): sign-up and log-in stay cheap enough for a
# 2-core machine serving bursts of sign-ups, while an offline guess still costs that memory.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
# Verified against when the username is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclasses.dataclass(frozen=True)
class Account:
    account_id: int
    username: str
    role: str
    created_at_us: int


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    account: Account


def sql_unit_of_work(engine: sa.Engine) -> UnitOfWork:
    """The SQL unit of work (repository.SqlUnitOfWork), for callers holding an engine: the
    servicer, the CLI (which imports no repository) and tests. One per use case call."""
    return repository.SqlUnitOfWork(engine)


def validate_sign_up(username: str, password: str, role: str, allowed_roles: tuple[str, ...]) -> None:
    if not USERNAME.fullmatch(username):
        raise BadAccountDetails("must be 3-64 characters of letters, digits, '.', '_' or '-'", field="username")
    if not 8 <= len(password) <= PASSWORD_MAX:
        raise BadAccountDetails(f"must be 8-{PASSWORD_MAX} characters", field="password")
    if role not in allowed_roles:
        raise BadAccountDetails(f"must be one of {', '.join(allowed_roles)}", field="role")


def create_account(
    uow: UnitOfWork,
    username: str,
    password: str,
    role: str,
    *,
    allowed_roles=SELF_SERVICE_ROLES,
    clock: Clock = SYSTEM_CLOCK,
) -> Account:
    validate_sign_up(username, password, role, allowed_roles)
    created = clock.now_us()
    password_hash = _hasher.hash(password)
    with uow:
        account_id = uow.accounts.add(username=username, password_hash=password_hash, role=role, created_at_us=created)
        if account_id is None:
            raise AccountExists(f"username {username!r} is taken", field="username")
        uow.commit()
    return Account(account_id, username, role, created)


def log_in(
    uow: UnitOfWork,
    username: str,
    password: str,
    *,
    private_key: bytes,
    issuer: str,
    ttl_sec: int,
    throttle: LoginThrottle | None = None,
) -> IssuedToken:
    """A token for the account; the same 401 for an unknown username, a wrong password and
    a disabled account. Refused before any hashing: a username or password no sign-up could
    have made, and (429) a username with too many recent failures."""
    if not USERNAME.fullmatch(username) or len(password) > PASSWORD_MAX:
        raise BadCredentials(WRONG_CREDENTIALS)
    if throttle is not None:
        throttle.check(username)
    with uow:
        row = uow.accounts.by_username(username)
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            row = None
        if row is None or row.disabled_at_us is not None:
            if throttle is not None:
                throttle.failed(username)
            raise BadCredentials(WRONG_CREDENTIALS)
        if _hasher.check_needs_rehash(row.password_hash):
            uow.accounts.set_password_hash(row.account_id, _hasher.hash(password))
        uow.commit()
    if throttle is not None:
        throttle.succeeded(username)
    account = Account(row.account_id, row.username, row.role, row.created_at_us)
    principal = auth.Principal(account.account_id, account.username, account.role)
    token = auth.issue_token(private_key, principal, issuer=issuer, ttl_sec=ttl_sec)
    return IssuedToken(token, ttl_sec, account)


def read_account(uow: UnitOfWork, account_id: int, *, reader: auth.Principal) -> Account:
    """The account's id, username, role and creation instant (never its password hash), for
    the account itself (any role) or an admin. Another caller is refused before the lookup, so
    a 403 says nothing about whether the id exists. A disabled account is still answered: an
    admin's pages name a seller that can no longer sign in."""
    require_positive_id(account_id, "account_id")
    auth.require_self_or_admin(reader, account_id, "account")
    with uow:
        row = uow.accounts.by_id(account_id)
    if row is None:
        raise AccountNotFound(f"no account {account_id}", field="account_id")
    return Account(row.account_id, row.username, row.role, row.created_at_us)


def disable_account(uow: UnitOfWork, username: str, *, clock: Clock = SYSTEM_CLOCK) -> tuple[Account, int]:
    """Marks the account disabled (once: disabling again keeps the first instant, `clock`'s);
    returns it and the instant it was disabled. Its tokens stop working within the services' account
    check TTL, and it can no longer log in. The operator's command: the audit entry's actor is
    OPERATOR."""
    with uow:
        row = uow.accounts.by_username(username)
        if row is None:
            raise NotFound(f"no account {username!r}", field="username")
        disabled_at = row.disabled_at_us
        if disabled_at is None:
            disabled_at = clock.now_us()
            uow.accounts.set_disabled_at(row.account_id, disabled_at)
            disabled = AuditEvent(
                OPERATOR,
                "account.disable",
                f"account:{row.account_id}",
                summary_json({"username": row.username, "disabled": False}),
                summary_json({"username": row.username, "disabled": True}),
            )
            uow.audit.record(disabled, disabled_at)
        uow.commit()
    return Account(row.account_id, row.username, row.role, row.created_at_us), disabled_at


def check_role_change(role: str, account_id: int, *, actor: auth.Principal | None) -> None:
    """The rules of a role change that need no database: an admin (or the operator, `actor`
    None) changes the role of an existing id to one of the four roles, never their own
    through the API (an admin who demotes themselves by mistake cannot undo it; another admin
    or the operator can make the change)."""
    if actor is not None:
        auth.require_role(actor, "ADMIN")
    require_positive_id(account_id, "account_id")
    if role not in auth.ROLES:
        raise BadRoleChange(f"must be one of {', '.join(auth.ROLES)}, got {role}", field="role")
    if actor is not None and actor.account_id == account_id:
        raise OwnRoleChange(
            "an admin cannot change their own role; another admin, or the operator with `paysystem set-role`, can",
            field="account_id",
        )


def set_role(
    uow: UnitOfWork, account_id: int, role: str, *, actor: auth.Principal | None, clock: Clock = SYSTEM_CLOCK
) -> tuple[Account, str]:
    """Gives the account `role`; returns it and its previous role (the same role again
    changes nothing). Its tokens stop working within the services' account check TTL (their
    role is no longer the account's); a new log-in gets a token with the new role. The last
    active ADMIN keeps the role (LastAdmin). `actor` None: the operator's command."""
    check_role_change(role, account_id, actor=actor)
    with uow:
        row = uow.accounts.by_id(account_id, for_update=True)
        if row is None:
            raise AccountNotFound(f"no account {account_id}", field="account_id")
        return _change_role(uow, row, role, actor.account_id if actor else OPERATOR, clock)


def set_role_by_username(
    uow: UnitOfWork, username: str, role: str, *, clock: Clock = SYSTEM_CLOCK
) -> tuple[Account, str]:
    """The operator's `paysystem set-role`: as set_role, the account named by username."""
    with uow:
        row = uow.accounts.by_username(username)
        if row is None:
            raise NotFound(f"no account {username!r}", field="username")
        check_role_change(role, row.account_id, actor=None)
        locked = uow.accounts.by_id(row.account_id, for_update=True)
        if locked is None:
            raise NotFound(f"no account {username!r}", field="username")
        return _change_role(uow, locked, role, OPERATOR, clock)


def _change_role(uow: UnitOfWork, row: StoredAccount, role: str, actor_id: int, clock: Clock) -> tuple[Account, str]:
    """Inside `uow`'s block: changes the role (recording it in the audit log, by `actor_id`)
    and commits, or refuses (LastAdmin)."""
    previous = row.role
    if role != previous:
        if previous == "ADMIN" and row.disabled_at_us is None and uow.accounts.other_active_admins(row.account_id) == 0:
            raise LastAdmin(
                f"{row.username!r} is the last active admin and keeps the role; make another admin first",
                field="role",
            )
        uow.accounts.set_role(row.account_id, role)
        changed = AuditEvent(
            actor_id,
            "account.set_role",
            f"account:{row.account_id}",
            summary_json({"username": row.username, "role": previous}),
            summary_json({"username": row.username, "role": role}),
        )
        uow.audit.record(changed, clock.now_us())
    uow.commit()
    return Account(row.account_id, row.username, role, row.created_at_us), previous
