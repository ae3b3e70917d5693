"""Tokens: what the services accept as an identity, and what they refuse."""

from pathlib import Path

import pytest

from domain.errors import BadToken, NotOwner, RoleNotAllowed
from services.common import auth

ISSUER = "paysystem-test"


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    keys_dir = tmp_path_factory.mktemp("keys")
    auth.ensure_keys(keys_dir)
    return keys_dir


def _token(keys_dir: Path, *, ttl: int = 60, role: str = "SELLER", issuer: str = ISSUER) -> str:
    principal = auth.Principal(account_id=42, username="sam", role=role)
    return auth.issue_token(auth.load_private_key(keys_dir), principal, issuer=issuer, ttl_sec=ttl)


def test_a_fresh_token_yields_its_principal(keys):
    principal = auth.verify_token(auth.load_public_key(keys), _token(keys), issuer=ISSUER, leeway_sec=0)
    assert principal == auth.Principal(42, "sam", "SELLER")


def test_an_expired_token_is_refused(keys):
    with pytest.raises(BadToken, match="expired"):
        auth.verify_token(auth.load_public_key(keys), _token(keys, ttl=-10), issuer=ISSUER, leeway_sec=0)


def test_a_token_signed_by_another_key_is_refused(keys, tmp_path):
    auth.ensure_keys(tmp_path)
    with pytest.raises(BadToken, match="invalid token"):
        auth.verify_token(auth.load_public_key(keys), _token(tmp_path), issuer=ISSUER, leeway_sec=0)


def test_a_token_from_another_issuer_is_refused(keys):
    with pytest.raises(BadToken):
        auth.verify_token(auth.load_public_key(keys), _token(keys, issuer="else"), issuer=ISSUER, leeway_sec=0)


def test_an_unknown_role_is_refused(keys):
    with pytest.raises(BadToken, match="role"):
        auth.verify_token(auth.load_public_key(keys), _token(keys, role="ROOT"), issuer=ISSUER, leeway_sec=0)


def test_keys_are_made_once_and_kept(keys):
    before = auth.load_private_key(keys)
    auth.ensure_keys(keys)
    assert auth.load_private_key(keys) == before
    assert (keys / "jwks.json").read_text().count('"kid"') == 1


def test_a_seller_reaches_only_their_own_account():
    seller = auth.Principal(7, "s", "SELLER")
    auth.require_self_or_admin(seller, 7)
    with pytest.raises(NotOwner):
        auth.require_self_or_admin(seller, 8)
    auth.require_self_or_admin(auth.Principal(1, "a", "ADMIN"), 8)


def test_a_role_check_names_what_is_needed():
    with pytest.raises(RoleNotAllowed, match="SELLER"):
        auth.require_role(auth.Principal(7, "v", "VIEWER"), "SELLER")


def test_a_remembered_token_is_still_refused_once_it_expires(keys):
    import time

    interceptor = auth.AuthInterceptor(auth.load_public_key(keys), issuer=ISSUER, leeway_sec=0)
    # exp is whole seconds (iat + ttl, iat truncated): ttl 2 leaves at least 1 s of validity,
    # and 2.1 s later it has certainly passed (ttl 1 could expire within milliseconds).
    token = _token(keys, ttl=2)
    assert interceptor._principal(token).account_id == 42
    assert interceptor._principal(token).account_id == 42  # second time from memory
    time.sleep(2.1)
    with pytest.raises(BadToken, match="expired"):
        interceptor._principal(token)


def test_a_forged_token_is_never_remembered_as_valid(keys, tmp_path):
    auth.ensure_keys(tmp_path)
    interceptor = auth.AuthInterceptor(auth.load_public_key(keys), issuer=ISSUER, leeway_sec=0)
    forged = _token(tmp_path)
    for _ in range(2):
        with pytest.raises(BadToken):
            interceptor._principal(forged)
