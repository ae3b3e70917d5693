"""Whether a token's account may still act: it exists and is not disabled.

A token stays valid until it expires, but an account can be disabled (`paysystem
disable-account`) or never have existed (a token signed for a made-up `sub`). Every service
checks the account behind each call; accounts found active are remembered for `ttl_sec`, so
the cost is one primary-key read per account per instance per TTL, and a disabled account
loses access within that TTL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from services.common.errors import AccountNotActive
from services.common.metrics import ACCOUNTS_REFUSED
from services.common.schema import accounts

log = logging.getLogger(__name__)
REFUSED = "account disabled or unknown"


class ActiveAccounts:
    """`require_active(account_id)` raises AccountNotActive unless `is_active(account_id)`.

    When the lookup itself fails (the database is down), an account found active before,
    even longer ago than the TTL, keeps access: an outage should not turn every cached read
    into an error. An account never seen gets the lookup's error (UNAVAILABLE).
    """

    def __init__(
        self,
        is_active: Callable[[int], bool],
        ttl_sec: float,
        *,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._is_active = is_active
        self._ttl = ttl_sec
        self._max = max_entries
        self._clock = clock
        self._seen: dict[int, float] = {}  # account id -> when it was last found active
        self._lock = threading.Lock()

    def require_active(self, account_id: int) -> None:
        now = self._clock()
        seen = self._seen.get(account_id)
        if seen is not None and now - seen < self._ttl:
            return
        try:
            active = self._is_active(account_id)
        except Exception:
            if seen is None:
                raise
            log.warning("account check failed; account %s was active %.0f s ago, let through", account_id, now - seen)
            return
        if not active:
            with self._lock:
                self._seen.pop(account_id, None)
            ACCOUNTS_REFUSED.inc()
            raise AccountNotActive(REFUSED)
        with self._lock:
            if len(self._seen) >= self._max:
                self._seen.clear()
            self._seen[account_id] = now


def database_lookup(engine: sa.Engine) -> Callable[[int], bool]:
    """is_active(account_id) from the accounts table."""
    query = sa.select(accounts.c.disabled_at_us).where(accounts.c.account_id == sa.bindparam("account_id"))

    def is_active(account_id: int) -> bool:
        with engine.connect() as conn:
            row = conn.execute(query, {"account_id": account_id}).first()
        return row is not None and row.disabled_at_us is None

    return is_active
