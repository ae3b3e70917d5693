"""Idempotency-Key on the settlement service's money-moving POSTs (DESIGN.md section 2b,
docs/ledger.md "Idempotency keys"), as one decorator of servicer methods:

    @idempotent(settlement_pb2.Closing)
    def CloseMonth(self, request, context): ...

A JSON caller sends the `Idempotency-Key` header; Envoy's transcoder passes HTTP headers to
the service as gRPC metadata (`idempotency-key`); gRPC callers send that metadata. Without
the header a call runs as before. With it:

- the key is claimed first: a row (caller, key) holding the method and the SHA-256 of the
  request message, committed before the call runs. The primary key makes the claim unique,
  so of N concurrent requests with one key exactly one runs; the others wait for its answer
  (up to WAIT_SEC, then 409 "still running") and replay it;
- the call's answer (the serialized response message) is stored on the row once the call
  succeeded; a later request with the same key and the same method and message gets those
  bytes again (so the same JSON from Envoy) and causes no second effect;
- the same key with another method or message is refused (409, IdempotencyKeyReused);
- a call that fails (bad input, refused, a crash) releases the key: nothing is kept for a
  request that changed nothing, and the caller may retry with the same key.

Why the claim is its own short transaction and not part of the effect's: the use cases run
one or several transactions of their own (a close runs its checks, its effect and a read),
and SQLite (the default storage) has one writer at a time, so no transaction can stay open
around them. What a crash between the effect's commit and the stored answer leaves is a
claimed key with no answer; after RUNNING_LEASE_US a request with that key runs again, which
is safe because each of these use cases is itself idempotent (closing a closed month returns
its closing; approving an approved month, or marking a payout with its recorded outcome,
changes nothing).

Keys are kept RETENTION_US (7 days) and then purged, on write: at most once per
PURGE_EVERY_SEC per process, a request that claims a key first deletes the rows older than
the retention (an indexed range; the table holds only about a week of keys).
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from google.protobuf.message import Message

from domain.errors import BadIdempotencyKey, IdempotencyKeyReused
from services.common.auth import current_principal
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement.tables import idempotency_keys

METADATA_KEY = "idempotency-key"  # HTTP `Idempotency-Key`, lowercased as gRPC metadata
MAX_KEY_LENGTH = 255
RETENTION_US = 7 * 24 * 3600 * 1_000_000
RUNNING_LEASE_US = 15 * 60 * 1_000_000  # a claim with no answer after this is taken over
WAIT_SEC = 30.0  # how long a request waits for a concurrent one with its key to answer
POLL_SEC = 0.05
PURGE_EVERY_SEC = 600.0

T = TypeVar("T", bound=Message)
_last_purge = [float("-inf")]
_purge_lock = threading.Lock()


def check_key(value: str) -> str:
    """A key as sent: 1 to 255 printable ASCII characters (space to tilde)."""
    if not 1 <= len(value) <= MAX_KEY_LENGTH:
        raise BadIdempotencyKey(f"must be 1 to {MAX_KEY_LENGTH} characters, got {len(value)}", field="Idempotency-Key")
    if not all(" " <= ch <= "~" for ch in value):
        raise BadIdempotencyKey("must be printable ASCII characters only", field="Idempotency-Key")
    return value


def key_of(context) -> str | None:
    """The request's Idempotency-Key, checked, or None when it has none."""
    for name, value in context.invocation_metadata() or ():
        if name == METADATA_KEY:
            return check_key(value if isinstance(value, str) else value.decode("latin-1"))
    return None


def fingerprint(method: str, request: Message) -> str:
    """The SHA-256 of the method and the request message (path fields included: the same key
    on another payout is another request). Deterministic serialization: a map's order or a
    field's position in the JSON body does not change it."""
    digest = hashlib.sha256(method.encode("ascii") + b"\0")
    digest.update(request.SerializeToString(deterministic=True))
    return digest.hexdigest()


