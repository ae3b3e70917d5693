"""The webhook dispatcher (docs/webhooks.md "Delivery"), run by
entrypoints/servers/webhooks_dispatcher.py: each round fans new outbox events out into
deliveries, then leases the due deliveries (at most one per endpoint, the oldest event
first) and sends them, signed, in parallel across endpoints. At least once: a delivery is
marked DELIVERED only after a 2xx answer, so a dispatcher that dies between the send and
the record leaves it PENDING and it is sent again when its lease runs out."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from domain import webhooks
from services.webhooks import repository, sender
from services.webhooks.repository import Claimed, DeliveryStatus

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DispatchConfig:
    poll_ms: int = 500
    timeout_sec: float = 5.0
    backoff_base_ms: int = webhooks.BACKOFF_BASE_MS
    backoff_cap_ms: int = webhooks.BACKOFF_CAP_MS
    give_up_after_ms: int = webhooks.GIVE_UP_AFTER_MS
    batch: int = 50  # events fanned out, deliveries leased per round
    senders: int = 4  # deliveries sent at once (to different endpoints)
    lease_sec: float = 0.0  # 0: well beyond one request's timeout (tests shorten it)

    @property
    def lease_us(self) -> int:
        # A live dispatcher always records its attempt before its lease runs out; a dead one's
        # deliveries are sent again after it.
        return int((self.lease_sec or max(30.0, 3 * self.timeout_sec)) * 1_000_000)


def request_body(claimed: Claimed) -> bytes:
    """{"created": <unix seconds>, "data": {...}, "id": "evt_<n>", "type": "..."}; `data` is
    the stored payload as it is (the bytes the signature covers are the bytes sent)."""
    created = claimed.event_created_at_us // 1_000_000
    return (
        f'{{"created":{created},"data":{claimed.payload},"id":"evt_{claimed.event_id}","type":"{claimed.event_type}"}}'
    ).encode()


Post = Callable[[str, bytes, dict[str, str], float], sender.Outcome]


class Dispatcher:
    def __init__(
        self,
        engine: sa.Engine,
        config: DispatchConfig,
        *,
        post: Post = sender.post,
        now_us: Callable[[], int] = lambda: time.time_ns() // 1000,
    ) -> None:
        self._engine = engine
        self._config = config
        self._post = post
        self._now_us = now_us
        self._pool = ThreadPoolExecutor(max_workers=config.senders, thread_name_prefix="webhook-send")

    def run_once(self) -> int:
        """One round: fan out, then send what is due; the number of deliveries attempted."""
        self._fan_out()
        now = self._now_us()
        try:
            with self._engine.begin() as conn:
                claimed = repository.claim_due(conn, now, now + self._config.lease_us, self._config.batch)
        except sa.exc.OperationalError:
            # SQLite: another dispatcher wrote since this one read (or holds the lock). Next round.
            log.debug("claim lost to another dispatcher", exc_info=True)
            return 0
        list(self._pool.map(self._deliver, claimed))
        return len(claimed)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # noqa: BLE001 - a database outage is logged and retried, not fatal
                log.exception("webhook dispatch round failed; retrying")
                busy = 0
            if not busy:
                stop.wait(self._config.poll_ms / 1000)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def _fan_out(self) -> None:
        while True:
            try:
                with self._engine.begin() as conn:
                    fanned = repository.fan_out(conn, self._now_us(), self._config.batch)
            except (sa.exc.IntegrityError, sa.exc.OperationalError):
                log.debug("fan-out lost to another dispatcher", exc_info=True)
                return
            if fanned < self._config.batch:
                return

    def _deliver(self, claimed: Claimed) -> None:
        body = request_body(claimed)
        timestamp = self._now_us() // 1_000_000
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "PaySystem-Webhooks/1",
            webhooks.SIGNATURE_HEADER: webhooks.signature_header(claimed.secret, timestamp, body),
        }
        outcome = self._post(claimed.url, body, headers, self._config.timeout_sec)
        now = self._now_us()
        if outcome.delivered:
            status, next_at = DeliveryStatus.DELIVERED, now
        else:
            first = claimed.first_attempt_at_us or now
            cfg = self._config
            retry_at = webhooks.next_attempt_us(
                claimed.attempts + 1,
                now,
                first,
                base_ms=cfg.backoff_base_ms,
                cap_ms=cfg.backoff_cap_ms,
                give_up_after_ms=cfg.give_up_after_ms,
            )
            status, next_at = (DeliveryStatus.FAILED, now) if retry_at is None else (DeliveryStatus.PENDING, retry_at)
            log.info(
                "webhook delivery %d to endpoint %d failed (%s); %s",
                claimed.delivery_id,
                claimed.endpoint_id,
                outcome.error,
                "given up" if retry_at is None else f"next attempt in {(retry_at - now) / 1e6:.3f}s",
            )
        with self._engine.begin() as conn:
            repository.record_attempt(
                conn,
                claimed,
                status=status,
                status_code=outcome.status_code,
                error=outcome.error,
                now_us=now,
                next_attempt_at_us=next_at,
            )
