"""Use cases: a seller's payout profile (DESIGN 2b; docs/ledger.md, "Payout profiles and
taxes").

The seller sets it (PUT) and reads it; an admin reads it. Every use case returns the account
number masked (domain/payout_profile.PayoutProfile.masked); only the bank transfer file
(transfers.py, reading it in transfers_repository.take_unfiled) holds it unmasked. Completing a profile releases the seller's HELD payouts in the same transaction: each
becomes PENDING with its tax breakdown (the rates of its month) and, for a BUSINESS seller,
its tax invoice.
"""

from __future__ import annotations

import dataclasses

from domain import payout_profile, taxes
from domain.audit_chain import AuditEvent, summary_json
from domain.errors import PayoutProfileNotFound, require_positive_id
from domain.ledger import PayoutStatus
from domain.payout_profile import PayoutProfile
from services.common.auth import Principal, require_role, require_self_or_admin, require_seller_or_admin
from services.common.clock import SYSTEM_CLOCK, Clock
from services.settlement.ports import Payout, UnitOfWork
from services.settlement.retries import retried


@dataclasses.dataclass(frozen=True)
class SavedProfile:
    profile: PayoutProfile
    released: list[Payout]  # the HELD payouts this PUT made PENDING, with their breakdowns


def get_profile(uow: UnitOfWork, principal: Principal, seller_id: int) -> PayoutProfile:
    require_positive_id(seller_id, "seller_id")
    require_seller_or_admin(principal, seller_id, "payout profile")
    with uow:
        found = uow.profiles.get(seller_id)
    if found is None:
        raise PayoutProfileNotFound(f"seller {seller_id} has no payout profile yet", field="seller_id")
    return found.masked()


def put_profile(
    uow: UnitOfWork,
    principal: Principal,
    seller_id: int,
    legal_name: str,
    tax_type: str,
    bank_code: str,
    account_number: str,
    business_number: str,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> SavedProfile:
    """Stores the seller's own profile (validated first: a bad field stores nothing) and
    releases their HELD payouts. Only the seller writes it: an admin may read, not change,
    where a seller's money goes."""
    require_positive_id(seller_id, "seller_id")
    require_role(principal, "SELLER")
    require_self_or_admin(principal, seller_id, "payout profile")
    now_us = clock.now_us()
    profile = payout_profile.validate(
        seller_id, legal_name, tax_type, bank_code, account_number, business_number, now_us
    )

    def write() -> SavedProfile:
        with uow:
            before = uow.profiles.get(seller_id)
            uow.profiles.put(profile)
            released = release_held(uow, profile, now_us)
            if before is None or _summary(before) != _summary(profile) or released:
                uow.audit.record(_profile_event(principal, before, profile, released), now_us)
            uow.commit()
        return SavedProfile(profile.masked(), released)

    # Two first PUTs of one seller at once: the loser's insert clashes, and it is written again.
    return retried(write)


def _summary(profile: PayoutProfile) -> dict[str, object]:
    # summary_json masks the account number; the time of the write is the entry's own.
    fields = dataclasses.asdict(profile)
    fields.pop("updated_at_us")
    return fields


def _profile_event(
    principal: Principal, before: PayoutProfile | None, after: PayoutProfile, released: list[Payout]
) -> AuditEvent:
    """The audit entry of a profile write (a repeat of the same profile records none): the
    profile before and after, masked, and the HELD payouts it released."""
    summary = {**_summary(after), "released_payouts": [p.payout_id for p in released]}
    before_text = summary_json(_summary(before)) if before is not None else ""
    target = f"payout_profile:{after.seller_id}"
    return AuditEvent(principal.account_id, "payout_profile.set", target, before_text, summary_json(summary))


def release_held(uow: UnitOfWork, profile: PayoutProfile, now_us: int) -> list[Payout]:
    """HELD -> PENDING for each of the seller's HELD payouts, taxed with the rates in force on
    the first day of its month; a BUSINESS seller's get their tax invoices. Inside the
    caller's transaction. A payout of a month whose payouts were approved already becomes
    APPROVED: the checker approved the month's amounts, HELD ones included (a HELD payout
    waits only for where to pay it, not for a figure), and approval is given once per month."""
    held = uow.taxes.held_payouts(profile.seller_id)
    if not held:
        return []
    tables = uow.taxes.tables()
    released = []
    for payout in held:
        rates = taxes.rates_for(tables, payout.month)
        breakdown = taxes.breakdown(payout.amount_krw, profile.tax_type, rates)
        closing = uow.closings.closing(payout.month)
        approved = closing is not None and closing.approved_by is not None
        status = PayoutStatus.APPROVED if approved else PayoutStatus.PENDING
        if not uow.taxes.release(payout.payout_id, profile.tax_type, breakdown, now_us, status):
            continue  # a concurrent PUT released it first
        if profile.tax_type is taxes.TaxType.BUSINESS:
            issue = taxes.invoice_issue_date(payout.month)
            uow.taxes.issue_invoices(payout.month, profile.seller_id, rates.platform_business_number, issue, now_us)
        released.append(uow.ledger.existing_payout(payout.payout_id))
    return released
