"""The demo's finance steps (DESIGN 2b, issue 31 item 9), through Envoy: a webhook receiver
the demo starts (an HTTP server on a free port in a thread of the demo process), registered
for every event before the first close, which verifies each request's signature with the
receivers' snippet of docs/webhooks.md; and the approved month's bank transfer file, written
to the demo's data folder with its SHA-256 printed beside the one recorded with the month."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

EVENTS = ["month.closed", "adjustment.posted", "payouts.approved", "payout.paid", "payout.failed"]
RECEIVER_PATH = "/paysystem-demo-webhook"
WAIT_SEC = 30  # the dispatcher polls every 0.5 s; a delivery comes within a few seconds

# --- the receivers' snippet of docs/webhooks.md, as the page shows it (a unit test checks that
# the page holds exactly this function) ---------------------------------------------------------
TOLERANCE_SEC = 300  # reject requests signed more than 5 minutes ago (or ahead)


def verify(secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    """True when `header` (the PaySystem-Signature value) signs the raw `body` with `secret`
    and its timestamp is within 5 minutes of now."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SEC:
        return False
    signed = str(timestamp).encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, given)


class WebhookReceiver:
    """A receiver as a customer would run one: verify, de-duplicate on the event id, answer 2xx
    (401 for a request whose signature does not verify)."""

    def __init__(self) -> None:
        self.secret = secrets.token_urlsafe(24)  # 32 printable characters
        self.received: list[dict[str, Any]] = []  # {"id", "type", "verified", "data"}, as they came
        self.rejected = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                ok = self.path == RECEIVER_PATH and verify(
                    receiver.secret, self.headers.get("PaySystem-Signature", ""), body
                )
                receiver._record(body, ok)
                self.send_response(200 if ok else 401)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # the demo prints its own summary
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{RECEIVER_PATH}"

    def _record(self, body: bytes, ok: bool) -> None:
        with self._lock:
            if not ok:
                self.rejected += 1
                return
            event = json.loads(body)
            if all(e["id"] != event["id"] for e in self.received):  # at least once: de-duplicate
                self.received.append({"id": event["id"], "type": event["type"], "data": event["data"]})

    def types(self) -> list[str]:
        with self._lock:
            return [e["type"] for e in self.received]

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def register(base: str, json_call: Callable[..., dict], console: Console, receiver: WebhookReceiver, token: str) -> str:
    """Registers the receiver for every event; endpoints of earlier demos on this data (their
    receivers are gone) are deleted first, so the dispatcher does not retry them for 3 days."""
    for endpoint in json_call(base, "GET", "/v1/webhooks/endpoints", token=token).get("endpoints", []):
        if endpoint["url"].endswith(RECEIVER_PATH):
            json_call(base, "DELETE", f"/v1/webhooks/endpoints/{endpoint['endpoint_id']}", token=token)
    body = {"url": receiver.url, "events": EVENTS, "secret": receiver.secret}
    endpoint = json_call(base, "POST", "/v1/webhooks/endpoints", body, token=token)
    console.print(
        f"webhook receiver listening at {receiver.url}: endpoint {endpoint['endpoint_id']}, every event", soft_wrap=True
    )
    return str(endpoint["endpoint_id"])


def wait_and_print(console: Console, receiver: WebhookReceiver, last_type: str | None) -> None:
    """Waits (at most WAIT_SEC) for the event the demo caused last (None: for any event, a
    few seconds: a demo again on its data may cause none), then prints every event received,
    each verified by the snippet before it was accepted."""
    deadline = time.monotonic() + (WAIT_SEC if last_type else 5)
    while time.monotonic() < deadline:
        types = receiver.types()
        if (last_type in types) if last_type else bool(types):
            break
        time.sleep(0.2)
    table = Table(title="Webhook events the demo's receiver got (PaySystem-Signature verified)")
    for column in ("event id", "type", "month", "summary"):
        table.add_column(column)
    for event in receiver.received:
        data = event["data"]
        summary = ", ".join(
            f"{key} {data[key]}"
            for key in ("payouts_created", "count", "total_krw", "payout_id", "status")
            if key in data
        )
        table.add_row(event["id"], event["type"], data.get("month", ""), summary)
    console.print(table)
    console.print(
        f"{len(receiver.received)} webhook events received with a verified signature, {receiver.rejected} rejected"
    )


def write_bank_file(
    base: str, json_call: Callable[..., dict], console: Console, month: str, token: str, folder: Path
) -> Path:
    """Downloads the approved month's bank transfer file into `folder`; prints its path and
    SHA-256, and what is recorded with the month (GET /v1/settlement/closings)."""
    request = urllib.request.Request(f"{base}/v1/settlement/closings/{month}/transfers:csv")
    request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            data = response.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"GET the bank file of {month}: HTTP {exc.code} {exc.read()[:300]!r}") from None
    path = folder / f"transfers-{month}.csv"
    path.write_bytes(data)
    console.print(f"bank transfer file of {month}: {path} SHA-256 {hashlib.sha256(data).hexdigest()}", soft_wrap=True)
    closings = json_call(base, "GET", "/v1/settlement/closings", token=token)["closings"]
    closing = next(c for c in closings if c["month"] == month)
    console.print(
        f"recorded with {month}: SHA-256 {closing.get('transfer_file_sha256', '')},"
        f" {closing.get('transfer_rows', '0')} transfers, {closing.get('transfer_total_krw', '0')} KRW net",
        soft_wrap=True,
    )
    return path
