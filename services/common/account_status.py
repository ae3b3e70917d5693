"""Whether a token's account may still act: it exists, is not disabled, and still has the
role the token names.

A token stays valid until it expires, but an account can be disabled (`paysystem
disable-account`), change role (`SetRole`, `paysystem set-role`) or never have existed (a
token signed for a made-up `sub`). Every service checks the account behind each call; what it
found (active, with its role) is trusted for `ttl_sec` from the moment the read that found it
was sent, so a disabled or demoted account loses its old tokens within that TTL. A token whose
role is not the account's current one is refused with UNAUTHENTICATED (401), not
PERMISSION_DENIED: the token's claims are out of date, and the remedy is a new token (log in
again), which then carries the current role.

With a `current_roles` bulk lookup (as the services run it), a background thread re-reads every
remembered account in one query every `ttl_sec / 2` and renews their trust, so a request
itself reads the accounts table only for an account its instance has not seen (or when that
thread is late). Measured in docs/statistics_settlement.md ("2026-12-01"): one primary-key
read per account per TTL on the request path cost the read benchmark, whose 200 sellers each
call an instance a few times per TTL, up to a third of a top-5 request's CPU.

The lookups themselves read the account service's table: they are that service's published
read functions (services/account/published.py), handed in by each server's entry point.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from domain.errors import AccountNotActive, AccountRoleChanged
from services.common.metrics import ACCOUNTS_REFUSED

log = logging.getLogger(__name__)
REFUSED = "account disabled or unknown"
ROLE_CHANGED = "the account's role changed since this token was issued; log in again"


class ActiveAccounts:
    """`require_active(account_id, role)` raises AccountNotActive unless
    `current_role(account_id)` finds the account active, and AccountRoleChanged when its role
    is not the token's `role`.

    When the lookup itself fails (the database is down), an account found active before,
    even longer ago than the TTL, keeps access: an outage should not turn every cached read
    into an error. An account never seen gets the lookup's error (UNAVAILABLE).
    """

    def __init__(
        self,
        current_role: Callable[[int], str | None],
        ttl_sec: float,
        *,
        current_roles: Callable[[list[int]], dict[int, str]] | None = None,
        background: bool = True,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._current_role = current_role
        self._current_roles = current_roles
        self._ttl = ttl_sec
        self._max = max_entries
        self._clock = clock
        # account id -> (when the read that found it active was sent, its role then)
        self._seen: dict[int, tuple[float, str]] = {}
        self._lock = threading.Lock()
        # refresh_remembered runs in a thread started on first use, unless the caller runs it.
        self._background = background and current_roles is not None and ttl_sec > 0
        self._thread: threading.Thread | None = None

    def require_active(self, account_id: int, role: str | None = None) -> None:
        """role: the token's role, which must be the account's (None: any role)."""
        now = self._clock()
        seen = self._seen.get(account_id)
        # A token whose role differs from the remembered one asks again rather than being
        # refused: after a role change, another instance may have remembered the new role
        # first, and a token issued since carries it (a stale token is refused by the read:
        # one primary-key lookup per call, until the token expires).
        if seen is not None and now - seen[0] < self._ttl and role in (None, seen[1]):
            return
        if self._background and self._thread is None:
            self._start()  # on first use: nothing connects when a service is built
        try:
            current = self._current_role(account_id)
        except Exception:
            if seen is None:
                raise
            log.warning(
                "account check failed; account %s was active %.0f s ago, let through", account_id, now - seen[0]
            )
            _require_role(seen[1], role)
            return
        if current is None:
            with self._lock:
                self._seen.pop(account_id, None)
            ACCOUNTS_REFUSED.inc()
            raise AccountNotActive(REFUSED)
        with self._lock:
            if len(self._seen) >= self._max:
                self._seen.clear()
            self._seen[account_id] = (now, current)
        _require_role(current, role)

    def refresh_remembered(self) -> None:
        """Re-reads every remembered account in one bulk lookup: those still active are
        trusted, with the role read, for another TTL from when the read was sent; the others
        are forgotten (their next call asks again, and is refused). A failed lookup changes
        nothing."""
        with self._lock:
            ids = list(self._seen)
        if not ids or self._current_roles is None:  # no bulk lookup: entries just age out
            return
        sent = self._clock()
        roles = self._current_roles(ids)
        with self._lock:
            for account_id in ids:
                role = roles.get(account_id)
                if role is not None:
                    entry = self._seen.get(account_id)
                    if entry is None or entry[0] <= sent:
                        self._seen[account_id] = (sent, role)
                else:
                    self._seen.pop(account_id, None)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._refresh_loop, name="account-check", daemon=True)
                self._thread.start()

    def _refresh_loop(self) -> None:
        while True:
            time.sleep(self._ttl / 2)
            try:
                self.refresh_remembered()
            except Exception as exc:  # noqa: BLE001 - requests ask the database themselves meanwhile
                log.warning("account check refresh failed (calls ask for their account themselves): %s", exc)


def _require_role(current: str, token_role: str | None) -> None:
    if token_role is not None and token_role != current:
        ACCOUNTS_REFUSED.inc()
        raise AccountRoleChanged(ROLE_CHANGED)
