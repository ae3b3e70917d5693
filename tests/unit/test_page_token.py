"""Page tokens of the seller's video list: only what encode_page_token makes is accepted."""

import base64

import pytest

from domain.errors import BadPageRequest
from services.video.service import decode_page_token, encode_page_token


def _token(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_token_round_trips():
    assert decode_page_token(encode_page_token(42)) == 42


@pytest.mark.parametrize("text", ["v1:\u0667", "v1:4\u0662", "v1:42\n", "v1: 42", "v1:0", "v1:", "v2:42"])
def test_a_token_with_anything_but_ascii_digits_after_the_prefix_is_refused(text):
    with pytest.raises(BadPageRequest, match="page_token"):
        decode_page_token(_token(text))


@pytest.mark.parametrize("text", [f"v1:{2**63}", "v1:" + "9" * 19])
def test_a_token_past_the_largest_bigint_key_is_refused_not_sent_to_the_database(text):
    with pytest.raises(BadPageRequest, match="page_token"):
        decode_page_token(_token(text))


def test_the_largest_bigint_key_is_a_token():
    assert decode_page_token(_token(f"v1:{2**63 - 1}")) == 2**63 - 1
