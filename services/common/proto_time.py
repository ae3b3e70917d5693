"""Instants (UTC epoch microseconds, as stored) as google.protobuf.Timestamp, for the adapters.

JSON through Envoy writes a Timestamp as an RFC 3339 UTC string ("2026-12-01T09:30:00Z").
"""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(epoch_us: int) -> Timestamp:
    ts = Timestamp()
    ts.FromMicroseconds(epoch_us)
    return ts
