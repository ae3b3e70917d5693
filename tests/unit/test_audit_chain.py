"""The audit log's chain rules (domain/audit_chain.py): the canonical bytes and hash against a
hand-written rendering, the summaries (secrets out, account numbers masked), and the
verification naming the first changed, missing or inserted entry."""

from __future__ import annotations

import dataclasses
import hashlib

from domain.audit_chain import GENESIS, AuditEntry, AuditEvent, chained, mask_account_number, summary_json, verify


def chain(n: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS
    for seq in range(1, n + 1):
        event = AuditEvent(actor_id=seq, action="payout.mark", target=f"payout:{seq}", after=f'{{"n":{seq}}}')
        entry = chained(seq, event, request_id=f"req-{seq}", at_us=1_000 * seq, prev_hash=prev)
        entries.append(entry)
        prev = entry.hash
    return entries


def test_an_entry_hash_is_the_sha256_of_its_fields_as_compact_sorted_json():
    event = AuditEvent(5, "month.close", "month:2026-03", '{"status":"OPEN"}', '{"sellers":2}')
    entry = chained(1, event, request_id="abc", at_us=1_772_000_000_000_000, prev_hash=GENESIS)
    # Written out by hand: the keys in sorted order, no spaces, the summaries as JSON strings.
    text = (
        '{"action":"month.close","actor_id":5,"after":"{\\"sellers\\":2}","at_us":1772000000000000,'
        '"before":"{\\"status\\":\\"OPEN\\"}","prev_hash":"' + "0" * 64 + '","request_id":"abc",'
        '"seq":1,"target":"month:2026-03"}'
    )
    assert entry.hash == hashlib.sha256(text.encode()).hexdigest()
    assert entry.prev_hash == GENESIS


def test_korean_text_is_hashed_as_utf8_not_escaped():
    event = AuditEvent(1, "account.set_role", "account:1", "", '{"name":"한국"}')
    entry = chained(1, event, request_id="r", at_us=1, prev_hash=GENESIS)
    text = '{"action":"account.set_role","actor_id":1,"after":"{\\"name\\":\\"한국\\"}","at_us":1,"before":"",'
    text += '"prev_hash":"' + GENESIS + '","request_id":"r","seq":1,"target":"account:1"}'
    assert entry.hash == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_summaries_leave_secrets_out_and_mask_account_numbers():
    text = summary_json({"role": "ADMIN", "password": "hunter2", "account_number": "110-123-456789", "z": 1})
    assert text == '{"account_number":"**********6789","role":"ADMIN","z":1}'
    assert summary_json({"profile": {"secret": "s", "bank_account_number": "1234"}}) == (
        '{"profile":{"bank_account_number":"****"}}'
    )
    assert summary_json(None) == ""
    assert mask_account_number("12345") == "*2345"
    assert len(summary_json({"x": "y" * 5000})) <= 2000


def test_a_whole_chain_verifies_and_an_empty_one_too():
    entries = chain(5)
    verdict = verify(entries, head_seq=5, head_hash=entries[-1].hash)
    assert verdict.ok and verdict.entries == 5
    assert verify([], head_seq=0, head_hash=GENESIS).ok


def test_an_edited_entry_is_named_changed():
    entries = chain(5)
    entries[2] = dataclasses.replace(entries[2], target="payout:999")
    verdict = verify(entries, head_seq=5, head_hash=entries[-1].hash)
    assert (verdict.bad_seq, verdict.problem, verdict.entries) == (3, "changed", 2)


def test_an_edited_and_rehashed_entry_breaks_the_next_link():
    entries = chain(5)
    forged = dataclasses.replace(entries[2], target="payout:999")
    entries[2] = chained(
        3,
        AuditEvent(3, "payout.mark", "payout:999", "", '{"n":3}'),
        request_id="req-3",
        at_us=3_000,
        prev_hash=forged.prev_hash,
    )
    verdict = verify(entries, head_seq=5, head_hash=entries[-1].hash)
    assert (verdict.bad_seq, verdict.problem) == (4, "inserted")
    assert "re-hashed" in verdict.detail


def test_a_deleted_entry_is_named_missing_in_the_middle_and_at_the_end():
    entries = chain(5)
    verdict = verify(entries[:1] + entries[2:], head_seq=5, head_hash=entries[-1].hash)
    assert (verdict.bad_seq, verdict.problem) == (2, "missing")
    verdict = verify(entries[:4], head_seq=5, head_hash=entries[-1].hash)
    assert (verdict.bad_seq, verdict.problem) == (5, "missing")


def test_an_entry_after_the_head_is_named_inserted_even_with_a_good_hash():
    entries = chain(6)  # the 6th is well formed, but the appends never made it (head at 5)
    verdict = verify(entries, head_seq=5, head_hash=entries[4].hash)
    assert (verdict.bad_seq, verdict.problem) == (6, "inserted")
