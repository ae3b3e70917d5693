"""Webhook rules (DESIGN 2b "Webhooks", docs/webhooks.md): which events exist, what an
endpoint may be, how a request is signed, and when a failed delivery is tried again.

Pure functions: the dispatcher (services/webhooks/dispatcher.py) and the admin use cases
(services/webhooks/registry.py) call them; the unit tests check them against independent
computations (tests/unit/test_webhook_rules.py).
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse

from domain.errors import BadWebhookEndpoint

MONTH_CLOSED = "month.closed"
PAYOUTS_APPROVED = "payouts.approved"
PAYOUT_PAID = "payout.paid"
PAYOUT_FAILED = "payout.failed"
ADJUSTMENT_POSTED = "adjustment.posted"
EVENT_TYPES = (MONTH_CLOSED, PAYOUTS_APPROVED, PAYOUT_PAID, PAYOUT_FAILED, ADJUSTMENT_POSTED)

SIGNATURE_HEADER = "PaySystem-Signature"
MAX_URL_LENGTH = 2048
# Long enough that guessing is hopeless (128 bits as hex), short enough for a header or a
# secrets manager field; printable ASCII only, so every receiver's language reads it the same.
SECRET_MIN, SECRET_MAX = 16, 128

# Retries: 10 s after the first failure, doubling, each wait at most 1 hour; a delivery still
# failing 3 days after its first attempt (Stripe's window) is given up: FAILED.
BACKOFF_BASE_MS = 10_000
BACKOFF_CAP_MS = 3_600_000
GIVE_UP_AFTER_MS = 3 * 86_400_000


def check_url(url: str) -> str:
    """An absolute http:// or https:// URL with a host and no credentials in it."""
    if not url or len(url) > MAX_URL_LENGTH:
        raise BadWebhookEndpoint(f"must be an http:// or https:// URL of 1..{MAX_URL_LENGTH} characters", field="url")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise BadWebhookEndpoint(f"not a URL ({exc})", field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadWebhookEndpoint("must be an http:// or https:// URL with a host", field="url")
    if parts.username is not None or parts.password is not None:
        raise BadWebhookEndpoint("must not carry a user name or password (the secret signs the requests)", field="url")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise BadWebhookEndpoint("must not contain spaces or control characters", field="url")
    return url


def check_events(events: list[str]) -> tuple[str, ...]:
    """At least one event, each a known one; duplicates collapse; in EVENT_TYPES' order."""
    if not events:
        raise BadWebhookEndpoint(f"name at least one of {', '.join(EVENT_TYPES)}", field="events")
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise BadWebhookEndpoint(
            f"unknown event {unknown[0]!r}; the events are {', '.join(EVENT_TYPES)}", field="events"
        )
    return tuple(event for event in EVENT_TYPES if event in events)


def check_secret(secret: str) -> str:
    if not SECRET_MIN <= len(secret) <= SECRET_MAX or not all(33 <= ord(ch) <= 126 for ch in secret):
        raise BadWebhookEndpoint(
            f"must be {SECRET_MIN}..{SECRET_MAX} printable ASCII characters without spaces", field="secret"
        )
    return secret


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256(secret, "<timestamp>." + body)."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The PaySystem-Signature value: t=<unix seconds>,v1=<hex HMAC-SHA256>."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def backoff_ms(failures: int, base_ms: int = BACKOFF_BASE_MS, cap_ms: int = BACKOFF_CAP_MS) -> int:
    """The wait after the `failures`-th failed attempt (1-based): base, 2 base, 4 base, ...,
    at most cap_ms."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    # The exponent is bounded so that a delivery failing for days does not build huge ints.
    doubled: int = base_ms << min(failures - 1, 62)
    return min(doubled, cap_ms)


def next_attempt_us(
    failures: int,
    now_us: int,
    first_attempt_us: int,
    *,
    base_ms: int = BACKOFF_BASE_MS,
    cap_ms: int = BACKOFF_CAP_MS,
    give_up_after_ms: int = GIVE_UP_AFTER_MS,
) -> int | None:
    """When to try again after the `failures`-th failed attempt at now_us, or None to give
    up: the next attempt would come later than give_up_after_ms after the first attempt."""
    at = now_us + backoff_ms(failures, base_ms, cap_ms) * 1000
    return None if at > first_attempt_us + give_up_after_ms * 1000 else at
