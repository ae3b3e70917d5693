"""LocalTier: each instance's short-lived copy of rendered read models."""

from __future__ import annotations

import time

from services.readpath.cache import LocalTier


def test_an_entry_lives_for_the_shorter_of_the_two_ttls():
    tier = LocalTier(max_bytes=1000, ttl_sec=0.2)
    tier.put("a", b"x", ttl_sec=60)
    tier.put("b", b"y", ttl_sec=0.05)
    assert tier.get("a") == b"x" and tier.get("b") == b"y"
    time.sleep(0.08)
    assert tier.get("a") == b"x" and tier.get("b") is None
    time.sleep(0.15)
    assert tier.get("a") is None


def test_the_oldest_entries_go_first_when_memory_runs_out():
    tier = LocalTier(max_bytes=10, ttl_sec=60)
    tier.put("a", b"1234", 60)
    tier.put("b", b"1234", 60)
    tier.put("c", b"1234", 60)  # 12 bytes > 10: "a" goes
    assert tier.get("a") is None and tier.get("b") == b"1234" and tier.get("c") == b"1234"
    tier.put("b", b"12", 60)  # replacing an entry frees its old size
    tier.put("d", b"1234", 60)
    assert tier.get("b") == b"12" and tier.get("c") == b"1234" and tier.get("d") == b"1234"


def test_a_value_larger_than_the_tier_or_a_disabled_tier_keeps_nothing():
    tier = LocalTier(max_bytes=3, ttl_sec=60)
    tier.put("a", b"1234", 60)
    assert tier.get("a") is None
    off = LocalTier(max_bytes=0, ttl_sec=60)
    off.put("a", b"1", 60)
    assert off.get("a") is None and not off.enabled
