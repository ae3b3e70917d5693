"""A circuit breaker on the opening of database connections, for service processes.

Why: while MySQL is down, every call that needs a connection tries to open one. A refused
connection is quick at the socket, but PyMySQL (1.2, "PREFERRED" TLS mode) builds a TLS
context with the system's CA store for every attempt, about 25 ms of CPU each; with Envoy's
retries and a handful of clients this kept both cores busy and failed calls took 0.3 to
1.5 s instead of milliseconds (tests/faults/test_mysql_restart.py). Behind this breaker,
after `fail_max` failed connects in a row the process stops trying: calls fail at once with
UNAVAILABLE (pybreaker.CircuitBreakerError, mapped by services/common/grpc_errors.py), and one
trial connect goes through every `reset_timeout` seconds; the first that succeeds closes
the circuit and the pool refills.

Only connection *opening* is guarded (SQLAlchemy's `do_connect` event), so it covers every
use of the engine (use cases, the readiness check, pre-pings that replace a dead pooled
connection) without touching them. Queries on an open connection fail on their own when
the server goes away. The state is the Prometheus gauge
`paysystem_circuit_breaker_open{breaker="mysql-connect"}`.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.common.breakers import Breaker


def guard_connections(
    engine: sa.Engine, *, fail_max: int = 3, reset_timeout: float = 2.0, name: str = "mysql-connect"
) -> Breaker | None:
    """Puts every new DBAPI connection of `engine` behind a breaker; None for SQLite (a file
    has nothing to wait for)."""
    if engine.dialect.name == "sqlite":
        return None
    dbapi = engine.dialect.loaded_dbapi
    down = (dbapi.OperationalError, dbapi.InterfaceError)
    breaker = Breaker(
        name, is_system_error=lambda exc: isinstance(exc, down), fail_max=fail_max, reset_timeout=reset_timeout
    )

    @sa.event.listens_for(engine, "do_connect")
    def _connect(dialect, _record, cargs, cparams):
        return breaker.call(dialect.connect, *cargs, **cparams)

    return breaker
