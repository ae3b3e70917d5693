"""The audit log's rules (DESIGN.md section 2b, "Audit log"), as pure functions: what one entry
says, its canonical bytes, its hash, the before/after summaries, and the verification of a
whole chain. No I/O: services/audit stores the entries, entrypoints/cli/audit.py verifies them.

Each entry carries the SHA-256 of the previous entry (`prev_hash`, the first entry the
GENESIS hash) and its own `hash`, the SHA-256 of its canonical bytes (which include
prev_hash). Editing an entry changes its bytes (its hash no longer matches); deleting one
leaves a gap in the sequence numbers; an entry forged with a hash of its own does not follow
the chain (its prev_hash) or lies beyond the chain head that the appends keep.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Literal

GENESIS = "0" * 64  # the prev_hash of the first entry
SUMMARY_MAX = 2000  # characters of a before/after summary: a summary, not a copy of the data
OPERATOR = 0  # actor_id of the operator's local commands (no account: shell access to the host)

# Keys whose values never go into a summary, and the ones shown masked (DESIGN 2b: account
# numbers masked everywhere but the bank file).
_SECRET_KEYS = ("password", "secret", "token", "password_hash")
_MASKED_KEYS = ("account_number",)


@dataclasses.dataclass(frozen=True)
class AuditEvent:
    """What a use case records: who did what to which thing, and the thing before and after
    (summaries: summary_json). The log adds the sequence number, time, request id and hashes."""

    actor_id: int
    action: str  # e.g. "month.close", "payout.mark", "tier_table.schedule", "account.set_role"
    target: str  # e.g. "month:2026-03", "payout:17", "account:5"
    before: str = ""
    after: str = ""


@dataclasses.dataclass(frozen=True)
class AuditEntry:
    seq: int
    actor_id: int
    action: str
    target: str
    request_id: str
    at_us: int
    before: str
    after: str
    prev_hash: str
    hash: str


def mask_account_number(number: str) -> str:
    """All but the last 4 characters hidden ("****3456"); 4 or fewer: all hidden."""
    shown = number[-4:] if len(number) > 4 else ""
    return "*" * (len(number) - len(shown)) + shown


def summary_json(values: Mapping[str, object] | None) -> str:
    """A before/after summary: compact JSON with sorted keys ("" for None); secrets left out,
    account numbers masked, at most SUMMARY_MAX characters (a longer one is cut and says so)."""
    if values is None:
        return ""
    clean = {key: _clean(key, value) for key, value in values.items() if key.lower() not in _SECRET_KEYS}
    text = json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(text) > SUMMARY_MAX:
        return json.dumps({"truncated": text[: SUMMARY_MAX - 40]}, ensure_ascii=False)
    return text


def _clean(key: str, value: object) -> object:
    if any(masked in key.lower() for masked in _MASKED_KEYS) and isinstance(value, str):
        return mask_account_number(value)
    if isinstance(value, Mapping):
        return {k: _clean(k, v) for k, v in value.items() if str(k).lower() not in _SECRET_KEYS}
    return value


def canonical_bytes(
    seq: int,
    actor_id: int,
    action: str,
    target: str,
    request_id: str,
    at_us: int,
    before: str,
    after: str,
    prev_hash: str,
) -> bytes:
    """The bytes an entry's hash covers: its fields (not the hash itself) as compact JSON with
    sorted keys, UTF-8. JSON keeps the fields apart (no "a|b" + "c" == "a" + "b|c") and is
    easy to recompute outside PaySystem."""
    fields = {
        "action": action,
        "actor_id": actor_id,
        "after": after,
        "at_us": at_us,
        "before": before,
        "prev_hash": prev_hash,
        "request_id": request_id,
        "seq": seq,
        "target": target,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: AuditEntry) -> str:
    """The hex SHA-256 of the entry's canonical bytes (what its `hash` must be)."""
    raw = canonical_bytes(
        entry.seq,
        entry.actor_id,
        entry.action,
        entry.target,
        entry.request_id,
        entry.at_us,
        entry.before,
        entry.after,
        entry.prev_hash,
    )
    return hashlib.sha256(raw).hexdigest()


def chained(seq: int, event: AuditEvent, *, request_id: str, at_us: int, prev_hash: str) -> AuditEntry:
    """The entry that appends `event` after the entry whose hash is `prev_hash`."""
    draft = AuditEntry(
        seq, event.actor_id, event.action, event.target, request_id, at_us, event.before, event.after, prev_hash, ""
    )
    return dataclasses.replace(draft, hash=entry_hash(draft))


Problem = Literal["changed", "missing", "inserted"]


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The result of verify(): `entries` checked; for a bad chain, the first bad sequence
    number, what is wrong with it and why."""

    entries: int
    bad_seq: int | None = None
    problem: Problem | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_seq is None


def verify(entries: Iterable[AuditEntry], *, head_seq: int, head_hash: str) -> Verdict:
    """Checks the chain, `entries` in ascending seq, against the head the appends keep (the
    last seq and its hash). The first problem found names the entry:
    - changed: its bytes no longer give its hash (an edited entry), or the head's hash is not
      the last entry's;
    - missing: a sequence number is absent (a deleted entry), or the chain ends before the head;
    - inserted: an entry after the head, or one whose prev_hash is not the previous entry's hash
      (a forged entry, or the previous one edited and re-hashed)."""
    prev, expected, count = GENESIS, 1, 0
    for entry in entries:
        if entry.seq > head_seq:
            return Verdict(
                count, entry.seq, "inserted", f"after the chain head (the last appended entry is {head_seq})"
            )
        if entry.seq != expected:
            gap = f"{expected}" if entry.seq == expected + 1 else f"{expected}..{entry.seq - 1}"
            return Verdict(count, expected, "missing", f"entry {gap} is missing (the next present is {entry.seq})")
        if entry_hash(entry) != entry.hash:
            return Verdict(count, entry.seq, "changed", "its content does not match its hash")
        if entry.prev_hash != prev:
            return Verdict(
                count,
                entry.seq,
                "inserted",
                f"its prev_hash is not entry {entry.seq - 1}'s hash (a forged entry, or {entry.seq - 1} re-hashed)",
            )
        prev, expected, count = entry.hash, expected + 1, count + 1
    if count < head_seq:
        return Verdict(count, count + 1, "missing", f"the chain ends at {count}, the head says {head_seq}")
    if head_seq and prev != head_hash:
        return Verdict(count, head_seq, "changed", "the chain head's hash is not the last entry's")
    return Verdict(count)
