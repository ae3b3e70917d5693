"""Payout profiles, HELD payouts, tax tables, the yearly summary and tax invoices
(services/settlement/profiles.py, taxes.py, closing.py, balances.get_payout) against the
in-memory fakes: no database. Figures are worked out by hand in the comments."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from domain.errors import (
    BadDate,
    BadPayoutProfile,
    BadTaxTable,
    ClosingNotFound,
    NotOwner,
    PayoutNotApproved,
    PayoutNotFound,
    PayoutProfileNotFound,
    RoleNotAllowed,
)
from domain.ledger import PayoutStatus
from domain.taxes import DEFAULT_RATES, Breakdown, TaxType
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.settlement import approvals, balances, closing, csv_export, profiles, taxes
from services.settlement.ports import Payout, WriteConflict
from tests.fakes.settlement import FakeClosings, FakeLedger, FakeUnitOfWork, MonthlyRow
from tests.fakes.taxes import business, individual, with_profiles

SEOUL = ZoneInfo("Asia/Seoul")
ADMIN = Principal(1, "admin", "ADMIN")
S7, S8, VIEWER = Principal(7, "s7", "SELLER"), Principal(8, "s8", "SELLER"), Principal(5, "v", "VIEWER")
JAN, FEB = dt.date(2012, 1, 1), dt.date(2012, 2, 1)
CLOCK = FixedClock(int(dt.datetime(2012, 2, 20, 3, tzinfo=dt.UTC).timestamp()) * 1_000_000)
TODAY = dt.date(2012, 2, 20)


def january(profiles=None) -> FakeUnitOfWork:
    """Seller 7 earned 40,000.5 in January, seller 8 50,000: both over the 10,000 minimum."""
    closings = FakeClosings(
        FakeLedger(minimums={dt.date(1970, 1, 1): 10_000}),
        monthly=[MonthlyRow(JAN, 7, 1, Decimal("40000.5")), MonthlyRow(JAN, 8, 2, Decimal(50_000))],
    )
    return FakeUnitOfWork(closings=closings, profiles=profiles)


def close_january(uow: FakeUnitOfWork) -> None:
    closing.close_month(uow, ADMIN, "2012-01", zone=SEOUL, clock=CLOCK)


def put(uow, principal, seller_id, kind="INDIVIDUAL", number=""):
    return profiles.put_profile(
        uow, principal, seller_id, "Kim Minji", kind, "004", "110-234-567890", number, clock=CLOCK
    )


def test_a_seller_without_a_profile_is_held_and_released_taxed_when_they_complete_it():
    uow = january(with_profiles(individual(8)))
    close_january(uow)
    held, pending = uow.ledger.payouts[1], uow.ledger.payouts[2]
    # Seller 7: 40,000 HELD, no breakdown; the ledger still pays out the gross.
    assert (held.seller_id, held.amount_krw, held.status, held.breakdown) == (7, 40_000, PayoutStatus.HELD, None)
    assert uow.ledger.balance(7) == Decimal("0.5")
    # Seller 8: 50,000 x 3% = 1,500; 150; net 48,350.
    assert pending.status is PayoutStatus.PENDING and pending.breakdown == Breakdown(50_000, 1_500, 150, 0, 48_350)
    with pytest.raises(PayoutNotApproved, match="payout is HELD: .*payout profile"):
        balances.mark_payout(uow, ADMIN, 1, "PAID", "BANK-1", clock=CLOCK)
    saved = put(uow, S7, 7)
    # 40,000 x 3% = 1,200; 120; net 38,680. Released in the PUT's own transaction.
    assert [(p.payout_id, p.status, p.breakdown) for p in saved.released] == [
        (1, PayoutStatus.PENDING, Breakdown(40_000, 1_200, 120, 0, 38_680))
    ]
    assert uow.ledger.payouts[1].status is PayoutStatus.PENDING and uow.ledger.balance(7) == Decimal("0.5")
    assert saved.profile.account_number == "********7890"  # masked in the answer
    assert uow.profiles.rows[7].account_number == "110234567890"  # stored whole, for the bank file
    assert put(uow, S7, 7).released == []  # nothing HELD any more
    approvals.approve_month(uow, Principal(2, "checker", "ADMIN"), "2012-01", clock=CLOCK)
    assert balances.mark_payout(uow, ADMIN, 1, "PAID", "BANK-1", clock=CLOCK).status is PayoutStatus.PAID


def test_a_business_seller_gets_vat_and_one_tax_invoice_per_month_at_close_or_release():
    uow = january(with_profiles(business(8)))
    close_january(uow)
    # 50,000 x 10% = 5,000 VAT added: net 55,000.
    assert uow.ledger.payouts[2].breakdown == Breakdown(50_000, 0, 0, 5_000, 55_000)
    put(uow, S7, 7, "BUSINESS", "120-88-10004")
    (inv7, inv8) = taxes.list_tax_invoices(uow, ADMIN, "2012-01")
    assert (inv8.seller_id, inv8.supply_krw, inv8.vat_krw, inv8.seller_business_number) == (
        8,
        50_000,
        5_000,
        "1234567891",
    )
    assert (inv7.seller_id, inv7.supply_krw, inv7.vat_krw, inv7.seller_business_number) == (
        7,
        40_000,
        4_000,
        "1208810004",
    )
    assert {inv7.issue_date, inv8.issue_date} == {dt.date(2012, 2, 10)}
    assert inv7.platform_business_number == DEFAULT_RATES.platform_business_number
    with pytest.raises(ClosingNotFound):
        taxes.list_tax_invoices(uow, ADMIN, "2012-02")
    with pytest.raises(RoleNotAllowed):
        taxes.list_tax_invoices(uow, S8, "2012-01")


def test_profiles_are_read_by_their_seller_and_admins_and_written_only_by_their_seller():
    uow = january(with_profiles(individual(8)))
    with pytest.raises(PayoutProfileNotFound):
        profiles.get_profile(uow, S7, 7)
    assert profiles.get_profile(uow, S8, 8).account_number == "**********1234"
    assert profiles.get_profile(uow, ADMIN, 8).legal_name == "Seller 8"
    for principal, error in [(S7, NotOwner), (VIEWER, RoleNotAllowed)]:
        with pytest.raises(error):
            profiles.get_profile(uow, principal, 8)
    before = copy.deepcopy(uow.profiles.rows)
    for principal, error in [(ADMIN, RoleNotAllowed), (S7, NotOwner), (VIEWER, RoleNotAllowed)]:
        with pytest.raises(error):
            put(uow, principal, 8)
    with pytest.raises(BadPayoutProfile, match="^business_number"):
        put(uow, S8, 8, "BUSINESS", "1234567890")
    assert uow.profiles.rows == before and uow.commits == 0


def test_a_tax_table_is_scheduled_like_a_tier_table_and_applies_from_the_next_month_start():
    uow = january(with_profiles(individual(7), individual(8)))
    close_january(uow)
    request = taxes.TaxTableRequest("2012-03-01", "0.05", "0.1", "0.1", 1_000, 10, 10, 1)
    with pytest.raises(BadTaxTable, match="^effective_from: must be after today"):
        taxes.schedule_tax_table(uow, ADMIN, request, today=dt.date(2012, 3, 1))
    with pytest.raises(BadTaxTable, match="^vat_unit_krw"):
        taxes.schedule_tax_table(
            uow, ADMIN, taxes.TaxTableRequest("2012-03-01", "0.05", "0.1", "0.1", 0, 10, 10, 3), today=TODAY
        )
    with pytest.raises(BadTaxTable, match="^platform_business_number"):
        taxes.schedule_tax_table(
            uow,
            ADMIN,
            taxes.TaxTableRequest("2012-03-01", "0.05", "0.1", "0.1", 0, 10, 10, 1, "1234567890"),
            today=TODAY,
        )
    with pytest.raises(RoleNotAllowed):
        taxes.schedule_tax_table(uow, S7, request, today=TODAY)
    table = taxes.schedule_tax_table(uow, ADMIN, request, today=TODAY)
    assert table.platform_business_number == DEFAULT_RATES.platform_business_number  # kept
    assert [t.effective_from for t in taxes.list_tax_tables(uow, ADMIN)] == [dt.date(1970, 1, 1), dt.date(2012, 3, 1)]
    # After January's close a day in January is refused even with "today" before it.
    with pytest.raises(BadTaxTable, match="after the last closed month"):
        taxes.schedule_tax_table(
            uow,
            ADMIN,
            taxes.TaxTableRequest("2012-01-31", "0.05", "0.1", "0.1", 0, 10, 10, 1),
            today=dt.date(2012, 1, 2),
        )


def test_the_yearly_summary_sums_taxed_payouts_per_month_without_held_or_failed_ones():
    ledger = FakeLedger()
    b1, b2 = Breakdown(50_000, 1_500, 150, 0, 48_350), Breakdown(40_000, 1_200, 120, 0, 38_680)
    ind = TaxType.INDIVIDUAL
    ledger.payouts = {
        1: Payout(1, 7, JAN, 50_000, PayoutStatus.PAID, "B", 0, 0, ind, b1),
        2: Payout(2, 7, FEB, 40_000, PayoutStatus.FAILED, "X", 0, 0, ind, b2),
        3: Payout(3, 7, dt.date(2012, 3, 1), 40_000, PayoutStatus.PENDING, None, 0, 0, ind, b2),
        4: Payout(4, 7, dt.date(2012, 4, 1), 30_000, PayoutStatus.HELD, None, 0, 0),
        5: Payout(5, 7, dt.date(2011, 12, 1), 30_000, PayoutStatus.PAID, "B", 0, 0, ind, b2),  # other year
        6: Payout(6, 8, JAN, 30_000, PayoutStatus.PAID, "B", 0, 0, ind, b2),  # other seller
    }
    uow = FakeUnitOfWork(ledger)
    months = taxes.yearly_summary(uow, S7, 7, "2012")
    assert len(months) == 12
    assert [(m.month.month, m.gross_krw, m.net_krw) for m in months if m.gross_krw] == [
        (1, 50_000, 48_350),
        (3, 40_000, 38_680),
    ]
    data = csv_export.render_tax_summary(months).decode("utf-8")
    lines = data.lstrip("\ufeff").split("\r\n")
    assert lines[0] == "month,gross_krw,income_tax_krw,local_income_tax_krw,vat_krw,net_krw,currency"
    assert lines[1] == "2012-01,50000,1500,150,0,48350,KRW" and lines[2] == "2012-02,0,0,0,0,0,KRW"
    assert lines[13] == "TOTAL,90000,2700,270,0,87030,KRW"  # 50,000 + 40,000; 1,500 + 1,200; ...
    for bad in ["12", "2012-01", "", "０１２３"]:
        with pytest.raises(BadDate, match="^year"):
            taxes.yearly_summary(uow, S7, 7, bad)
    with pytest.raises(NotOwner):
        taxes.yearly_summary(uow, S8, 7, "2012")


def test_one_payout_is_read_by_its_seller_and_admins():
    uow = january(with_profiles(individual(7)))
    close_january(uow)
    assert balances.get_payout(uow, S7, 1).breakdown == Breakdown(40_000, 1_200, 120, 0, 38_680)
    assert balances.get_payout(uow, ADMIN, 2).status is PayoutStatus.HELD
    with pytest.raises(NotOwner):
        balances.get_payout(uow, S8, 1)
    with pytest.raises(RoleNotAllowed):
        balances.get_payout(uow, VIEWER, 1)
    with pytest.raises(PayoutNotFound):
        balances.get_payout(uow, ADMIN, 99)


def test_a_first_put_that_clashes_with_a_concurrent_one_is_tried_again():
    uow = january()
    clashes = [WriteConflict(RuntimeError("duplicate key: a concurrent first PUT"))]
    put_once = uow.profiles.put

    def clashing_put(profile):
        if clashes:
            raise clashes.pop()
        put_once(profile)

    uow.profiles.put = clashing_put  # type: ignore[method-assign]
    saved = put(uow, S7, 7)
    assert saved.profile.legal_name == "Kim Minji" and uow.profiles.rows[7].bank_code == "004"
    assert uow.commits == 1 and clashes == []


def test_a_profile_write_and_a_tax_table_each_leave_one_audit_entry_and_a_repeat_none():
    uow = january(with_profiles(individual(8)))
    close_january(uow)  # seller 7's payout HELD
    uow.audit.events.clear()
    put(uow, S7, 7)
    ((entry, _),) = uow.audit.events
    assert (entry.actor_id, entry.action, entry.target, entry.before) == (
        7,
        "payout_profile.set",
        "payout_profile:7",
        "",
    )
    assert '"account_number":"********7890"' in entry.after and "110234567890" not in entry.after
    assert '"released_payouts":[1]' in entry.after
    put(uow, S7, 7)  # the same profile again: nothing changed, nothing recorded
    assert len(uow.audit.events) == 1
    put(uow, S7, 7, "BUSINESS", "120-88-10004")
    assert uow.audit.actions == ["payout_profile.set"] * 2
    assert '"tax_type":"INDIVIDUAL"' in uow.audit.events[1][0].before
    request = taxes.TaxTableRequest("2012-03-01", "0.05", "0.1", "0.1", 1_000, 10, 10, 1)
    taxes.schedule_tax_table(uow, ADMIN, request, today=TODAY)
    last = uow.audit.events[-1][0]
    assert (last.actor_id, last.action, last.target) == (1, "tax_table.schedule", "tax_table:2012-03-01")
    assert '"income_tax_rate":"0.05"' in last.after
