"""The ledger's plain rules (domain/ledger.py) and month parsing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import BadDate, BadPayoutMark, BadText, PayoutMarkConflict, PayoutNotApproved, SelfApproval
from domain.ledger import PayoutStatus, approval_changes, check_approver, check_mark, mark_changes, payout_krw
from domain.periods import month_name, next_month, parse_month

amounts = st.decimals(min_value=0, max_value=10**15, places=4, allow_nan=False, allow_infinity=False)


@given(balance=amounts, minimum=st.integers(1, 100_000))
def test_a_payout_is_the_whole_krw_of_a_balance_at_least_the_minimum_and_keeps_the_fraction(balance, minimum):
    paid = payout_krw(balance, minimum)
    if balance < minimum:
        assert paid == 0
    else:
        assert paid <= balance < paid + 1 and isinstance(paid, int)
        assert balance - paid == balance % 1  # the fraction stays in the balance


def test_payout_examples():
    assert payout_krw(Decimal("12345.6789"), 10_000) == 12_345
    assert payout_krw(Decimal("9999.9999"), 10_000) == 0
    assert payout_krw(Decimal("10000"), 10_000) == 10_000


def test_marks_need_a_status_and_paid_needs_a_reference():
    assert check_mark("PAID", " BANK-1 ") == (PayoutStatus.PAID, "BANK-1")
    assert check_mark("FAILED", "") == (PayoutStatus.FAILED, None)
    for status, reference in [
        ("PENDING", "x"),
        ("APPROVED", "x"),
        ("HELD", "x"),
        ("STATUS_UNKNOWN", "x"),
        ("PAID", "  "),
        ("PAID", "x" * 129),
    ]:
        with pytest.raises(BadPayoutMark):
            check_mark(status, reference)


@pytest.mark.parametrize("reference", ["BANK\x00-1", "BANK-1\x00", "BANK\n1", "TX\u202e1-KNAB", "\u200b", "a\x85b"])
def test_a_reference_with_control_bidirectional_or_only_invisible_characters_is_refused(reference):
    for status in ("PAID", "FAILED"):
        with pytest.raises(BadText) as err:
            check_mark(status, reference)
        assert str(err.value).startswith("reference: must ")


def test_a_mark_moves_an_approved_payout_repeats_harmlessly_and_never_contradicts():
    assert mark_changes(PayoutStatus.APPROVED, None, PayoutStatus.PAID, "R")
    assert mark_changes(PayoutStatus.APPROVED, None, PayoutStatus.FAILED, None)
    assert not mark_changes(PayoutStatus.PAID, "R", PayoutStatus.PAID, "R")
    assert not mark_changes(PayoutStatus.FAILED, None, PayoutStatus.FAILED, None)
    for current, ref, wanted, new_ref in [
        (PayoutStatus.PAID, "R", PayoutStatus.PAID, "S"),
        (PayoutStatus.PAID, "R", PayoutStatus.FAILED, None),
        (PayoutStatus.FAILED, None, PayoutStatus.PAID, "R"),
    ]:
        with pytest.raises(PayoutMarkConflict):
            mark_changes(current, ref, wanted, new_ref)


def test_months_are_written_yyyy_mm_and_real():
    assert parse_month("2026-02", "month") == dt.date(2026, 2, 1)
    assert month_name(dt.date(2026, 2, 17)) == "2026-02"
    assert next_month(dt.date(2026, 12, 31)) == dt.date(2027, 1, 1)
    for text in [
        "",
        "2026-13",
        "2026-00",
        "2026-1",
        "2026-011",
        "26-01",
        "abcd-ef",
        "2026-01-01",
        "1969-12",
        "２０２６-01",
    ]:
        with pytest.raises(BadDate):
            parse_month(text, "month")


# The maker-checker status rules (DESIGN 2b), written out by hand: for each status a payout can
# be in, whether approving its month moves it, and what a PAID mark does to it.
S = PayoutStatus
STATUS_RULES = [
    # status,   approval moves it, a PAID "R" mark
    (S.HELD, False, "not approved"),
    (S.PENDING, True, "not approved"),
    (S.APPROVED, False, "moves"),
    (S.PAID, False, "repeat"),  # recorded PAID "R": the same mark again changes nothing
    (S.FAILED, False, "conflict"),
]


@pytest.mark.parametrize(("status", "approvable", "paid_mark"), STATUS_RULES)
def test_only_pending_payouts_are_approved_and_only_approved_ones_are_marked(status, approvable, paid_mark):
    assert approval_changes(status) is approvable
    recorded = "R" if status is S.PAID else None
    if paid_mark == "moves":
        assert mark_changes(status, recorded, S.PAID, "R") is True
    elif paid_mark == "repeat":
        assert mark_changes(status, recorded, S.PAID, "R") is False
    elif paid_mark == "not approved":
        with pytest.raises(PayoutNotApproved, match=f"payout is {status.value}: only an APPROVED payout"):
            mark_changes(status, recorded, S.PAID, "R")
    else:
        with pytest.raises(PayoutMarkConflict):
            mark_changes(status, recorded, S.PAID, "R")


def test_the_closer_cannot_approve_and_another_admin_can():
    check_approver(closed_by=7, approver=8, month="2026-11")
    with pytest.raises(SelfApproval) as refused:
        check_approver(closed_by=7, approver=7, month="2026-11")
    assert str(refused.value) == "the admin who closed 2026-11 cannot approve its payouts; another admin must"
