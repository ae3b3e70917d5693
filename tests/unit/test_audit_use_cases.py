"""The audit log as the use cases write and read it, against the in-memory fakes: every admin
or money action that changes something records exactly one entry in its own unit of work
(gone with a rollback), a repeat that changes nothing records none; the reads are admin only,
filtered and paged; the verification walks the chain (services/audit/service.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from domain.audit_chain import OPERATOR, AuditEvent
from domain.errors import BadPageRequest, BadRange, PayoutMarkConflict, RoleNotAllowed
from services.account import service as accounts
from services.audit import service as audit
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.settlement import balances, closing, tiers
from tests.fakes.account import FakeAccounts
from tests.fakes.account import FakeUnitOfWork as FakeAccountUnitOfWork
from tests.fakes.audit import FakeAuditEntries, FakeAuditUnitOfWork
from tests.fakes.settlement import FakeUnitOfWork as FakeLedgerUnitOfWork
from tests.unit.test_account_use_cases import stored
from tests.unit.test_closing_use_cases import clock_on, january
from tests.unit.test_settlement_use_cases import seeded as seeded_ledger
from tests.unit.test_tier_use_cases import TODAY
from tests.unit.test_tier_use_cases import seeded as seeded_tiers

SEOUL = ZoneInfo("Asia/Seoul")
ADMIN, SELLER = Principal(1, "admin", "ADMIN"), Principal(7, "s7", "SELLER")
NOW = 1_772_000_000_000_000


def only(uow) -> tuple[AuditEvent, int]:
    assert len(uow.audit.events) == 1, uow.audit.events
    return uow.audit.events[0]


def test_a_close_records_one_entry_with_what_it_posted_and_a_repeat_none():
    uow = january()
    clock = clock_on(dt.date(2012, 2, 10))
    closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock)
    event, at_us = only(uow)
    assert (event.actor_id, event.action, event.target, at_us) == (1, "month.close", "month:2012-01", clock.now_us())
    assert json.loads(event.after)["payouts_krw"] == 12_000  # seller 7's 12,000.75 paid whole
    closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=clock)  # closed already: unchanged
    assert len(uow.audit.events) == 1


def test_a_mark_records_the_status_before_and_after_and_a_repeat_none():
    uow = FakeLedgerUnitOfWork(seeded_ledger())
    balances.mark_payout(uow, ADMIN, 1, "PAID", "BANK-1", clock=FixedClock(NOW))
    event, at_us = only(uow)
    assert (event.action, event.target, at_us) == ("payout.mark", "payout:1", NOW)
    assert (json.loads(event.before)["status"], json.loads(event.after)["status"]) == ("APPROVED", "PAID")
    assert json.loads(event.after)["reference"] == "BANK-1"
    balances.mark_payout(uow, ADMIN, 1, "PAID", "BANK-1", clock=FixedClock(NOW))
    with pytest.raises(PayoutMarkConflict):
        balances.mark_payout(uow, ADMIN, 1, "FAILED", "", clock=FixedClock(NOW))
    assert len(uow.audit.events) == 1


def test_scheduling_a_tier_table_records_its_tiers():
    uow = seeded_tiers()
    tiers.schedule_tier_table(uow, ADMIN, "2026-06-01", [(0, "2.0")], [(0, "3")], today=TODAY, clock=FixedClock(NOW))
    event, _ = only(uow)
    assert (event.action, event.target) == ("tier_table.schedule", "tier_table:2026-06-01")
    assert json.loads(event.after) == {"ad": [[0, "3"]], "video": [[0, "2.0"]]}
    with pytest.raises(RoleNotAllowed):
        tiers.schedule_tier_table(uow, SELLER, "2026-06-02", [(0, "1")], [(0, "1")], today=TODAY)
    assert len(uow.audit.events) == 1


def test_role_changes_and_disabling_record_one_entry_each_by_the_admin_or_the_operator():
    uow = FakeAccountUnitOfWork(FakeAccounts([stored(1, "admin", "ADMIN"), stored(2, "bob", "SELLER")]))
    accounts.set_role(uow, 2, "VIEWER", actor=ADMIN, clock=FixedClock(NOW))
    accounts.set_role(uow, 2, "VIEWER", actor=ADMIN, clock=FixedClock(NOW))  # the same role: nothing
    accounts.set_role_by_username(uow, "bob", "SELLER", clock=FixedClock(NOW + 1))
    accounts.disable_account(uow, "bob", clock=FixedClock(NOW + 2))
    accounts.disable_account(uow, "bob", clock=FixedClock(NOW + 3))  # disabled already: nothing
    assert [(e.actor_id, e.action, e.target, e.before, e.after, t) for e, t in uow.audit.events] == [
        (
            1,
            "account.set_role",
            "account:2",
            '{"role":"SELLER","username":"bob"}',
            '{"role":"VIEWER","username":"bob"}',
            NOW,
        ),
        (
            OPERATOR,
            "account.set_role",
            "account:2",
            '{"role":"VIEWER","username":"bob"}',
            '{"role":"SELLER","username":"bob"}',
            NOW + 1,
        ),
        (
            OPERATOR,
            "account.disable",
            "account:2",
            '{"disabled":false,"username":"bob"}',
            '{"disabled":true,"username":"bob"}',
            NOW + 2,
        ),
    ]


def test_an_entry_recorded_in_a_block_that_rolls_back_is_gone():
    uow = FakeLedgerUnitOfWork(seeded_ledger())
    with uow:
        uow.audit.record(AuditEvent(1, "payout.mark", "payout:1"), NOW)
    assert uow.audit.events == []


# --- reading and verifying -----------------------------------------------------------------


def log_of(n: int) -> FakeAuditEntries:
    entries = FakeAuditEntries()
    for i in range(1, n + 1):
        entries.add(AuditEvent(1 + i % 2, "payout.mark" if i % 3 else "month.close", f"x:{i}"), NOW + i)
    return entries


def test_only_admins_read_the_log():
    with pytest.raises(RoleNotAllowed):
        audit.list_entries(FakeAuditUnitOfWork(log_of(3)), SELLER, audit.AuditFilter(), 0, "")


def test_pages_come_newest_first_with_filters():
    uow = FakeAuditUnitOfWork(log_of(10))
    where = audit.audit_filter("", "", 2, "payout.mark", SEOUL)  # actor 2: odd i; not month.close: i % 3
    first = audit.list_entries(uow, ADMIN, where, 2, "")
    second = audit.list_entries(uow, ADMIN, where, 2, first.next_page_token)
    assert [e.seq for e in first.entries + second.entries] == [7, 5, 1] and second.next_page_token == ""
    with pytest.raises(BadPageRequest):
        audit.list_entries(uow, ADMIN, where, 2, "bm90LWEtdG9rZW4")


def test_the_day_range_is_in_the_platform_zone_both_days_included():
    where = audit.audit_filter("2026-03-01", "2026-03-01", 0, "", SEOUL)
    # Seoul is UTC+9: 2026-03-01 local is [2026-02-28T15:00Z, 2026-03-01T15:00Z).
    start = int(dt.datetime(2026, 2, 28, 15, tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert (where.first_us, where.last_us) == (start, start + 86_400_000_000)
    with pytest.raises(BadRange):
        audit.audit_filter("2026-03-02", "2026-03-01", 0, "", SEOUL)


def test_verification_walks_in_batches_and_reports_progress(monkeypatch):
    monkeypatch.setattr(audit, "VERIFY_BATCH", 3)
    entries = log_of(7)
    seen = []
    verdict = audit.verify_chain(FakeAuditUnitOfWork(entries), lambda done, total: seen.append((done, total)))
    assert verdict.ok and verdict.entries == 7 and seen == [(3, 7), (6, 7), (7, 7)]
    entries.rows[3] = dataclasses.replace(entries.rows[3], actor_id=99)
    verdict = audit.verify_chain(FakeAuditUnitOfWork(entries))
    assert (verdict.bad_seq, verdict.problem) == (4, "changed")
