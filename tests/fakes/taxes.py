"""In-memory fakes of services/settlement/ports.py's PayoutProfiles and Taxes, over a
FakeLedger's payouts (tests/fakes/settlement.py): the SQL adapter's contract (checked
against it by tests/integration/test_tax_ports_contract.py): tables by effective_from, a
release moves only a HELD payout, invoices only for BUSINESS payouts with no invoice yet."""

from __future__ import annotations

import dataclasses
import datetime as dt

from domain.ledger import PayoutStatus
from domain.payout_profile import PayoutProfile
from domain.taxes import DEFAULT_RATES, Breakdown, TaxRates, TaxType
from services.settlement.ports import Payout, TaxInvoice


@dataclasses.dataclass
class FakePayoutProfiles:
    rows: dict[int, PayoutProfile] = dataclasses.field(default_factory=dict)

    def get(self, seller_id: int) -> PayoutProfile | None:
        return self.rows.get(seller_id)

    def put(self, profile: PayoutProfile) -> None:
        self.rows[profile.seller_id] = profile

    def tax_types(self) -> dict[int, TaxType]:
        return {seller: p.tax_type for seller, p in self.rows.items()}


@dataclasses.dataclass
class FakeTaxes:
    """payouts: the FakeLedger's payouts dict (shared); profiles: the FakePayoutProfiles."""

    payouts: dict[int, Payout]
    profiles: FakePayoutProfiles
    rates: dict[dt.date, TaxRates] = dataclasses.field(
        default_factory=lambda: {DEFAULT_RATES.effective_from: DEFAULT_RATES}
    )
    issued: dict[tuple[dt.date, int], TaxInvoice] = dataclasses.field(default_factory=dict)

    def tables(self) -> list[TaxRates]:
        return [self.rates[day] for day in sorted(self.rates)]

    def replace(self, rates: TaxRates) -> None:
        self.rates[rates.effective_from] = rates

    def held_payouts(self, seller_id: int) -> list[Payout]:
        return sorted(
            (p for p in self.payouts.values() if p.seller_id == seller_id and p.status is PayoutStatus.HELD),
            key=lambda p: p.payout_id,
        )

    def release(
        self, payout_id: int, tax_type: TaxType, breakdown: Breakdown, now_us: int, status: PayoutStatus
    ) -> bool:
        current = self.payouts.get(payout_id)
        if current is None or current.status is not PayoutStatus.HELD:
            return False
        self.payouts[payout_id] = dataclasses.replace(
            current, status=status, tax_type=tax_type, breakdown=breakdown, updated_at_us=now_us
        )
        return True

    def issue_invoices(
        self, month: dt.date, seller_id: int | None, platform_number: str, issue_date: dt.date, now_us: int
    ) -> None:
        for p in self.payouts.values():
            profile = self.profiles.rows.get(p.seller_id)
            if p.month != month or p.tax_type is not TaxType.BUSINESS or p.breakdown is None or profile is None:
                continue
            if (seller_id is not None and p.seller_id != seller_id) or (month, p.seller_id) in self.issued:
                continue
            assert profile.business_number is not None
            self.issued[(month, p.seller_id)] = TaxInvoice(
                month,
                p.seller_id,
                p.payout_id,
                p.amount_krw,
                p.breakdown.vat_krw,
                profile.business_number,
                platform_number,
                profile.legal_name,
                issue_date,
                now_us,
            )

    def invoices(self, month: dt.date) -> list[TaxInvoice]:
        return sorted((i for (m, _), i in self.issued.items() if m == month), key=lambda i: i.seller_id)


def individual(seller_id: int) -> PayoutProfile:
    """A complete INDIVIDUAL profile (the tests' seeding)."""
    return PayoutProfile(seller_id, f"Seller {seller_id}", TaxType.INDIVIDUAL, "004", "12345678901234", None, 0)


def business(seller_id: int, number: str = "1234567891") -> PayoutProfile:
    """A complete BUSINESS profile; 1234567891's check digit: hand-worked in test_payout_profiles.py."""
    return PayoutProfile(seller_id, f"Company {seller_id}", TaxType.BUSINESS, "088", "1102345678", number, 0)


def with_profiles(*profiles: PayoutProfile) -> FakePayoutProfiles:
    return FakePayoutProfiles({p.seller_id: p for p in profiles})
