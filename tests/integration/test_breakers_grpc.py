"""`call_service`: a call to another service through its breaker, against a real gRPC port."""

from __future__ import annotations

import time
import uuid
from concurrent import futures

import grpc
import pybreaker
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from services.common.breakers import call_service, service_breaker

PORT = 20120


def test_calls_to_a_service_that_is_down_open_the_circuit_then_succeed_once_it_is_up():
    breaker = service_breaker(f"health-{uuid.uuid4().hex[:6]}", fail_max=2, reset_timeout=0.3)
    channel = grpc.insecure_channel(f"127.0.0.1:{PORT}")
    check = health_pb2_grpc.HealthStub(channel).Check
    request = health_pb2.HealthCheckRequest(service="")
    for _ in range(2):
        with pytest.raises(grpc.RpcError) as err:
            call_service(breaker, check, request, timeout=1.0)
        assert err.value.code() is grpc.StatusCode.UNAVAILABLE
    assert breaker.state == "open"
    started = time.monotonic()
    with pytest.raises(pybreaker.CircuitBreakerError):
        call_service(breaker, check, request, timeout=1.0)
    assert time.monotonic() - started < 0.05

    server = grpc.server(futures.ThreadPoolExecutor(2))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    server.add_insecure_port(f"127.0.0.1:{PORT}")
    server.start()
    try:
        time.sleep(0.35)
        deadline = time.monotonic() + 10
        while True:  # the channel reconnects with its own backoff
            try:
                response = call_service(breaker, check, request, timeout=2.0, metadata=[("x-test", "1")])
                break
            except (grpc.RpcError, pybreaker.CircuitBreakerError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.35)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
        assert breaker.state == "closed"
    finally:
        server.stop(0)
        channel.close()
