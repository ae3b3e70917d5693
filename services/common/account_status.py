"""Whether a token's account may still act: it exists and is not disabled.

A token stays valid until it expires, but an account can be disabled (`paysystem
disable-account`) or never have existed (a token signed for a made-up `sub`). Every service
checks the account behind each call; an account found active is trusted for `ttl_sec` from
the moment the read that found it was sent, so a disabled account loses access within that TTL.

With a `still_active` bulk lookup (as the services run it), a background thread re-reads every
remembered account in one query every `ttl_sec / 2` and renews their trust, so a request
itself reads the accounts table only for an account its instance has not seen (or when that
thread is late). Measured in docs/statistics_settlement.md ("2026-12-01"): one primary-key
read per account per TTL on the request path cost the read benchmark, whose 200 sellers each
call an instance a few times per TTL, up to a third of a top-5 request's CPU.
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
        still_active: Callable[[list[int]], set[int]] | None = None,
        background: bool = True,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._is_active = is_active
        self._still_active = still_active
        self._ttl = ttl_sec
        self._max = max_entries
        self._clock = clock
        self._seen: dict[int, float] = {}  # account id -> when the read that found it active was sent
        self._lock = threading.Lock()
        # refresh_remembered runs in a thread started on first use, unless the caller runs it.
        self._background = background and still_active is not None and ttl_sec > 0
        self._thread: threading.Thread | None = None

    def require_active(self, account_id: int) -> None:
        now = self._clock()
        seen = self._seen.get(account_id)
        if seen is not None and now - seen < self._ttl:
            return
        if self._background and self._thread is None:
            self._start()  # on first use: nothing connects when a service is built
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

    def refresh_remembered(self) -> None:
        """Re-reads every remembered account in one bulk lookup: those still active are
        trusted for another TTL from when the read was sent, the others are forgotten (their
        next call asks again, and is refused). A failed lookup changes nothing."""
        with self._lock:
            ids = list(self._seen)
        if not ids:
            return
        sent = self._clock()
        active = self._still_active(ids)
        with self._lock:
            for account_id in ids:
                if account_id in active:
                    if self._seen.get(account_id, sent) <= sent:
                        self._seen[account_id] = sent
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


def database_lookup(engine: sa.Engine) -> Callable[[int], bool]:
    """is_active(account_id) from the accounts table."""
    query = sa.select(accounts.c.disabled_at_us).where(accounts.c.account_id == sa.bindparam("account_id"))

    def is_active(account_id: int) -> bool:
        with engine.connect() as conn:
            row = conn.execute(query, {"account_id": account_id}).first()
        return row is not None and row.disabled_at_us is None

    return is_active


def database_bulk_lookup(engine: sa.Engine, chunk: int = 1000) -> Callable[[list[int]], set[int]]:
    """still_active(account_ids): those of the ids whose account exists and is not disabled."""

    def still_active(account_ids: list[int]) -> set[int]:
        found: set[int] = set()
        with engine.connect() as conn:
            for i in range(0, len(account_ids), chunk):
                query = sa.select(accounts.c.account_id).where(
                    accounts.c.account_id.in_(account_ids[i : i + chunk]), accounts.c.disabled_at_us.is_(None)
                )
                found.update(conn.execute(query).scalars())
        return found

    return still_active
