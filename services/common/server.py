"""The gRPC server bootstrap every service runs: interceptors, health, reflection, shutdown.

Health follows the process's real state: SERVING once its dependencies answer, NOT_SERVING
while they do not, on SIGUSR1 (drain for maintenance; SIGUSR1 again to return), and on
SIGTERM/SIGINT, after which in-flight calls get `shutdown_grace_sec` to finish.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures

import grpc
import sqlalchemy as sa
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common import account_status, auth, db, dbguard, metrics, processes
from services.common.clock import Clock, clock_for
from services.common.decoding import DecodeInterceptor, FieldCap
from services.common.grpc_errors import ErrorInterceptor
from services.common.logs import configure_logging
from services.common.settings import Settings, get_settings

log = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclasses.dataclass
class ServiceContext:
    """What a service's `build` gets: the real objects, made once at start-up."""

    settings: Settings
    engine: sa.Engine
    instance: str
    readiness_checks: list[Callable[[], None]] = dataclasses.field(default_factory=list)
    # Refuses tokens of disabled or unknown accounts, and tokens whose role is no longer the
    # account's (account_status.ActiveAccounts: called with the account id and the token's
    # role); the process bootstrap sets it, tests that mint tokens for made-up ids leave it None.
    require_active_account: Callable[[int, str], None] | None = None
    # Request fields counted in the raw message before it is parsed, by full method name
    # (services/common/decoding.py); a service's build adds its own.
    field_caps: dict[str, FieldCap] = dataclasses.field(default_factory=dict)
    # grpcio's limit on one received message; a service whose messages are small by
    # contract lowers it (the video service: a capped batch of playbacks).
    max_receive_message_bytes: int = 32 * 1024 * 1024
    # The business clock the service's use cases are given (services/common/clock.py);
    # None: the one the settings describe (the real clock, or PAYSYSTEM_TEST_NOW's).
    clock: Clock = None  # type: ignore[assignment]  # always a Clock after __post_init__

    def __post_init__(self) -> None:
        if self.clock is None:
            self.clock = clock_for(self.settings)


# (add_XServicer_to_server, servicer, full service name from the generated DESCRIPTOR)
Registration = tuple[Callable, object, str]


def parse_args(service: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=f"paysystem-{service}")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--instance", default=f"{service}-1")
    parser.add_argument("--metrics-port", type=int, default=0, help="Prometheus /metrics port (0 = none)")
    parser.add_argument("--cpu", type=int, default=None, help="run on this CPU only (the launcher's placement)")
    return parser.parse_args()


