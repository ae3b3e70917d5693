"""The bank transfer file and a month's payouts (services/settlement/transfers.py) against the
in-memory fakes (tests/fakes/transfers.py). Expected bytes are written out by hand; each
refusal is checked to store nothing and audit nothing."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from decimal import Decimal

import pytest

from domain.errors import (
    BadInput,
    BadPageRequest,
    ClosingNotFound,
    RoleNotAllowed,
    TransferFileNotFound,
    TransferFileNotReady,
)
from domain.ledger import PayoutStatus
from domain.payout_profile import PayoutProfile
from domain.taxes import Breakdown, TaxType
from services.common.auth import Principal
from services.common.clock import FixedClock
from services.settlement import transfers
from services.settlement.ports import Closing, Payout
from tests.fakes.settlement import FakeClosings, FakeLedger
from tests.fakes.taxes import with_profiles
from tests.fakes.transfers import FakeTransferUnitOfWork

ADMIN, CHECKER, SELLER = Principal(1, "admin", "ADMIN"), Principal(2, "checker", "ADMIN"), Principal(7, "s", "SELLER")
JAN, FEB = dt.date(2012, 1, 1), dt.date(2012, 2, 1)
T0, NOW = 1_330_000_000_000_000, 1_330_000_100_000_000
S = PayoutStatus
IND, BUS = TaxType.INDIVIDUAL, TaxType.BUSINESS
# Hand-worked: 33,334 -> income tax 1,000 + local 100, net 32,234; BUSINESS 20,000 -> VAT 2,000.
TAXED_7 = Breakdown(33_334, 1_000, 100, 0, 32_234)
TAXED_8 = Breakdown(20_000, 0, 0, 2_000, 22_000)
TAXED_9 = Breakdown(5_000, 0, 0, 0, 5_000)


def profile(seller_id: int, name: str, tax_type: TaxType, bank: str, account: str) -> PayoutProfile:
    number = "1234567891" if tax_type is BUS else None
    return PayoutProfile(seller_id, name, tax_type, bank, account, number, 0)


def approved_february(approved: bool = True) -> FakeTransferUnitOfWork:
    """February closed by admin 1 (approved by 2): payouts of sellers 7 and 8 APPROVED, 9's
    HELD; seller 10's PAID before any file; a January payout APPROVED (another month)."""
    ledger = FakeLedger()
    ledger.payouts = {
        1: Payout(1, 7, JAN, 11_000, S.APPROVED, None, T0, T0, IND, Breakdown(11_000, 0, 0, 0, 11_000)),
        2: Payout(2, 8, FEB, 20_000, S.APPROVED, None, T0, T0, BUS, TAXED_8),
        3: Payout(3, 7, FEB, 33_334, S.APPROVED, None, T0, T0, IND, TAXED_7),
        4: Payout(4, 9, FEB, 5_000, S.HELD, None, T0, T0),
        5: Payout(5, 10, FEB, 7_000, S.PAID, "BANK-5", T0, T0, IND, Breakdown(7_000, 0, 0, 0, 7_000)),
    }
    closings = FakeClosings(ledger)
    feb = Closing(FEB, T0, 4, 4, Decimal(65_334), 0, Decimal(0), 4, 65_334, closed_by=1)
    closings.closed = {
        FEB: feb if not approved else Closing(**{**feb.__dict__, "approved_by": 2, "approved_at_us": T0})
    }
    profiles = with_profiles(
        profile(7, "=Kim Minji", IND, "004", "110234567890"),
        profile(8, "Studio B Co., Ltd.", BUS, "088", "5512345678"),
        profile(10, "Lee", IND, "020", "1002003004005"),
    )
    return FakeTransferUnitOfWork(closings=closings, profiles=profiles)


PART_1 = (
    "\ufeffkind,payout_id,seller_id,bank_code,account_number,account_holder,amount_krw,memo\r\n"
    'TRANSFER,2,8,088,5512345678,"Studio B Co., Ltd.",22000,PaySystem 2012-02\r\n'
    "TRANSFER,3,7,004,110234567890,'=Kim Minji,32234,PaySystem 2012-02\r\n"
    "TOTAL,,,,,,54234,PaySystem 2012-02\r\n"
).encode()


def test_the_first_download_freezes_part_1_and_every_download_returns_its_bytes_and_is_audited():
    uow = approved_february()
    file, export = transfers.transfer_file(uow, ADMIN, "2012-02", 0, clock=FixedClock(NOW))
    assert export.data == PART_1 and export.filename == "transfers-2012-02.csv"
    assert (file.part, file.rows, file.total_krw, file.created_by, file.created_at_us) == (1, 2, 54_234, 1, NOW)
    assert file.sha256 == hashlib.sha256(PART_1).hexdigest()
    # Later: the same bytes, even after a profile changes and a payout of the file is marked.
    uow.profiles.put(profile(8, "Someone else", BUS, "088", "9999999999"))
    uow.ledger.payouts[2] = Payout(2, 8, FEB, 20_000, S.PAID, "BANK-2", T0, NOW, BUS, TAXED_8)
    again, export_again = transfers.transfer_file(uow, CHECKER, "2012-02", 1, clock=FixedClock(NOW + 1))
    assert export_again.data == PART_1 and again == file
    assert [(e.actor_id, e.action, e.target) for e, _ in uow.audit.events] == [
        (1, "bank_file.download", "month:2012-02"),
        (2, "bank_file.download", "month:2012-02"),
    ]
    assert file.sha256 in uow.audit.events[0][0].after
    (closing,) = transfers.list_closings(uow, ADMIN)
    assert (closing.files, closing.unfiled) == ([file], 0)


