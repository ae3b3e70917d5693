"""CPU of the cache-hit path of GetTopVideos and GetStatement, in-process (no Envoy).

    .venv/bin/python bench/profile_read_path.py [--calls 3000] [--profile top|stmt]

A fresh MariaDB database (`paysystem_rperf_*`, dropped at the end), Redis DB 10, the real
gRPC server with its interceptors (services.common.server.Server) and the read engine the
services use (`readside.read_engine`). Two measurements per method, cache warm:

* `direct`: the intercepted handler called in this thread (interceptor chain + handler, what
  the service's Python does per request apart from gRPC's own machinery): µs of this
  thread's CPU per call;
* `grpc`: sequential calls through a real channel: µs of wall time and of process CPU (client
  and server together) per call.

Each is run twice: without the per-call account check (services/common/account_status.py,
issue 14's hardening) and with it, as the services run it (ActiveAccounts over the accounts
table, `account_check_ttl_sec`), so its cost is shown apart. As the batch does, the data
version is published with its trust window (`announce_reader_max_age`): without that row
every request would read the version itself, which no deployed read path does after a job.

`--profile top|stmt` prints a cProfile of the direct path instead (with the account check).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import grpc  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from batch.data_state import announce_reader_max_age
from paysystem.v1 import common_pb2, settlement_pb2, statistics_pb2  # noqa: E402
from services.account import published as published_accounts
from services.account.tables import accounts
from services.common import account_status  # noqa: E402
from services.common.settings import Settings  # noqa: E402
from services.readpath.readside import read_engine  # noqa: E402
from tests.databases import fresh_database  # noqa: E402
from tests.plugins.readside import (  # noqa: E402
    Daily,
    add_videos,
    make_read_side,
    mark_computed,
    migrated_engine,
    publish_day,
    serve_read_services,
)

REDIS_URL = "redis://127.0.0.1:6379/10"
SELLER = 2001


class _Details(grpc.HandlerCallDetails):
    def __init__(self, method: str, metadata) -> None:
        self.method = method
        self.invocation_metadata = tuple(metadata)


class _Context:
    def __init__(self, metadata) -> None:
        self._metadata = tuple(metadata)

    def invocation_metadata(self):
        return self._metadata

    def code(self):
        return None

    def abort(self, code, details):
        raise Exception()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--profile", choices=["top", "stmt"])
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database("mariadb", "paysystem_rperf_", Path(tmp)) as url:
        engine = migrated_engine(url)
        with engine.begin() as conn:
            add_videos(conn, SELLER, range(1, 11))
        first = dt.date(2026, 1, 5)
        mark_computed(engine, *(first + dt.timedelta(days=i) for i in range(100)))
        publish_day(
            engine,
            dt.date(2026, 3, 2),
            [
                Daily(v, views=v, watch_time_sec=10 * v, ad_views=v, video_revenue="1.1", ad_revenue="12")
                for v in range(1, 11)
            ],
        )
        settings = Settings(db_url=url)
        with engine.begin() as conn:
            conn.execute(
                sa.insert(accounts).values(
                    account_id=SELLER, username="rperf-seller", password_hash="!", role="SELLER", created_at_us=0
                )
            )
            announce_reader_max_age(conn, settings.data_version_max_age_ms, int(time.time() * 1e6))
        time.sleep(settings.data_version_max_age_ms / 1000 + 0.05)
        read = make_read_side(read_engine(settings), REDIS_URL, f"rperf-{uuid.uuid4().hex[:8]}", settings=settings)
        active = account_status.ActiveAccounts(
            published_accounts.role_lookup(engine),
            settings.account_check_ttl_sec,
            current_roles=published_accounts.bulk_role_lookup(engine),
        )
        checks = [("with account check", active.require_active)]
        if not args.profile:
            checks.insert(0, ("no account check", None))
        try:
            for label, require_active in checks:
                print(f"-- {label}")
                with serve_read_services(url, Path(tmp), 26001, read, require_active_account=require_active) as svc:
                    run(svc, args)
        finally:
            read.cache.invalidate_after_batch()
            read.engine.dispose()
            engine.dispose()


def run(svc, args) -> None:
    metadata = svc.token(SELLER)
    top_req = statistics_pb2.GetTopVideosRequest(
        seller_id=SELLER, period=common_pb2.DAILY, date="2026-03-02", metric=statistics_pb2.VIEWS
    )
    stmt_req = settlement_pb2.GetStatementRequest(seller_id=SELLER, period=common_pb2.DAILY, date="2026-03-02")
    top = svc.stats.GetTopVideos(top_req, metadata=metadata)
    stmt = svc.settlement.GetStatement(stmt_req, metadata=metadata)
    assert len(top.videos) == 5 and len(stmt.lines) == 10, (top, stmt)

    server = _server_of(svc)
    cases = {
        "top": ("/paysystem.v1.StatisticsService/GetTopVideos", top_req, svc.stats.GetTopVideos),
        "stmt": ("/paysystem.v1.SettlementService/GetStatement", stmt_req, svc.settlement.GetStatement),
    }
    for name, (method, request, stub) in cases.items():
        details = _Details(method, metadata)
        if args.profile == name:
            profiler = cProfile.Profile()
            profiler.enable()
            direct(details, request, args.calls, server)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)
            continue
        if args.profile:
            continue
        for _ in range(200):
            stub(request, metadata=metadata)
        cpu_direct = direct(details, request, args.calls, server)
        wall, cpu = through_grpc(stub, request, metadata, args.calls)
        print(
            f"{name:5} direct {cpu_direct:6.0f} µs CPU/call | grpc {wall:6.0f} µs wall/call, {cpu:6.0f} µs process CPU/call"
        )


def _find(server, details):
    for h in server._state.generic_handlers:
        found = h.service(details)
        if found is not None:
            return found
    return None


def _server_of(svc):
    # serve_read_services does not hand out its Server: find the grpc server object.
    import gc

    for obj in gc.get_objects():
        if type(obj).__name__ == "_Server" and hasattr(obj, "_state"):
            return obj
    raise RuntimeError("no grpc server")


def direct(details, request, calls: int, server) -> float:
    context = _Context(details.invocation_metadata)
    started = time.thread_time_ns()
    for _ in range(calls):
        # A new call re-runs the interceptor pipeline, as grpc does per RPC.
        h = server._state.interceptor_pipeline.execute(lambda d: _find(server, d), details)
        behavior = h.unary_unary
        response = behavior(request, context)
        h.response_serializer(response)
    return (time.thread_time_ns() - started) / calls / 1000


def through_grpc(stub, request, metadata, calls: int) -> tuple[float, float]:
    wall0, cpu0 = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(calls):
        stub(request, metadata=metadata)
    return (time.perf_counter_ns() - wall0) / calls / 1000, (time.process_time_ns() - cpu0) / calls / 1000


if __name__ == "__main__":
    main()
