"""A whole mesh for tests: the real supervisor, Envoy and every service as real processes.

    with Mesh.on_free_ports(tmp_path, db_url=url) as mesh:
        account_id, token = mesh.sign_up_and_login("SELLER")
        status, body = mesh.json("POST", "/v1/videos", {"title": "t", "duration_sec": 60}, token=token)

`Mesh` starts `paysystem up` (the supervisor, entrypoints/launcher/) with its own data dir,
database and ports, waits until Envoy reports every instance healthy, and offers JSON and gRPC
calls through Envoy plus handles on the processes (pids, kill, signal, per-host Envoy stats).
Ports come from blocks in 18000-18999, each block held by a lock file for the mesh's lifetime,
so meshes of engineers running tests at the same time do not collide.
"""

from __future__ import annotations

import fcntl
import http.client
import itertools
import json as jsonlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from entrypoints.launcher import envoy_admin, supervisor, topology
from services.account import service as account_service
from services.common import auth, db
from services.common.envoy_clusters import HostStatus
from services.common.settings import Settings

PORT_RANGE = range(18000, 19000, 20)  # one block of 20 ports per mesh
PORT_LOCK_DIR = Path("/tmp")
START_TIMEOUT_SEC = 120.0
PASSWORD = "correct-horse-battery"

_usernames = itertools.count(1)


