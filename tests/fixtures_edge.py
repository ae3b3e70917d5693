"""Clients that misbehave at Envoy's edge, for tests/e2e/test_envoy_edge.py and the hostile
edge drill (tests/faults/test_hostile_edge.py).

Envoy's per-client limits are keyed by the client's address, and the mesh's own machine
(127.0.0.1) is not limited (services/launcher/envoy_config.py, LOCAL_UNTHROTTLED_CLIENTS).
A "client" here is another loopback address (127.x.y.z reaches 127.0.0.1 on Linux), fresh
for each test, so buckets left by earlier tests do not matter.
"""

from __future__ import annotations

import http.client
import itertools
import json as jsonlib
import os
import socket
import struct
import urllib.request

from paysystem.v1 import account_pb2
from tests.mesh import Mesh

_addresses = itertools.count(1)


def fresh_client_address() -> str:
    """A loopback address no other test of this process has used (127.<pid>.<n>.<n>)."""
    n = next(_addresses)
    return f"127.{os.getpid() % 200 + 20}.{n // 250 % 250 + 1}.{n % 250 + 1}"


def http_call(
    mesh: Mesh,
    method: str,
    path: str,
    body: bytes | None = None,
    *,
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request to Envoy from `source`: (status, lower-cased headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", mesh.settings.http_port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


def json_log_in(mesh: Mesh, username: str, password: str, *, source: str) -> tuple[int, dict[str, str], object]:
    body = jsonlib.dumps({"username": username, "password": password}).encode()
    status, headers, data = http_call(
        mesh, "POST", "/v1/auth/token", body, source=source, headers={"content-type": "application/json"}
    )
    return status, headers, jsonlib.loads(data)


def grpc_log_in_over_http1(mesh: Mesh, username: str, password: str, *, source: str) -> dict[str, str]:
    """A gRPC Login from `source` (gRPC framing over HTTP/1.1: Python's gRPC client cannot pick
    its source address). Returns the response headers: an error, from the service or from
    Envoy, is a trailers-only answer, so its grpc-status is among them."""
    message = account_pb2.LoginRequest(username=username, password=password).SerializeToString()
    frame = struct.pack(">?I", False, len(message)) + message
    _, headers, _ = http_call(
        mesh, "POST", "/paysystem.v1.AccountService/Login", frame, source=source,
        headers={"content-type": "application/grpc", "te": "trailers"},
    )
    return headers


def open_connection(mesh: Mesh, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", mesh.settings.http_port), timeout=30, source_address=(source, 0))
    return sock


def envoy_stats(mesh: Mesh, prefix: str) -> dict[str, int]:
    """Envoy's counters and gauges whose names start with `prefix` (admin /stats)."""
    url = f"http://127.0.0.1:{mesh.settings.envoy_admin_port}/stats?filter=^{prefix}"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    stats = {}
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if value.isdigit():
            stats[key] = int(value)
    return stats


def listener_stat(mesh: Mesh, name: str) -> int:
    """A counter of the public listener, e.g. downstream_cx_overflow."""
    key = f"listener.127.0.0.1_{mesh.settings.http_port}.{name}"
    return envoy_stats(mesh, key.replace(".", "\\.")).get(key, 0)
