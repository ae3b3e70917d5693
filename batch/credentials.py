"""The credentials a coordinator sends with each RunPartition call: the caller's identity,
carried to the workers.

Where this instance can read the signing key (the local mesh; any deployment that gives the
batch the key), each call gets a short-lived token for the same account and role, so a run
longer than the caller's token lifetime still dispatches; otherwise the caller's own token
is forwarded as it is (then a run must end before it expires).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from services.common import auth
from services.common.auth import Principal

log = logging.getLogger(__name__)

# Lifetime of the token a coordinator mints for each RunPartition call. It is checked when
# the call starts (by Envoy and by the worker), so it only has to outlive the call's start.
DISPATCH_TOKEN_TTL_SEC = 120

Metadata = Callable[[], list[tuple[str, str]]]


def dispatch_metadata(principal: Principal, caller_token: str, *, keys_dir: Path, issuer: str) -> Metadata:
    """A function returning the call metadata (`authorization`) for one RunPartition call."""
    try:
        private_key = auth.load_private_key(keys_dir)
    except OSError:
        log.info("no signing key in %s: forwarding the caller's token to workers", keys_dir)
        return lambda: [("authorization", caller_token)]
    return _MintedTokens(
        private_key,
        Principal(principal.account_id, f"{principal.username} (batch dispatch)", principal.role),
        issuer=issuer,
    )


class _MintedTokens:
    """Minting parses the PEM key and signs (tens of ms on a busy machine): one token serves
    every dispatch for half its lifetime."""

    def __init__(self, private_key: bytes, identity: Principal, *, issuer: str) -> None:
        self._private_key, self._identity, self._issuer = private_key, identity, issuer
        self._lock = threading.Lock()
        self._token: str | None = None
        self._minted_at = 0.0

    def __call__(self) -> list[tuple[str, str]]:
        with self._lock:
            if self._token is None or time.monotonic() - self._minted_at > DISPATCH_TOKEN_TTL_SEC / 2:
                self._token = auth.issue_token(
                    self._private_key, self._identity, issuer=self._issuer, ttl_sec=DISPATCH_TOKEN_TTL_SEC
                )
                self._minted_at = time.monotonic()
            return [("authorization", f"Bearer {self._token}")]
