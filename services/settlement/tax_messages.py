"""gRPC messages of payout profiles, tax tables and tax invoices (servicer.py's routes of
DESIGN 2b), apart from servicer.py so that its other routes stay readable."""

from __future__ import annotations

from collections.abc import Sequence

from domain.money import to_api_string
from domain.payout_profile import PayoutProfile
from domain.periods import month_name
from domain.taxes import TaxRates
from paysystem.v1 import settlement_pb2
from services.common.proto_time import timestamp
from services.settlement.ports import TaxInvoice


def profile_message(
    profile: PayoutProfile, released: Sequence[settlement_pb2.Payout] = ()
) -> settlement_pb2.PayoutProfile:
    """Only ever a masked profile reaches here (profiles' use cases return masked ones);
    `released`: the payouts a PUT released, as servicer.payout_message renders them."""
    return settlement_pb2.PayoutProfile(
        seller_id=profile.seller_id,
        legal_name=profile.legal_name,
        tax_type=profile.tax_type.value,
        bank_code=profile.bank_code,
        account_number=profile.account_number,
        business_number=profile.business_number or "",
        updated_at=timestamp(profile.updated_at_us),
        released=released,
    )


def tax_table_message(table: TaxRates) -> settlement_pb2.TaxTable:
    return settlement_pb2.TaxTable(
        effective_from=table.effective_from.isoformat(),
        income_tax_rate=to_api_string(table.income_tax_rate),
        local_income_tax_rate=to_api_string(table.local_income_tax_rate),
        vat_rate=to_api_string(table.vat_rate),
        withholding_minimum_krw=table.withholding_minimum_krw,
        income_tax_unit_krw=table.income_tax_unit_krw,
        local_income_tax_unit_krw=table.local_income_tax_unit_krw,
        vat_unit_krw=table.vat_unit_krw,
        platform_business_number=table.platform_business_number,
    )


def invoice_message(invoice: TaxInvoice) -> settlement_pb2.TaxInvoice:
    return settlement_pb2.TaxInvoice(
        month=month_name(invoice.month),
        seller_id=invoice.seller_id,
        payout_id=invoice.payout_id,
        supply_krw=invoice.supply_krw,
        vat_krw=invoice.vat_krw,
        seller_business_number=invoice.seller_business_number,
        platform_business_number=invoice.platform_business_number,
        seller_legal_name=invoice.seller_legal_name,
        issue_date=invoice.issue_date.isoformat(),
    )
