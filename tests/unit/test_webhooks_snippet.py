"""The receivers' verification snippet of docs/webhooks.md, run as the document shows it
(extracted from the page, so the page cannot drift from what is tested)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.unit.test_webhook_rules import rfc2104_hmac_sha256

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SECRET = "whsec_test_0123456789"
BODY = b'{"created":1767225600,"data":{},"id":"evt_7","type":"payout.paid"}'


def documented_verify() -> Callable[..., bool]:
    """`verify` as defined by the python block between the verify-snippet markers."""
    block = DOC.read_text().split("<!-- verify-snippet -->", 1)[1].split("<!-- /verify-snippet -->", 1)[0]
    code = block.split("```python\n", 1)[1].rsplit("```", 1)[0]
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102 - the document's own code
    return namespace["verify"]


def header(t: int, body: bytes = BODY, secret: str = SECRET) -> str:
    return f"t={t},v1={rfc2104_hmac_sha256(secret.encode(), f'{t}.'.encode() + body)}"


def test_the_snippet_accepts_a_fresh_signature_and_rejects_an_old_or_forged_one():
    verify = documented_verify()
    t = 1_767_225_600
    assert verify(SECRET, header(t), BODY, now=t + 300)
    assert not verify(SECRET, header(t), BODY, now=t + 301)  # older than 5 minutes: a replay
    assert not verify(SECRET, header(t), BODY + b" ", now=t)  # body changed
    assert not verify("whsec_other_secret_00", header(t), BODY, now=t)
    assert not verify(SECRET, f"t={t}", BODY, now=t)  # no v1
    assert not verify(SECRET, "garbage", BODY, now=t)


def test_the_demo_receiver_verifies_with_exactly_the_documented_snippet():
    """`paysystem demo` runs a receiver (entrypoints/cli/demo_finance.py) whose `verify` is the
    page's snippet, so the demo shows the documented verification, not a variant of it."""
    import inspect

    from entrypoints.cli import demo_finance

    block = DOC.read_text().split("<!-- verify-snippet -->", 1)[1].split("<!-- /verify-snippet -->", 1)[0]
    code = block.split("```python\n", 1)[1].rsplit("```", 1)[0]
    assert inspect.getsource(demo_finance.verify) in code
    assert f"TOLERANCE_SEC = {demo_finance.TOLERANCE_SEC}  # reject" in code
    t = 1_767_225_600
    assert demo_finance.verify(SECRET, header(t), BODY, now=t)
    assert not demo_finance.verify(SECRET, header(t), BODY, now=t + 301)
