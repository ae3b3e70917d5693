"""Fixtures for the fault drills (tests/faults/test_kill_each_service.py, test_redis_restart.py,
test_mysql_restart.py): meshes on this area's own ports, a private redis-server and a private
MariaDB server that a drill may kill and start again, and a load generator that records every
call's outcome and latency.

Ports: 22000-22999. Meshes take blocks of 40 in 22000-22799 (Envoy listener = base, admin =
base + 1, instances from base + 10, their Prometheus endpoints from base + 20); the private
redis-server listens on 22900 and the private MariaDB on 22906. The machine's shared MariaDB
(3306) and Redis (6379) are never stopped: the drills that stop a server stop their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json as jsonlib
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa

from tests.mesh import Mesh, reserve_port_block
from tests.plugins.readside import RedisProcess

MESH_PORT_BLOCKS = range(22000, 22800, 40)
# Ports of the private servers: the first free one of this range, held by a lock file while
# the server runs (two drills at once each get their own port instead of skipping).
OWN_SERVER_PORTS = range(22900, 22990)
SHARED_REDIS_URL = "redis://127.0.0.1:6379/6"
DB_PREFIX = "paysystem_faults_"


def fault_mesh(data_dir: Path, *, db_url: str, redis_url: str = "", env: dict[str, str] | None = None) -> Mesh:
    """A (not yet started) mesh on a block of this area's ports, with each instance's
    Prometheus endpoint on base + 20 + its offset (as `paysystem up` does with
    PAYSYSTEM_METRICS_BASE_PORT)."""
    base, lock = reserve_port_block(40, MESH_PORT_BLOCKS)
    mesh = Mesh(
        data_dir,
        http_port=base,
        admin_port=base + 1,
        service_base_port=base + 10,
        db_url=db_url,
        redis_url=redis_url,
        env={"PAYSYSTEM_METRICS_BASE_PORT": str(base + 20), **(env or {})},
    )
    mesh._port_lock = lock  # released by Mesh.stop()
    return mesh


# --- Prometheus and Envoy figures -------------------------------------------------------


def scrape(port: int, timeout: float = 2.0) -> dict[tuple[str, tuple], float]:
    """An instance's /metrics as {(name, sorted label pairs): value}."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout).read().decode()
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        name, _, labels = head.partition("{")
        pairs = []
        for item in labels.rstrip("}").split('",') if labels else []:
            key, _, val = item.partition("=")
            pairs.append((key.strip(), val.strip('"')))
        samples[(name, tuple(sorted(pairs)))] = float(value)
    return samples


def metric(samples: dict, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, pairs), v in samples.items() if n == name and wanted <= set(pairs))


def envoy_stat(mesh: Mesh, name: str) -> int:
    """One counter from Envoy's admin /stats (0 if Envoy has not created it yet)."""
    text = (
        urllib.request.urlopen(f"http://127.0.0.1:{mesh.settings.envoy_admin_port}/stats?filter=^{name}$", timeout=2)
        .read()
        .decode()
    )
    for line in text.splitlines():
        key, _, value = line.partition(": ")
        if key == name:
            return int(value)
    return 0


# --- a private MariaDB server -----------------------------------------------------------


class MariaDBProcess:
    """A mariadbd of our own on its own data dir and port (root@127.0.0.1, empty password),
    to kill and start again on the same data dir. Durable commits (the defaults:
    innodb_flush_log_at_trx_commit=1), small buffers."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port = port
        self.workdir = Path(workdir)
        self.datadir = self.workdir / "data"
        self.proc: subprocess.Popen | None = None

    @property
    def server_url(self) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}"

    @staticmethod
    def binaries() -> tuple[str, str] | None:
        server = shutil.which("mariadbd") or next(
            (p for p in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld") if Path(p).exists()), None
        )
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        return (server, install) if server and install else None

    def _options(self) -> list[str]:
        return [
            "--no-defaults",
            f"--datadir={self.datadir}",
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.workdir / 'mariadb.sock'}",
            f"--pid-file={self.workdir / 'mariadb.pid'}",
            "--user=root",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=16M",
            "--max-connections=300",
        ]

    def install(self) -> None:
        binaries = self.binaries()
        if binaries is None:
            pytest.fail("mariadbd / mariadb-install-db not installed (the fault drills need them)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                binaries[1],
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--user=root",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self, timeout_sec: float = 60.0) -> float:
        """Starts the server on the existing data dir; returns the seconds until it answered."""
        started = time.monotonic()
        log = open(self.workdir / "mariadb.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(
                [self.binaries()[0], *self._options()],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()
        engine = sa.create_engine(self.server_url, connect_args={"connect_timeout": 2})
        try:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"mariadbd exited with {self.proc.returncode}: see {self.workdir / 'mariadb.log'}"
                    )
                try:
                    with engine.connect() as conn:
                        conn.execute(sa.text("SELECT 1"))
                    return time.monotonic() - started
                except sa.exc.OperationalError:
                    if time.monotonic() - started > timeout_sec:
                        raise
                    time.sleep(0.1)
        finally:
            engine.dispose()

    def kill(self) -> None:
        """SIGKILL: a crash. Committed transactions survive (redo log), open ones are lost."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        finally:
            engine.dispose()
        return f"{self.server_url}/{name}"


