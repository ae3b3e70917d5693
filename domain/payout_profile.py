"""A seller's payout profile (DESIGN.md section 2b): what each field must hold, in plain
Python (no I/O). Each check raises BadPayoutProfile naming the field, so the API answers
INVALID_ARGUMENT / 400 with the field's name.

The account number is stored as digits only (hyphens, which banks print in different places,
are normalized away) and is shown masked everywhere but the bank transfer file
(`mask_account`).
"""

from __future__ import annotations

import dataclasses
import re

from domain.errors import BadPayoutProfile
from domain.taxes import TaxType
from domain.text import text_problem

MAX_LEGAL_NAME = 100
ACCOUNT_DIGITS = (8, 16)  # Korean bank account numbers have 10 to 14 digits; some margin
SHOWN_DIGITS = 4  # a masked account number shows its last 4 digits
_BANK_CODE = re.compile(r"[0-9]{3}")
_DIGITS_AND_HYPHENS = re.compile(r"[0-9]+(-[0-9]+)*")  # ASCII digits only; no leading, trailing or double hyphen
# Korean business registration number: 9 digits and a check digit (National Tax Service).
_BRN_WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


@dataclasses.dataclass(frozen=True)
class PayoutProfile:
    """A validated profile: account_number digits only; business_number (10 digits) only for BUSINESS."""

    seller_id: int
    legal_name: str
    tax_type: TaxType
    bank_code: str
    account_number: str
    business_number: str | None
    updated_at_us: int

    def masked(self) -> PayoutProfile:
        """The profile as every answer shows it: the account number masked."""
        return dataclasses.replace(self, account_number=mask_account(self.account_number))


def mask_account(account_number: str) -> str:
    """`*` for every digit but the last four ("**********5678")."""
    shown = account_number[-SHOWN_DIGITS:]
    return "*" * (len(account_number) - len(shown)) + shown


def legal_name(text: str) -> str:
    """The account holder's legal name: visible text (domain/text.py's rules for names and
    titles: no control, bidirectional or only-invisible characters), trimmed, 1-100 characters."""
    name = text.strip()
    if not name:
        raise BadPayoutProfile("is required", field="legal_name")
    if len(name) > MAX_LEGAL_NAME:
        raise BadPayoutProfile(f"at most {MAX_LEGAL_NAME} characters, got {len(name)}", field="legal_name")
    problem = text_problem(name)
    if problem:
        raise BadPayoutProfile(problem, field="legal_name")
    return name


def tax_type(text: str) -> TaxType:
    if text not in (TaxType.INDIVIDUAL, TaxType.BUSINESS):
        raise BadPayoutProfile(f"must be INDIVIDUAL or BUSINESS, got {text[:20]!r}", field="tax_type")
    return TaxType(text)


def bank_code(text: str) -> str:
    """The Korean bank code: exactly 3 digits ("004", "088")."""
    code = text.strip()
    if not _BANK_CODE.fullmatch(code):
        raise BadPayoutProfile(f"must be 3 digits (the bank's code, e.g. 004), got {code[:20]!r}", field="bank_code")
    return code


def _digits(text: str, field: str, what: str) -> str:
    value = text.strip()
    if not _DIGITS_AND_HYPHENS.fullmatch(value):
        raise BadPayoutProfile(f"must be {what}: digits, optionally separated by single hyphens", field=field)
    return value.replace("-", "")


def account_number(text: str) -> str:
    """Digits, optionally with hyphens (removed), 8 to 16 digits."""
    if not text.strip():
        raise BadPayoutProfile("is required", field="account_number")
    digits = _digits(text, "account_number", "an account number")
    low, high = ACCOUNT_DIGITS
    if not low <= len(digits) <= high:
        raise BadPayoutProfile(f"must have {low} to {high} digits, got {len(digits)}", field="account_number")
    return digits


def business_number_valid(digits: str) -> bool:
    """The check digit of a 10-digit Korean business registration number (사업자등록번호)."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    d = [int(c) for c in digits]
    total = sum(w * x for w, x in zip(_BRN_WEIGHTS, d[:9], strict=True)) + (d[8] * 5) // 10
    return (10 - total % 10) % 10 == d[9]


def business_number(text: str, kind: TaxType, field: str = "business_number") -> str | None:
    """Required for BUSINESS (10 digits, "123-45-67890" hyphens allowed, valid check digit);
    refused for INDIVIDUAL (an individual has none, and it would print on no invoice)."""
    if kind is TaxType.INDIVIDUAL:
        if text.strip():
            raise BadPayoutProfile("must be empty for an INDIVIDUAL seller", field=field)
        return None
    if not text.strip():
        raise BadPayoutProfile("is required for a BUSINESS seller", field=field)
    digits = _digits(text, field, "a business registration number")
    if len(digits) != 10:
        raise BadPayoutProfile(f"must have 10 digits, got {len(digits)}", field=field)
    if not business_number_valid(digits):
        raise BadPayoutProfile("is not a valid business registration number (its check digit is wrong)", field=field)
    return digits


def validate(
    seller_id: int,
    legal_name_text: str,
    tax_type_text: str,
    bank_code_text: str,
    account_number_text: str,
    business_number_text: str,
    updated_at_us: int,
) -> PayoutProfile:
    """A complete profile from the request's fields, checked in the order of the form."""
    kind = tax_type(tax_type_text)
    return PayoutProfile(
        seller_id=seller_id,
        legal_name=legal_name(legal_name_text),
        tax_type=kind,
        bank_code=bank_code(bank_code_text),
        account_number=account_number(account_number_text),
        business_number=business_number(business_number_text, kind),
        updated_at_us=updated_at_us,
    )
