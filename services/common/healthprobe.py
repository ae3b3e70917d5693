"""`python -m services.common.healthprobe PORT [SERVICE]`: exit 0 if the instance is SERVING.

Used by container health checks and by `paysystem status`.
"""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def check(address: str, service: str = "", timeout: float = 2.0) -> str:
    """The instance's health status name (SERVING, NOT_SERVING, ...) or UNREACHABLE."""
    with grpc.insecure_channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(  # type: ignore[attr-defined]  # the stubs list no methods
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError:
            return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def main() -> None:
    port = sys.argv[1]
    service = sys.argv[2] if len(sys.argv) > 2 else ""
    status = check(f"127.0.0.1:{port}", service)
    print(status)
    sys.exit(0 if status == "SERVING" else 1)


if __name__ == "__main__":
    main()