def idempotent(response_type: type[T]) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Makes a servicer method honour Idempotency-Key. The servicer holds the transactional
    engine as `_engine` (SettlementServicer does)."""

    def decorate(method: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(method)
        def handler(self: Any, request: Message, context: Any) -> T:
            key = key_of(context)
            if key is None:
                return method(self, request, context)
            store = KeyStore(self._engine)
            return store.run(
                current_principal().account_id,
                key,
                method.__name__,
                fingerprint(method.__name__, request),
                lambda: method(self, request, context),
                response_type.FromString,
            )

        return handler

    return decorate


class KeyStore:
    """The idempotency_keys rows of one engine: claim, answer, release, purge."""

    def __init__(self, engine: sa.Engine, clock: Clock = SYSTEM_CLOCK) -> None:
        self._engine = engine
        self._clock = clock

    def run(
        self,
        account_id: int,
        key: str,
        method: str,
        request_sha256: str,
        call: Callable[[], T],
        parse: Callable[[bytes], T],
    ) -> T:
        self.purge_if_due()
        deadline = time.monotonic() + WAIT_SEC
        while True:
            claimed_at = self._claim(account_id, key, method, request_sha256)
            if claimed_at is not None:
                break
            row = self._row(account_id, key)
            if row is None:
                continue  # the request holding it failed and released it: claim again
            if row.method != method or row.request_sha256 != request_sha256:
                raise IdempotencyKeyReused(
                    f"Idempotency-Key {key!r} was already used with another request ({row.method});"
                    " use a new key for a different request"
                )
            if row.response is not None:
                return parse(bytes(row.response))
            if self._clock.now_us() - row.created_at_us > RUNNING_LEASE_US:
                claimed_at = self._take_over(account_id, key, row.created_at_us)
                if claimed_at is not None:
                    break
                continue
            if time.monotonic() > deadline:
                raise IdempotencyKeyReused(
                    f"a request with Idempotency-Key {key!r} is still running; retry it later for its answer"
                )
            time.sleep(POLL_SEC)
        try:
            response = call()
        except BaseException:
            self._release(account_id, key, claimed_at)
            raise
        self._answer(account_id, key, claimed_at, response.SerializeToString())
        return response

    def _where(self, account_id: int, key: str) -> list[sa.ColumnElement[bool]]:
        c = idempotency_keys.c
        return [c.account_id == account_id, c.idem_key == key]

    def _claim(self, account_id: int, key: str, method: str, request_sha256: str) -> int | None:
        now_us = self._clock.now_us()
        row = {"account_id": account_id, "idem_key": key, "method": method, "request_sha256": request_sha256}
        try:
            with self._engine.begin() as conn:
                conn.execute(sa.insert(idempotency_keys).values(**row, response=None, created_at_us=now_us))
        except sa.exc.IntegrityError:
            return None
        return now_us

    def _row(self, account_id: int, key: str) -> sa.Row | None:
        with self._engine.connect() as conn:
            return conn.execute(sa.select(idempotency_keys).where(*self._where(account_id, key))).one_or_none()

    def _take_over(self, account_id: int, key: str, stale_created_at_us: int) -> int | None:
        """Claims a key whose holder never answered (compare and set on its claim time)."""
        now_us = self._clock.now_us()
        c = idempotency_keys.c
        with self._engine.begin() as conn:
            moved = conn.execute(
                sa.update(idempotency_keys)
                .where(*self._where(account_id, key), c.created_at_us == stale_created_at_us, c.response.is_(None))
                .values(created_at_us=now_us)
            ).rowcount
        return now_us if moved else None

    def _answer(self, account_id: int, key: str, claimed_at: int, response: bytes) -> None:
        c = idempotency_keys.c
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(idempotency_keys)
                .where(*self._where(account_id, key), c.created_at_us == claimed_at)
                .values(response=response)
            )

    def _release(self, account_id: int, key: str, claimed_at: int) -> None:
        c = idempotency_keys.c
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(idempotency_keys).where(
                    *self._where(account_id, key), c.created_at_us == claimed_at, c.response.is_(None)
                )
            )

    def purge(self, now_us: int) -> int:
        """Deletes the keys claimed more than RETENTION_US before now_us; how many."""
        with self._engine.begin() as conn:
            return conn.execute(
                sa.delete(idempotency_keys).where(idempotency_keys.c.created_at_us < now_us - RETENTION_US)
            ).rowcount

    def purge_if_due(self) -> None:
        with _purge_lock:
            if time.monotonic() - _last_purge[0] < PURGE_EVERY_SEC:
                return
            _last_purge[0] = time.monotonic()
        self.purge(self._clock.now_us())
