"""The Idempotency-Key header's checks and the request fingerprint
(services/settlement/idempotency.py): no database."""

from __future__ import annotations

import pytest

from domain.errors import BadIdempotencyKey
from paysystem.v1 import settlement_pb2
from services.settlement.idempotency import check_key, fingerprint


@pytest.mark.parametrize("key", ["a", "~" * 255, "order 2026-11/approve #1", "0123456789abcdef"])
def test_keys_of_1_to_255_printable_ascii_characters_are_accepted(key):
    assert check_key(key) == key


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("", "must be 1 to 255 characters, got 0"),
        ("k" * 256, "must be 1 to 255 characters, got 256"),
        ("tab\there", "printable ASCII"),
        ("caf\u00e9", "printable ASCII"),
        ("nul\x00", "printable ASCII"),
    ],
)
def test_other_keys_are_bad_input_naming_the_header(key, words):
    with pytest.raises(BadIdempotencyKey) as refused:
        check_key(key)
    assert str(refused.value).startswith("Idempotency-Key: ") and words in str(refused.value)


def test_the_fingerprint_covers_the_method_and_every_field_including_the_path_ones():
    mark = settlement_pb2.MarkPayoutRequest(payout_id=3, status=settlement_pb2.PAID, reference="R")
    same = settlement_pb2.MarkPayoutRequest(reference="R", status=settlement_pb2.PAID, payout_id=3)
    assert fingerprint("MarkPayout", mark) == fingerprint("MarkPayout", same)
    other_payout = settlement_pb2.MarkPayoutRequest(payout_id=4, status=settlement_pb2.PAID, reference="R")
    assert fingerprint("MarkPayout", mark) != fingerprint("MarkPayout", other_payout)
    assert fingerprint("MarkPayout", mark) != fingerprint("CloseMonth", mark)