def test_a_payout_approved_after_part_1_goes_into_part_2_and_part_1_stays():
    uow = approved_february()
    transfers.transfer_file(uow, ADMIN, "2012-02", 1, clock=FixedClock(NOW))
    with pytest.raises(TransferFileNotReady, match="parts 1..1: no part 2 yet"):
        transfers.transfer_file(uow, ADMIN, "2012-02", 2)
    with pytest.raises(TransferFileNotFound, match="the next one is part 2"):
        transfers.transfer_file(uow, ADMIN, "2012-02", 3)
    assert [f.part for f in uow.transfers.files()] == [1] and len(uow.audit.events) == 1
    # Seller 9 completes the profile: the HELD payout is released APPROVED (an approved month).
    uow.profiles.put(profile(9, "Park", IND, "011", "30201234567"))
    uow.ledger.payouts[4] = Payout(4, 9, FEB, 5_000, S.APPROVED, None, T0, NOW, IND, TAXED_9)
    assert transfers.list_closings(uow, ADMIN)[0].unfiled == 1
    _, part2 = transfers.transfer_file(uow, ADMIN, "2012-02", 2, clock=FixedClock(NOW))
    assert part2.filename == "transfers-2012-02-part2.csv"
    assert part2.data.decode().splitlines()[1:] == [
        "TRANSFER,4,9,011,30201234567,Park,5000,PaySystem 2012-02",
        "TOTAL,,,,,,5000,PaySystem 2012-02",
    ]
    assert transfers.transfer_file(uow, ADMIN, "2012-02", 1)[1].data == PART_1
    assert [(f.part, f.rows, f.total_krw) for f in transfers.list_closings(uow, ADMIN)[0].files] == [
        (1, 2, 54_234),
        (2, 1, 5_000),
    ]


@pytest.mark.parametrize(
    ("principal", "month", "part", "error", "words"),
    [
        (SELLER, "2012-02", 1, RoleNotAllowed, "ADMIN"),
        (ADMIN, "2012-13", 1, BadInput, "month"),
        (ADMIN, "2012-02", -1, BadInput, "part"),
        (ADMIN, "2012-02", 1001, BadInput, "part"),
        (ADMIN, "2012-03", 1, TransferFileNotReady, "2012-03 is not closed"),
    ],
)
def test_refusals_store_nothing(principal, month, part, error, words):
    uow = approved_february()
    before = copy.deepcopy(uow.transfers.stored)
    with pytest.raises(error, match=words):
        transfers.transfer_file(uow, principal, month, part)
    assert uow.transfers.stored == before and uow.transfers.part_of == {} and uow.audit.events == []


def test_a_month_not_approved_yet_has_no_file():
    uow = approved_february(approved=False)
    with pytest.raises(TransferFileNotReady, match="not approved yet: an admin other than the one who closed it"):
        transfers.transfer_file(uow, ADMIN, "2012-02", 1)
    assert uow.transfers.stored == {} and uow.audit.events == []


def test_the_months_payouts_by_status_and_paged():
    uow = approved_february()
    first = transfers.list_month_payouts(uow, ADMIN, "2012-02", "", 2, "")
    assert [p.payout_id for p in first.payouts] == [2, 3] and first.next_page_token
    rest = transfers.list_month_payouts(uow, ADMIN, "2012-02", "PAYOUT_STATUS_UNSPECIFIED", 2, first.next_page_token)
    assert [p.payout_id for p in rest.payouts] == [4, 5] and rest.next_page_token == ""
    approved = transfers.list_month_payouts(uow, ADMIN, "2012-02", "APPROVED", 0, "")
    assert [p.payout_id for p in approved.payouts] == [2, 3] and approved.next_page_token == ""
    assert [p.payout_id for p in transfers.list_month_payouts(uow, ADMIN, "2012-02", "HELD", 0, "").payouts] == [4]
    assert transfers.list_month_payouts(uow, ADMIN, "2012-02", "FAILED", 0, "").payouts == []
    with pytest.raises(ClosingNotFound, match="2012-01 is not closed"):
        transfers.list_month_payouts(uow, ADMIN, "2012-01", "", 0, "")
    with pytest.raises(BadInput, match="status"):
        transfers.list_month_payouts(uow, ADMIN, "2012-02", "UNKNOWN_9", 0, "")
    with pytest.raises(BadPageRequest):
        transfers.list_month_payouts(uow, ADMIN, "2012-02", "", 0, "bogus")
    with pytest.raises(RoleNotAllowed):
        transfers.list_month_payouts(uow, SELLER, "2012-02", "", 0, "")
