"""One webhook request: an HTTP POST with the standard library's urllib (the project has no
other HTTP client among its dependencies). Short timeout; redirects are never followed (a
3xx is a failed attempt, so a receiver cannot send the signed body to another host); proxy
variables of the environment are ignored (the receiver is called directly)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import NamedTuple


class Outcome(NamedTuple):
    status_code: int | None  # None: no HTTP answer (refused, timed out, reset)
    error: str  # "" when delivered

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 - urllib's signature
        return None  # urllib then raises HTTPError with the 3xx


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def post(url: str, body: bytes, headers: dict[str, str], timeout_sec: float) -> Outcome:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _OPENER.open(request, timeout=timeout_sec) as response:
            response.read(64 * 1024)  # the answer's body is not kept; read a little so the connection ends cleanly
            return Outcome(response.status, "")
    except urllib.error.HTTPError as exc:
        exc.close()
        return Outcome(exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(None, f"{type(exc).__name__}: {reason}")
