"""Opaque page tokens: the last key of the previous page, base64url with a prefix.

A token names where the next page starts; anything a response did not give out is refused
(BadPageRequest), so a client cannot scan by guessing tokens of another shape.
"""

from __future__ import annotations

import base64
import binascii

from domain.errors import BadPageRequest

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
MAX_KEY = 2**63 - 1  # keys are BIGINT: a larger one would overflow the query (SQLite: a 500)


def encode_page_token(prefix: str, last_key: int) -> str:
    return base64.urlsafe_b64encode(f"{prefix}{last_key}".encode()).decode().rstrip("=")


def decode_page_token(prefix: str, token: str) -> int:
    """The last key of the previous page; 0 for the first page (an empty token)."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    digits = raw.removeprefix(prefix)
    # isascii: str.isdigit() and int() also take other scripts' digits ("v1:٧" would be 7).
    well_formed = raw.startswith(prefix) and digits.isascii() and digits.isdigit() and len(digits) <= 19
    if not well_formed or not 0 < int(digits) <= MAX_KEY:
        raise BadPageRequest("not a token from a previous response", field="page_token")
    return int(digits)


def page_size(requested: int) -> int:
    """The page size to use: 0 means the default; outside 0..PAGE_SIZE_MAX is refused."""
    if requested < 0 or requested > PAGE_SIZE_MAX:
        raise BadPageRequest(f"must be 0..{PAGE_SIZE_MAX} (0 means {PAGE_SIZE_DEFAULT})", field="page_size")
    return requested or PAGE_SIZE_DEFAULT