@contextlib.contextmanager
def own_mariadb(workdir: Path):
    port, lock = reserve_port_block(1, OWN_SERVER_PORTS)
    server = MariaDBProcess(port, workdir)
    try:
        server.install()
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        lock.close()


class KillableRedis(RedisProcess):
    """tests.plugins.readside.RedisProcess, plus a crash (SIGKILL)."""

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None


@contextlib.contextmanager
def own_redis(workdir: Path):
    port, lock = reserve_port_block(1, OWN_SERVER_PORTS)
    server = KillableRedis(port, workdir)
    try:
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        lock.close()


# --- load -------------------------------------------------------------------------------


class Client:
    """One load thread's connections to Envoy: a gRPC channel and a keep-alive HTTP/1.1
    connection (its own, so calls spread over Envoy's worker threads)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self._http: http.client.HTTPConnection | None = None

    def json(self, method: str, path: str, body: object = None, token: str | None = None, timeout: float = 30.0):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        if self._http is None:
            self._http = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            self._http.request(method, path, body=None if body is None else jsonlib.dumps(body), headers=headers)
            response = self._http.getresponse()
            data = response.read()
        except BaseException:
            self._http.close()
            self._http = None
            raise
        try:
            return response.status, jsonlib.loads(data)
        except ValueError:
            return response.status, data.decode(errors="replace")

    def close(self) -> None:
        self.channel.close()
        if self._http is not None:
            self._http.close()


@dataclasses.dataclass(frozen=True)
class Outcome:
    kind: str
    started: float  # time.monotonic()
    latency: float  # seconds
    error: str | None  # None: the call succeeded and its answer was right


# A call: (kind, function(client) -> None if right, else what was wrong). Exceptions count as
# failures with their text.
Call = tuple[str, Callable[[Client], str | None]]


class Load:
    """`total` calls made by `threads` threads; call i is `make_call(i)`. Every outcome is kept."""

    def __init__(self, port: int, make_call: Callable[[int], Call], total: int, threads: int) -> None:
        self.port = port
        self.make_call = make_call
        self.total = total
        self.threads = threads
        self.outcomes: list[Outcome] = []
        self._next = 0
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self.started = 0.0
        self.elapsed = 0.0

    @property
    def done(self) -> int:
        return len(self.outcomes)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]

    def _take(self) -> int | None:
        with self._lock:
            if self._next >= self.total:
                return None
            self._next += 1
            return self._next - 1

    def _work(self) -> None:
        client = Client(self.port)
        try:
            while (index := self._take()) is not None:
                kind, call = self.make_call(index)
                started = time.monotonic()
                try:
                    error = call(client)
                except grpc.RpcError as exc:
                    error = f"gRPC {exc.code().name}: {exc.details()}"
                except Exception as exc:  # noqa: BLE001 - every failure is an outcome
                    error = f"{type(exc).__name__}: {exc}"
                outcome = Outcome(kind, started, time.monotonic() - started, error)
                with self._lock:
                    self.outcomes.append(outcome)
        finally:
            client.close()

    def start(self) -> Load:
        self.started = time.monotonic()
        self._workers = [
            threading.Thread(target=self._work, name=f"load-{i}", daemon=True) for i in range(self.threads)
        ]
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        """No new calls after the ones in flight (for loads bounded by time, not count)."""
        with self._lock:
            self.total = self._next

    def since(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.started >= moment]

    def join(self, timeout_sec: float) -> None:
        deadline = time.monotonic() + timeout_sec
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self.elapsed = time.monotonic() - self.started
        if any(w.is_alive() for w in self._workers):
            raise TimeoutError(f"load not finished after {timeout_sec}s ({self.done} of {self.total} calls)")

    def wait_for(self, calls: int, timeout_sec: float) -> None:
        deadline = time.monotonic() + timeout_sec
        while self.done < calls:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{calls} calls not reached after {timeout_sec}s ({self.done} done)")
            if not any(w.is_alive() for w in self._workers):
                raise RuntimeError(f"load threads ended after {self.done} calls")
            time.sleep(0.01)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
