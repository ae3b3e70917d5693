"""One webhook request: an HTTP POST with the standard library's http.client (the project has
no other HTTP client among its dependencies; http.client sends header names as written and
never follows a redirect, so a 3xx is a failed attempt and the signed body never goes to
another host). Short timeout; proxy variables of the environment play no part."""

from __future__ import annotations

import http.client
import ssl
import urllib.parse
from typing import NamedTuple


class Outcome(NamedTuple):
    status_code: int | None  # None: no HTTP answer (refused, timed out, reset)
    error: str  # "" when delivered

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, body: bytes, headers: dict[str, str], timeout_sec: float) -> Outcome:
    parts = urllib.parse.urlsplit(url)
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=timeout_sec, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout_sec)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        connection.request("POST", target, body=body, headers={**headers, "Content-Length": str(len(body))})
        response = connection.getresponse()
        response.read(64 * 1024)  # the answer's body is not kept; read a little so the exchange ends cleanly
    except (OSError, http.client.HTTPException) as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Outcome(response.status, "")
    return Outcome(response.status, f"HTTP {response.status}")
