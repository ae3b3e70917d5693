"""domain/payout_profile.py: each field's rule and its error naming the field; the check digit
of a Korean business registration number worked out by hand."""

from __future__ import annotations

import pytest

from domain import payout_profile as pp
from domain.errors import BadPayoutProfile
from domain.taxes import TaxType


def test_a_valid_business_number_is_accepted_with_or_without_hyphens():
    # 1234567891: weights 1,3,7,1,3,7,1,3,5 on 1..9 give 1+6+21+4+15+42+7+24+45 = 165, plus
    # (9 x 5) // 10 = 4: 169; (10 - 9) % 10 = 1, the last digit.
    assert pp.business_number("123-45-67891", TaxType.BUSINESS) == "1234567891"
    # 1208810004: 1+6+0+8+24+7+0+0+0 = 46, plus 0: (10 - 6) % 10 = 4.
    assert pp.business_number("1208810004", TaxType.BUSINESS) == "1208810004"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1234567890", "check digit"),
        ("123456789", "10 digits"),
        ("12345678911", "10 digits"),
        ("123 45 67891", "digits"),
        ("123--4567891", "digits"),
        ("", "required for a BUSINESS"),
        ("１２３４５６７８９１", "digits"),  # full-width digits are not ASCII digits
    ],
)
def test_a_bad_business_number_is_refused_naming_the_field(text, message):
    with pytest.raises(BadPayoutProfile, match=f"^business_number: .*{message}"):
        pp.business_number(text, TaxType.BUSINESS)


def test_an_individual_has_no_business_number():
    assert pp.business_number("  ", TaxType.INDIVIDUAL) is None
    with pytest.raises(BadPayoutProfile, match="^business_number: must be empty for an INDIVIDUAL"):
        pp.business_number("1234567891", TaxType.INDIVIDUAL)


def test_account_numbers_lose_their_hyphens_and_are_shown_masked():
    assert pp.account_number(" 110-234-567890 ") == "110234567890"
    assert pp.mask_account("110234567890") == "********7890"
    profile = pp.validate(7, " Kim Minji ", "INDIVIDUAL", "004", "110-234-567890", "", 5)
    assert (profile.legal_name, profile.account_number, profile.business_number) == ("Kim Minji", "110234567890", None)
    assert profile.masked().account_number == "********7890"


@pytest.mark.parametrize(
    ("field", "args", "message"),
    [
        ("legal_name", ("", "INDIVIDUAL", "004", "1102345678"), "required"),
        ("legal_name", ("x" * 101, "INDIVIDUAL", "004", "1102345678"), "at most 100"),
        ("legal_name", ("Kim\u202eMinji", "INDIVIDUAL", "004", "1102345678"), "bidirectional"),
        ("legal_name", ("\u3164", "INDIVIDUAL", "004", "1102345678"), "visible"),
        ("legal_name", ("Kim\x00", "INDIVIDUAL", "004", "1102345678"), "control"),
        ("tax_type", ("Kim", "TAX_TYPE_UNSPECIFIED", "004", "1102345678"), "INDIVIDUAL or BUSINESS"),
        ("bank_code", ("Kim", "INDIVIDUAL", "04", "1102345678"), "3 digits"),
        ("bank_code", ("Kim", "INDIVIDUAL", "0040", "1102345678"), "3 digits"),
        ("bank_code", ("Kim", "INDIVIDUAL", "abc", "1102345678"), "3 digits"),
        ("account_number", ("Kim", "INDIVIDUAL", "004", ""), "required"),
        ("account_number", ("Kim", "INDIVIDUAL", "004", "1234567"), "8 to 16 digits"),
        ("account_number", ("Kim", "INDIVIDUAL", "004", "12345678901234567"), "8 to 16 digits"),
        ("account_number", ("Kim", "INDIVIDUAL", "004", "-11023456789"), "digits"),
        ("account_number", ("Kim", "INDIVIDUAL", "004", "1102 345678"), "digits"),
    ],
)
def test_each_bad_field_is_refused_with_its_name(field, args, message):
    with pytest.raises(BadPayoutProfile, match=f"^{field}: .*{message}"):
        pp.validate(7, *args, "", 0)