class Server:
    def __init__(self, service: str, registrations: list[Registration], ctx: ServiceContext, port: int) -> None:
        settings = ctx.settings
        self.service = service
        self.ctx = ctx
        public_key = auth.load_public_key(settings.keys_dir)
        self.grpc_server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=settings.grpc_workers, thread_name_prefix=service),
            interceptors=[
                metrics.MetricsInterceptor(),
                ErrorInterceptor(),
                auth.AuthInterceptor(
                    public_key,
                    issuer=settings.jwt_issuer,
                    leeway_sec=settings.jwt_leeway_sec,
                    require_active=ctx.require_active_account,
                ),
                # Innermost: it replaces the deserializers that grpcio calls before any of
                # the behaviors above (malformed or oversized requests: INVALID_ARGUMENT).
                DecodeInterceptor(ctx.field_caps),
            ],
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", ctx.max_receive_message_bytes)],
        )
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc_server)
        self.service_names = [name for _, _, name in registrations]
        for add, servicer, _ in registrations:
            add(servicer, self.grpc_server)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.grpc_server
        )
        self.address = f"{settings.service_host}:{port}"
        if self.grpc_server.add_insecure_port(self.address) == 0:
            raise SystemExit(f"cannot bind {self.address}")
        self._stopping = threading.Event()
        self._draining = False
        self._ready = False

    def set_status(self, status) -> None:
        for name in ["", *self.service_names]:
            self.health.set(name, status)

    def _healthy(self) -> bool:
        try:
            for check in self.ctx.readiness_checks:
                check()
            return True
        except Exception as exc:  # noqa: BLE001 - any failing dependency means not ready
            log.warning("readiness check failed: %s", exc)
            return False

    def _watch_readiness(self) -> None:
        while not self._stopping.is_set():
            ready = self._healthy()
            if ready != self._ready:
                log.info("dependencies %s", "ready" if ready else "not ready")
            self._ready = ready
            if not self._stopping.is_set():
                self.set_status(SERVING if ready and not self._draining else NOT_SERVING)
            self._stopping.wait(2.0)

    def _toggle_drain(self, *_):
        self._draining = not self._draining
        log.info("drain %s by SIGUSR1", "on" if self._draining else "off")
        self.set_status(NOT_SERVING if self._draining or not self._ready else SERVING)

    def _terminate(self, signum, _frame) -> None:
        log.info("signal %s: NOT_SERVING, draining", signal.Signals(signum).name)
        self._stopping.set()

    def run(self) -> None:
        # What start-up made (modules, descriptors, SQLAlchemy metadata) lives as long as the
        # process: kept out of the collector's scans, which shortens the full collections
        # that otherwise pause every request thread now and then.
        gc.collect()
        gc.freeze()
        self.set_status(NOT_SERVING)
        self.grpc_server.start()
        signal.signal(signal.SIGTERM, self._terminate)
        signal.signal(signal.SIGINT, self._terminate)
        signal.signal(signal.SIGUSR1, self._toggle_drain)
        threading.Thread(target=self._watch_readiness, name="readiness", daemon=True).start()
        log.info("listening on %s", self.address)
        self._stopping.wait()
        self.health.enter_graceful_shutdown()
        # Envoy's health check and retries move new calls elsewhere; in-flight ones finish.
        self.grpc_server.stop(self.ctx.settings.shutdown_grace_sec).wait()
        self.ctx.engine.dispose()
        log.info("stopped")


AccountLookups = tuple[Callable[[int], str | None], Callable[[list[int]], dict[int, str]]]


def run_service(
    service: str,
    build: Callable[[ServiceContext], list[Registration]],
    account_lookups: Callable[[sa.Engine], AccountLookups],
) -> None:
    """The `main()` of every service process: settings, logs, engine, servicers, serve.

    `account_lookups(engine)`: the account service's published role lookups (one and many
    accounts), which the token check of every call asks."""
    args = parse_args(service)
    settings = get_settings()
    configure_logging(service, args.instance, level=settings.log_level, fmt=settings.log_format)
    if args.cpu is not None:
        pin_or_run_unpinned(args.cpu)  # before any thread starts: each inherits it
    engine = db.make_engine(settings)
    # While the database is down, fail fast instead of trying to connect on every call.
    dbguard.guard_connections(engine)
    current_role, current_roles = account_lookups(engine)
    active = account_status.ActiveAccounts(current_role, settings.account_check_ttl_sec, current_roles=current_roles)
    ctx = ServiceContext(
        settings=settings, engine=engine, instance=args.instance, require_active_account=active.require_active
    )
    ctx.readiness_checks.append(lambda: _ping_database(engine))
    metrics.serve(args.metrics_port, settings.service_host)
    Server(service, build(ctx), ctx, args.port).run()


def pin_or_run_unpinned(cpu: int) -> None:
    """Pinning only saves CPU: a CPU this process may not use (a changed cpuset) is logged,
    and the instance runs where the kernel puts it."""
    try:
        processes.pin_to_cpu(cpu)
    except OSError as exc:
        log.warning("cannot run on CPU %s (%s); running unpinned", cpu, exc)
        return
    log.info("pinned to CPU %s", cpu)


def _ping_database(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