def reserve_port_block(size: int = 20, port_range: range = PORT_RANGE) -> tuple[int, object]:
    """The first block of free ports in port_range (starts of blocks), with the open lock file
    that holds it. Other areas pass a range of their own (e.g. tests/plugins/faults.py)."""
    for base in port_range:
        lock = open(PORT_LOCK_DIR / f"paysystem_mesh_ports_{base}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        if all(topology.port_free(p) for p in range(base, base + size)):
            return base, lock
        lock.close()
    raise RuntimeError(f"no free block of {size} ports in {port_range}")


def paysystem_command(*args: str) -> list[str]:
    """The `paysystem` CLI of this interpreter's environment, with arguments."""
    script = Path(sys.executable).parent / "paysystem"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "from entrypoints.cli.main import main; main()", *args]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _rfc3339(epoch_us: int) -> str:
    seconds, micros = divmod(epoch_us, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


class MeshError(RuntimeError):
    pass


class Mesh:
    def __init__(
        self,
        data_dir: Path,
        *,
        http_port: int,
        admin_port: int,
        service_base_port: int,
        db_url: str = "",
        redis_url: str = "",
        env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        values = {
            "data_dir": self.data_dir,
            "db_url": db_url,
            "redis_url": redis_url,
            "http_port": http_port,
            "envoy_admin_port": admin_port,
            "service_base_port": service_base_port,
            "shutdown_grace_sec": 2.0,
            "grpc_workers": 8,
        }
        # Extra PAYSYSTEM_* variables reach the processes and this object alike.
        values.update(
            {k.removeprefix("PAYSYSTEM_").lower(): v for k, v in (env or {}).items() if k.startswith("PAYSYSTEM_")}
        )
        self.settings = Settings(**values)
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self._channel: grpc.Channel | None = None
        self._port_lock = None

    @classmethod
    def on_free_ports(cls, data_dir: Path, **kwargs) -> Mesh:
        base, lock = reserve_port_block()
        mesh = cls(data_dir, http_port=base, admin_port=base + 1, service_base_port=base + 10, **kwargs)
        mesh._port_lock = lock
        return mesh

    # --- life cycle ------------------------------------------------------------------------

    @property
    def supervisor_log(self) -> Path:
        return self.data_dir / "supervisor.log"

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Runs `paysystem <args>` against this mesh (its settings in the environment)."""
        return subprocess.run(
            paysystem_command(*args), env=self._env(), capture_output=True, text=True, timeout=timeout, check=False
        )

    def _env(self) -> dict[str, str]:
        s = self.settings
        # Other PAYSYSTEM_* variables of the test run pass through, as they reach self.settings.
        env = dict(os.environ)
        env.update(
            {
                "PAYSYSTEM_DATA_DIR": str(self.data_dir.resolve()),
                "PAYSYSTEM_DB_URL": s.db_url,
                "PAYSYSTEM_REDIS_URL": s.redis_url,
                "PAYSYSTEM_HTTP_PORT": str(s.http_port),
                "PAYSYSTEM_ENVOY_ADMIN_PORT": str(s.envoy_admin_port),
                "PAYSYSTEM_SERVICE_BASE_PORT": str(s.service_base_port),
                "PAYSYSTEM_SHUTDOWN_GRACE_SEC": str(s.shutdown_grace_sec),
                "PAYSYSTEM_GRPC_WORKERS": str(s.grpc_workers),
                "PAYSYSTEM_BATCH_WORKERS": "2",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout_sec: float = START_TIMEOUT_SEC) -> Mesh:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.supervisor_log, "ab")  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                paysystem_command("up"),
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        try:
            self.wait_until(self._ready, timeout_sec, "every instance healthy in Envoy")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise MeshError(f"the supervisor exited with {self.proc.returncode}:\n{self.logs_tail()}")
        state = supervisor.read_state(self.settings)
        return bool(state and state.get("ready"))

    def stop(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        children = [pid for pid in (c.get("pid") for c in self._children().values()) if pid]
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._port_lock is not None:
            self._port_lock.close()
            self._port_lock = None
        # The supervisor must not leave any of its children behind.
        deadline = time.monotonic() + 5
        while (left := [pid for pid in children if _alive(pid)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        if left:
            for pid in left:
                os.kill(pid, signal.SIGKILL)
            raise MeshError(f"processes left running after the supervisor stopped: {left}")

    def __enter__(self) -> Mesh:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def logs_tail(self, lines: int = 40) -> str:
        out = []
        for path in [self.supervisor_log, *sorted(self.settings.logs_dir.glob("*.log"))]:
            if path.exists() and "access" not in path.name:
                text = path.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {path.name}\n" + "\n".join(text))
        return "\n".join(out)

    @staticmethod
    def wait_until(predicate: Callable[[], bool], timeout_sec: float, what: str, interval: float = 0.2) -> None:
        deadline = time.monotonic() + timeout_sec
        while not predicate():
            if time.monotonic() > deadline:
                raise MeshError(f"timed out after {timeout_sec}s waiting for {what}")
            time.sleep(interval)

    # --- calls through Envoy ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}"

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        token: str | None = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30.0,
    ) -> tuple[int, str]:
        """One HTTP/1.1 call to Envoy: the status and the body as text."""
        sent = raw if raw is not None else (None if body is None else jsonlib.dumps(body).encode())
        request_headers = {"content-type": "application/json", **(headers or {})}
        if token:
            request_headers["authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection("127.0.0.1", self.settings.http_port, timeout=timeout)
        try:
            conn.request(method, path, body=sent, headers=request_headers)
            response = conn.getresponse()
            data = response.read().decode(errors="replace")
            self.last_headers = dict(response.getheaders())
        finally:
            conn.close()
        return response.status, data

    def json(
        self, method: str, path: str, body: object = None, token: str | None = None, **kwargs
    ) -> tuple[int, object]:
        """`request`, with the body parsed as JSON when it is JSON, else text."""
        status, data = self.request(method, path, body, token, **kwargs)
        try:
            return status, jsonlib.loads(data)
        except ValueError:
            return status, data

    def run_job(self, body: dict, token: str, *, timeout: float = 300.0) -> tuple[int, list[dict] | str]:
        """POST /v1/batch/jobs: on a 200, the newline-delimited events read to the stream's end;
        otherwise the error body as text."""
        status, text = self.request("POST", "/v1/batch/jobs", body, token, timeout=timeout)
        if status != 200:
            return status, text
        return status, [jsonlib.loads(line) for line in text.splitlines() if line.strip()]

    def record_plays(self, plays, token: str) -> tuple[int, object]:
        """POST /v1/plays:batch of tests/reference.py Play records, as the JSON API takes them."""
        events = [
            {
                "event_id": p.event_id,
                "video_id": str(p.video_id),
                "viewer_id": str(p.viewer_id),
                "started_at": _rfc3339(p.started_at_us),
                "start_position_sec": str(p.start_position_sec),
                "end_position_sec": str(p.end_position_sec),
            }
            for p in plays
        ]
        return self.json("POST", "/v1/plays:batch", {"events": events}, token=token)

    def create_videos(self, token: str, count: int, duration_sec: int = 600) -> list[int]:
        """`count` videos of the token's seller through POST /v1/videos: their ids."""
        ids = []
        for n in range(count):
            status, body = self.json(
                "POST", "/v1/videos", {"title": f"v{n}", "duration_sec": duration_sec}, token=token
            )
            if status != 200:
                raise MeshError(f"creating a video failed: {status} {body}")
            ids.append(int(body["video_id"]))
        return ids

    def channel(self) -> grpc.Channel:
        """A gRPC channel to Envoy's listener (shared; closed by stop())."""
        if self._channel is None:
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.settings.http_port}")
        return self._channel

    @staticmethod
    def metadata(token: str) -> list[tuple[str, str]]:
        return [("authorization", f"Bearer {token}")]

    # --- accounts and tokens ---------------------------------------------------------------

    @staticmethod
    def unique_username(prefix: str = "user") -> str:
        return f"{prefix}-{os.getpid()}-{next(_usernames)}-{uuid.uuid4().hex[:6]}"

    def sign_up_and_login(self, role: str = "VIEWER", username: str | None = None) -> tuple[int, str]:
        """A new account of that role (VIEWER or SELLER) through the JSON API, and its token."""
        username = username or self.unique_username(role.lower())
        status, body = self.json("POST", "/v1/accounts", {"username": username, "password": PASSWORD, "role": role})
        if status != 200:
            raise MeshError(f"sign-up failed: {status} {body}")
        return int(body["account_id"]), self.login(username)

    def login(self, username: str, password: str = PASSWORD) -> str:
        status, body = self.json("POST", "/v1/auth/token", {"username": username, "password": password})
        if status != 200:
            raise MeshError(f"login failed: {status} {body}")
        return body["access_token"]

    def create_admin(self, username: str | None = None) -> tuple[int, str]:
        """An ADMIN account (not possible through the API: made as the CLI does) and its token."""
        return self.create_account_directly("ADMIN", username)

    def create_account_directly(self, role: str, username: str | None = None) -> tuple[int, str]:
        username = username or self.unique_username(role.lower())
        engine = db.make_engine(self.settings)
        try:
            account = account_service.create_account(
                account_service.sql_unit_of_work(engine), username, PASSWORD, role, allowed_roles=(role,)
            )
        finally:
            engine.dispose()
        return account.account_id, self.login(username)

    def private_key(self) -> bytes:
        return auth.load_private_key(self.settings.keys_dir)

    def token(self, account_id: int, role: str, *, ttl_sec: int = 600, username: str = "test") -> str:
        """A token signed with the mesh's key, e.g. an expired one with a negative ttl."""
        principal = auth.Principal(account_id, username, role)
        return auth.issue_token(self.private_key(), principal, issuer=self.settings.jwt_issuer, ttl_sec=ttl_sec)

    # --- processes ---------------------------------------------------------------------------

    def instances(self, service: str | None = None) -> list[topology.Instance]:
        return [i for i in topology.instances(self.settings) if service is None or i.service.name == service]

    def instance(self, name: str) -> topology.Instance:
        return topology.by_name(self.settings)[name]

    def _children(self) -> dict[str, dict]:
        state = supervisor.read_state(self.settings) or {}
        return state.get("children", {})

    def pid(self, name: str) -> int | None:
        return self._children().get(name, {}).get("pid")

    def pids(self, service: str) -> dict[str, int | None]:
        """{instance name: pid} of a service's instances (None while one is being restarted)."""
        return {name: c.get("pid") for name, c in self._children().items() if c.get("service") == service}

    def restarts(self, name: str) -> int:
        return self._children().get(name, {}).get("restarts", 0)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        pid = self.pid(name)
        if not pid:
            raise MeshError(f"{name} has no running process")
        os.kill(pid, sig)
        return pid

    def health(self, name: str, timeout: float = 1.5) -> str:
        """The instance's own grpc.health.v1 answer for its service, asked directly (not via Envoy)."""
        instance = self.instance(name)
        with grpc.insecure_channel(instance.address) as channel:
            try:
                response = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=instance.service.grpc_service), timeout=timeout
                )
            except grpc.RpcError as exc:
                return (
                    "DOWN"
                    if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                    else exc.code().name
                )
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def envoy_hosts(self, service: str) -> dict[str, HostStatus]:
        """Envoy's view of a service's instances: {instance name: health flags and counters}."""
        by_address = {i.address: i.name for i in self.instances(service)}
        hosts = envoy_admin.clusters(self.settings.envoy_admin_port).get(service, [])
        return {by_address[h.address]: h for h in hosts if h.address in by_address}

    def all_healthy_in_envoy(self) -> bool:
        counts: dict[str, int] = {}
        for i in self.instances():
            counts[i.service.name] = counts.get(i.service.name, 0) + 1
        return envoy_admin.all_healthy(self.settings.envoy_admin_port, counts)
