"""Identity: RS256 tokens, the signing keys, and the interceptor that verifies them again.

Envoy verifies every token at the edge (jwt_authn with the public JWKS) and forwards the
`authorization` header; each service verifies it again with the public key, so an identity
never comes from a header anyone could set. Roles and ownership are checked by the use cases
through the helpers at the bottom.
"""

from __future__ import annotations

import contextvars
import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import grpc
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from domain.errors import BadToken, NotOwner, RoleNotAllowed
from services.common import request_ids
from services.common.handlers import WrappedHandlers

KEY_ID = "paysystem-1"
ROLES = ("VIEWER", "SELLER", "ADMIN", "INGEST")


@dataclasses.dataclass(frozen=True)
class Principal:
    account_id: int
    username: str
    role: str


# --- keys -------------------------------------------------------------------------------


def ensure_keys(keys_dir: Path) -> None:
    """Creates the RSA key pair and the public JWKS on first run (kept outside git)."""
    private_path = keys_dir / "jwt-private.pem"
    if private_path.exists():
        return
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = keys_dir / f".jwt-private.{os.getpid()}.pem"
    tmp.write_bytes(pem)
    tmp.chmod(0o600)
    public = key.public_key()
    (keys_dir / "jwt-public.pem").write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    jwk.update({"kid": KEY_ID, "alg": "RS256", "use": "sig"})
    (keys_dir / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    tmp.rename(private_path)  # last: its presence means the set is complete


def load_private_key(keys_dir: Path) -> bytes:
    return (keys_dir / "jwt-private.pem").read_bytes()


def load_public_key(keys_dir: Path) -> bytes:
    return (keys_dir / "jwt-public.pem").read_bytes()


# --- tokens -----------------------------------------------------------------------------


def issue_token(private_key: bytes, principal: Principal, *, issuer: str, ttl_sec: int) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": str(principal.account_id),
        "name": principal.username,
        "role": principal.role,
        "iat": now,
        "exp": now + ttl_sec,
    }
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": KEY_ID})


def verify_token(public_key, token: str, *, issuer: str, leeway_sec: int) -> Principal:
    try:
        claims = jwt.decode(
            token,
            public_key,
            algorithms=["RS256"],
            issuer=issuer,
            leeway=leeway_sec,
            options={"require": ["exp", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise BadToken("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise BadToken(f"invalid token: {exc}") from exc
    role = claims.get("role")
    if role not in ROLES:
        raise BadToken("invalid token: unknown role")
    sub = claims["sub"]
    # Account ids are positive 64-bit integers written in ASCII digits (int() would also take
    # " 7", "٧" or "1_000").
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit() and 0 < int(sub) < 2**63):
        raise BadToken("invalid token: subject is not an account id")
    return Principal(account_id=int(sub), username=str(claims.get("name", "")), role=role)


# --- the interceptor --------------------------------------------------------------------

_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)

# Methods callable without a token: how one gets a token, and what operators poll.
PUBLIC_METHODS = frozenset(
    {
        "/paysystem.v1.AccountService/SignUp",
        "/paysystem.v1.AccountService/Login",
    }
)
PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


def _bearer(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    for key, value in metadata or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


class _VerifiedTokens:
    """Remembers tokens whose signature was checked, until they expire.

    An RS256 check is a large share of a cached read (docs/decisions.md, "Identity"); a token
    cannot change, so only its expiry needs checking again. Bounded: cleared whole when full.
    """

    def __init__(self, max_entries: int = 50_000) -> None:
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, token: str, now: float) -> Principal | None:
        entry = self._entries.get(token)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def put(self, token: str, principal: Principal, expires_at: float) -> None:
        with self._lock:
            if len(self._entries) >= self._max:
                self._entries.clear()
            self._entries[token] = (principal, expires_at)


class AuthInterceptor(grpc.ServerInterceptor):
    """Verifies each call's token; `require_active(account_id, role)`, if given, then refuses
    the accounts that no longer may act, or no longer have the token's role
    (services/common/account_status.py)."""

    def __init__(
        self,
        public_key: bytes,
        *,
        issuer: str,
        leeway_sec: int,
        require_active: Callable[[int, str], None] | None = None,
    ) -> None:
        self._require_active = require_active
        self._public_key = serialization.load_pem_public_key(public_key)
        self._issuer = issuer
        self._leeway = leeway_sec
        self._verified = _VerifiedTokens()
        self._handlers = WrappedHandlers(lambda method: self._wrap)

    def _principal(self, token: str) -> Principal:
        now = time.time()
        principal = self._verified.get(token, now)
        if principal is None:
            principal = verify_token(self._public_key, token, issuer=self._issuer, leeway_sec=self._leeway)
            expires_at = jwt.decode(token, options={"verify_signature": False})["exp"] + self._leeway
            self._verified.put(token, principal, expires_at)
        return principal

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        handler = continuation(handler_call_details)
        if method in PUBLIC_METHODS or method.startswith(PUBLIC_PREFIXES):
            return handler
        return self._handlers.get(method, handler)

    def _authenticate(self, context) -> Principal:
        # The call's own metadata, read in the call: the wrapped handler is shared by every
        # call of the method (WrappedHandlers), so it must not capture a call's token.
        token = _bearer(context.invocation_metadata())
        if not token:
            raise BadToken("missing bearer token")
        principal = self._principal(token)
        if self._require_active is not None:
            self._require_active(principal.account_id, principal.role)
        return principal

    def _wrap(self, behavior: Callable, streaming_response: bool) -> Callable:
        authenticate = self._authenticate
        if streaming_response:

            def stream(request, context):
                reset = _current.set(authenticate(context))
                bound = request_ids.bind(request_ids.from_metadata(context.invocation_metadata()))
                try:
                    yield from behavior(request, context)
                finally:
                    request_ids.reset(bound)
                    _current.reset(reset)

            return stream

        def unary(request, context):
            reset = _current.set(authenticate(context))
            bound = request_ids.bind(request_ids.from_metadata(context.invocation_metadata()))
            try:
                return behavior(request, context)
            finally:
                request_ids.reset(bound)
                _current.reset(reset)

        return unary


# --- what use cases ask -----------------------------------------------------------------


def current_principal() -> Principal:
    principal = _current.get()
    if principal is None:
        raise BadToken("missing bearer token")
    return principal


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise RoleNotAllowed(f"role {principal.role} may not do this (needs {' or '.join(roles)})")


def require_self_or_admin(principal: Principal, account_id: int, what: str = "resource") -> None:
    """A seller (or viewer) reaches only their own data; an admin reaches anyone's."""
    if principal.role == "ADMIN":
        return
    if principal.account_id != account_id:
        raise NotOwner(f"this {what} belongs to another account")


def require_seller_or_admin(principal: Principal, seller_id: int, what: str) -> None:
    """Sellers read their own figures; admins read anyone's; no other role reads figures."""
    require_role(principal, "SELLER", "ADMIN")
    require_self_or_admin(principal, seller_id, what)
