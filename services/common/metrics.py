"""Prometheus metrics shared by every process: one registry, metric names defined once.

Each service instance serves them on its own port (`--metrics-port`); Envoy's own stats are on
its admin port (`/stats/prometheus`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from services.common.grpc_errors import status_of
from services.common.handlers import WrappedHandlers

RPC_REQUESTS = Counter(
    "paysystem_rpc_requests_total", "gRPC calls handled, by method and status code", ["method", "code"]
)
RPC_LATENCY = Histogram(
    "paysystem_rpc_latency_seconds",
    "Time to handle a gRPC call (until the last message for streams)",
    ["method"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60),
)
CACHE_REQUESTS = Counter(
    "paysystem_cache_requests_total", "Cache look-ups by cache name and result (hit, miss, error)", ["cache", "result"]
)
BREAKER_STATE = Gauge(
    "paysystem_circuit_breaker_open", "1 while a circuit breaker is open (or half-open: 0.5), else 0", ["breaker"]
)
BATCH_PARTITIONS = Counter(
    "paysystem_batch_partitions_total", "Batch partitions finished, by job and status", ["job", "status"]
)
STREAMS_REFUSED = Counter(
    "paysystem_stream_limit_total",
    "Client streams refused or ended by a limit: reason busy (too many at once), idle, max_duration",
    ["method", "reason"],
)
LOGINS_THROTTLED = Counter(
    "paysystem_login_throttled_total", "Log-in attempts refused because the username had too many recent failures"
)
ACCOUNTS_REFUSED = Counter(
    "paysystem_token_account_refused_total",
    "Calls with a valid token whose account is disabled or unknown, or whose role is no longer the account's",
)
INGEST_REJECTED_ARCHIVED = Counter(
    "paysystem_ingest_rejected_archived_total",
    "Playbacks rejected at ingest because their local day is in an archived month",
)
REALTIME_COUNT_FAILURES = Counter(
    "paysystem_realtime_count_failures_total",
    "Ingest calls whose realtime estimate could not be counted in Redis (the plays are stored; "
    "the estimate of those playbacks is missing)",
)
BATCH_ROWS = Counter("paysystem_batch_rows_written_total", "Rows written by the batch steps", ["job"])
BATCH_PUBLICATION_FAILURES = Counter(
    "paysystem_batch_publication_failures_total",
    "Failed steps of publishing a job's figures: announce (the trust window), after_days (the cache)",
    ["step"],
)

BATCH_LAST_SUCCESS = Gauge(
    "paysystem_batch_last_success_timestamp_seconds",
    "When a run of the job last finished with every day completed (Unix time), as this process saw it",
    ["job"],
)
BATCH_JOBS_FAILED = Counter("paysystem_batch_jobs_failed_total", "Job runs that ended failed (JOB_FAILED)", ["job"])
LAST_CLOSED_MONTH = Gauge(
    "paysystem_settlement_last_closed_month",
    "The newest closed month as a number YYYYMM (202611 = November 2026); 0 while this process has seen none",
)

REPLICA_LAG = Gauge(
    "paysystem_db_replica_lag_seconds",
    "A read replica's lag behind the primary, from the primary's heartbeat (now - heartbeat read on the replica)",
    ["replica"],
)
REPLICA_IN_USE = Gauge(
    "paysystem_db_replica_in_use", "1 while a read service uses a read replica, 0 while it is out of use", ["replica"]
)
DB_READS = Counter(
    "paysystem_db_reads_total",
    "Database reads of the read services, by where they ran (primary or a replica)",
    ["target"],
)
REPLICA_CATCH_UP = Counter(
    "paysystem_batch_replica_waits_total",
    "A job's waits for a read replica to apply its figures: applied, or not (the replica is out of use)",
    ["replica", "result"],
)


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Starts the /metrics HTTP endpoint on `host` (the service's own address) and `port`
    (0 = none). In compose the services listen on 0.0.0.0, so Prometheus can scrape them."""
    if port:
        start_http_server(port, addr=host)


def month_number(month) -> int:
    """A month (a date in it) as the number LAST_CLOSED_MONTH shows: 2026-11 -> 202611."""
    return month.year * 100 + month.month


class MetricsInterceptor(grpc.ServerInterceptor):
    def __init__(self) -> None:
        self._handlers = WrappedHandlers(
            lambda method: lambda behavior, streaming: _measured(method, behavior, streaming)
        )

    def intercept_service(self, continuation, handler_call_details):
        return self._handlers.get(handler_call_details.method, continuation(handler_call_details))


def _measured(method: str, behavior: Callable, streaming_response: bool) -> Callable:
    # The labelled children are looked up once per method (per code for the counter), not
    # on every call: `labels()` takes a lock and builds a tuple each time.
    latency = RPC_LATENCY.labels(method)
    counters: dict[object, Counter] = {}

    def record(started: float, exc: BaseException | None, context) -> None:
        latency.observe(time.perf_counter() - started)
        # An abort by the error interceptor has already set the code on the context.
        code = context.code() or (status_of(exc)[0] if exc is not None else grpc.StatusCode.OK)
        counter = counters.get(code)
        if counter is None:
            counter = counters[code] = RPC_REQUESTS.labels(method, getattr(code, "name", str(code)))
        counter.inc()

    if streaming_response:

        def stream(request, context):
            started = time.perf_counter()
            try:
                yield from behavior(request, context)
            except BaseException as exc:
                record(started, exc, context)
                raise
            record(started, None, context)

        return stream

    def unary(request, context):
        started = time.perf_counter()
        try:
            result = behavior(request, context)
        except BaseException as exc:
            record(started, exc, context)
            raise
        record(started, None, context)
        return result

    return unary
