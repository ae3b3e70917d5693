"""domain/webhooks.py: the signature against an independent HMAC-SHA256 (RFC 2104 written out
with hashlib, no `hmac` module), the retry schedule against a hand-worked table, and the
validation of an endpoint."""

from __future__ import annotations

import hashlib

import pytest

from domain import webhooks
from domain.errors import BadWebhookEndpoint


def rfc2104_hmac_sha256(key: bytes, message: bytes) -> str:
    """HMAC as RFC 2104 defines it: H((K ^ opad) || H((K ^ ipad) || m)), 64-byte blocks."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).hexdigest()


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    body = b'{"created":1,"data":{},"id":"evt_1","type":"month.closed"}'
    secret = "whsec_0123456789abcdef"
    expected = rfc2104_hmac_sha256(secret.encode(), b"1767225600." + body)
    assert webhooks.signature(secret, 1767225600, body) == expected
    assert webhooks.signature_header(secret, 1767225600, body) == f"t=1767225600,v1={expected}"
    # RFC 4231 test case 2 pins the independent implementation itself.
    assert rfc2104_hmac_sha256(b"Jefe", b"what do ya want for nothing?") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


# Base 10 s, cap 1 h: 10, 20, 40, 80, 160, 320, 640, 1280, 2560, then 3600 (5120 capped).
@pytest.mark.parametrize(
    ("failures", "wait_ms"),
    [(1, 10_000), (2, 20_000), (3, 40_000), (9, 2_560_000), (10, 3_600_000), (500, 3_600_000)],
)
def test_the_wait_doubles_from_ten_seconds_up_to_an_hour(failures, wait_ms):
    assert webhooks.backoff_ms(failures) == wait_ms


def test_a_delivery_is_given_up_when_the_next_attempt_would_fall_after_three_days():
    first = 1_000_000_000_000_000
    three_days_us = 3 * 86_400 * 1_000_000
    # Failing for the 20th time 2 days 23 h 30 min in: the next (1 h later) is past the window.
    late = first + three_days_us - 30 * 60 * 1_000_000
    assert webhooks.next_attempt_us(20, late, first) is None
    # 2 days 23 h in: the next attempt lands exactly at the window's end and still happens.
    at_edge = first + three_days_us - 3_600_000_000
    assert webhooks.next_attempt_us(20, at_edge, first) == first + three_days_us
    # Millisecond settings (the tests' dispatcher): 5 ms after the first failure.
    assert webhooks.next_attempt_us(1, first, first, base_ms=5, cap_ms=40, give_up_after_ms=1000) == first + 5_000


@pytest.mark.parametrize(
    ("url", "events", "secret", "field"),
    [
        ("ftp://example.com/hook", ["month.closed"], "s" * 16, "url"),
        ("https:///no-host", ["month.closed"], "s" * 16, "url"),
        ("https://user:pw@example.com/", ["month.closed"], "s" * 16, "url"),
        ("https://example.com/a b", ["month.closed"], "s" * 16, "url"),
        ("https://example.com:port/", ["month.closed"], "s" * 16, "url"),
        ("https://example.com/" + "a" * 2048, ["month.closed"], "s" * 16, "url"),
        ("https://example.com/", [], "s" * 16, "events"),
        ("https://example.com/", ["month.closed", "month.opened"], "s" * 16, "events"),
        ("https://example.com/", ["payout.paid"], "s" * 15, "secret"),
        ("https://example.com/", ["payout.paid"], "s" * 129, "secret"),
        ("https://example.com/", ["payout.paid"], "sixteen chars ok", "secret"),  # a space
    ],
)
def test_unusable_endpoints_are_refused_naming_the_field(url, events, secret, field):
    with pytest.raises(BadWebhookEndpoint, match=f"^{field}: "):
        webhooks.check_url(url)
        webhooks.check_events(events)
        webhooks.check_secret(secret)


def test_a_good_endpoint_passes_with_its_events_in_the_documented_order():
    assert webhooks.check_url("http://127.0.0.1:8000/hooks?x=1") == "http://127.0.0.1:8000/hooks?x=1"
    assert webhooks.check_events(["payout.paid", "month.closed", "payout.paid"]) == ("month.closed", "payout.paid")
    assert webhooks.check_secret("s" * 128) == "s" * 128
