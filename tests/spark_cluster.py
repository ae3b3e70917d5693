"""A Spark standalone cluster of our own for tests and benchmarks: one master and N workers
(one core, 1g each by default) started from the pyspark package alone (`bin/spark-class`
with SPARK_HOME=<site-packages>/pyspark; the package has no sbin/ start scripts).

Every process listens on 127.0.0.1 (SPARK_LOCAL_IP) on ports chosen free here: the master's
RPC and web UI ports and each worker's web UI port; the worker's own RPC port is the
kernel's (port 0), and the master's REST server (6066 otherwise) is off. `spark.port.maxRetries`
is 0, so a port taken between the choice and the bind makes the process exit instead of
moving silently to the next port (where the web UI would not be found): the start is then
retried on newly chosen ports, as the Redis Cluster of tests/redis_cluster.py does.

Each process runs in its own process group (its session): a worker's executors are its
children, so `kill_worker` (SIGKILL of the group) takes a worker with its executors, as a
lost machine. `stop` sends SIGTERM to every group, then SIGKILL to what is left after 10 s.
Logs, work and local dirs live under `workdir` (the test's tmp dir): `logs_tail()` prints
them when a start fails or a test asks for them.

Readiness is the master's web UI JSON (http://127.0.0.1:<webui>/json/): `status` ALIVE,
then `aliveworkers` equal to the workers started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
# Tries of a start, each on newly chosen free ports.
START_ATTEMPTS = 3
# A master or worker JVM starts in about 5 s on an idle machine, 10 s on a loaded 2-core one.
START_TIMEOUT_SEC = 90.0
STOP_GRACE_SEC = 10.0
PROPERTIES = {
    "spark.master.rest.enabled": "false",
    "spark.port.maxRetries": "0",
    # Finished applications' folders are kept until the workdir goes: a failed test keeps its
    # executors' stderr.
    "spark.worker.cleanup.enabled": "false",
}


class SparkClusterError(RuntimeError):
    pass


def spark_home() -> Path:
    """The pyspark package's folder: Spark's jars and bin/spark-class."""
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_ports(count: int) -> list[int]:
    """`count` distinct ports free now on 127.0.0.1 (held together while chosen)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(contextlib.closing(socket.socket())) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


@dataclass
class _Worker:
    index: int
    webui_port: int
    proc: subprocess.Popen | None = None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class SparkStandalone:
    """A master and `workers` workers of `cores` cores and `memory` each, under `workdir`."""

    def __init__(self, workdir: Path, workers: int = 2, *, cores: int = 1, memory: str = "1g") -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cores = cores
        self.memory = memory
        # Chosen together, so that no two of them are the same port.
        self.master_port, self.master_webui_port, *worker_ports = free_ports(2 + workers)
        self.master_proc: subprocess.Popen | None = None
        self.workers: list[_Worker] = [_Worker(i, port) for i, port in enumerate(worker_ports)]
        self.properties = self.workdir / "spark.properties"
        self.properties.write_text("".join(f"{key} {value}\n" for key, value in PROPERTIES.items()))
        (self.workdir / "conf").mkdir(exist_ok=True)  # no spark-env.sh or defaults of the machine's

    # --- addresses -----------------------------------------------------------------------------

    @property
    def master_url(self) -> str:
        return f"spark://127.0.0.1:{self.master_port}"

    @property
    def webui_url(self) -> str:
        return f"http://127.0.0.1:{self.master_webui_port}"

    def state(self) -> dict:
        """The master's view (its web UI JSON): status, workers, aliveworkers, apps."""
        with urllib.request.urlopen(f"{self.webui_url}/json/", timeout=2) as response:
            return json.loads(response.read())

    def alive_workers(self) -> int:
        try:
            state = self.state()
        except OSError:
            return -1
        return int(state.get("aliveworkers", 0)) if state.get("status") == "ALIVE" else -1

    def work_dir(self, index: int) -> Path:
        """Worker `index`'s work dir: its executors run there (folder <app id>/<executor id>)."""
        return self.workdir / f"work-{index}"

    # --- processes -----------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "SPARK_HOME": str(spark_home()),
                "SPARK_CONF_DIR": str(self.workdir / "conf"),
                "SPARK_LOCAL_IP": "127.0.0.1",
                "SPARK_LOG_DIR": str(self.workdir),
                "SPARK_LOCAL_DIRS": str(self.workdir / "local"),
                # The daemons' own heap (1g otherwise); executors get spark.executor.memory.
                "SPARK_DAEMON_MEMORY": "256m",
            }
        )
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        spark_class = spark_home() / "bin" / "spark-class"
        with open(self.workdir / f"{name}.log", "ab") as log:  # the child keeps its own copy
            return subprocess.Popen(
                [str(spark_class), *args],
                env=self._env(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop and kill take its children too
            )

    def _spawn_master(self) -> None:
        self.master_proc = self._spawn(
            "master",
            [
                MASTER_CLASS,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.master_port),
                "--webui-port",
                str(self.master_webui_port),
                "--properties-file",
                str(self.properties),
            ],
        )

    def _spawn_worker(self, worker: _Worker) -> None:
        worker.proc = self._spawn(
            f"worker-{worker.index}",
            [
                WORKER_CLASS,
                "--host",
                "127.0.0.1",
                "--cores",
                str(self.cores),
                "--memory",
                self.memory,
                "--webui-port",
                str(worker.webui_port),
                "--work-dir",
                str(self.work_dir(worker.index)),
                "--properties-file",
                str(self.properties),
                self.master_url,
            ],
        )

    def start(self) -> SparkStandalone:
        """Starts the master, then the workers, and waits until every worker is registered."""
        try:
            self._start_master()
            self._start_workers(self.workers)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_master(self) -> None:
        for attempt in range(START_ATTEMPTS):
            self._spawn_master()
            try:
                self._wait(lambda: self.alive_workers() >= 0, "the master ALIVE", procs=[self.master_proc])
                return
            except SparkClusterError:
                self._kill_group(self.master_proc)
                if attempt == START_ATTEMPTS - 1:
                    raise
                # A port chosen free was taken before the master bound it: other ones.
                self.master_port, self.master_webui_port = free_ports(2)

    def _start_workers(self, workers: list[_Worker]) -> None:
        """Spawns the workers and waits until the master counts every live one. A worker that
        exits meanwhile (its web UI port taken) is spawned again on another port."""
        for worker in workers:
            self._spawn_worker(worker)
        tries = dict.fromkeys((w.index for w in workers), 1)
        expected = sum(w.proc is not None for w in self.workers)  # killed ones have none

        def ready() -> bool:
            for worker in workers:
                if worker.proc is not None and worker.proc.poll() is not None:
                    if tries[worker.index] >= START_ATTEMPTS:
                        raise SparkClusterError(f"worker {worker.index} exited:\n{self.logs_tail()}")
                    tries[worker.index] += 1
                    (worker.webui_port,) = free_ports(1)
                    self._spawn_worker(worker)
            return self.alive_workers() == expected

        self._wait(ready, f"{expected} alive worker(s)", procs=[self.master_proc])

    def add_worker(self) -> int:
        """Starts one more worker and waits until the master counts it; returns its index."""
        worker = _Worker(len(self.workers), free_ports(1)[0])
        self.workers.append(worker)
        self._start_workers([worker])
        return worker.index

    def wait_workers(self, count: int, timeout: float = START_TIMEOUT_SEC) -> None:
        """Until the master counts exactly `count` live workers."""
        procs = [self.master_proc] if self.master_proc else []
        self._wait(lambda: self.alive_workers() == count, f"{count} alive worker(s)", procs=procs, timeout=timeout)

    def _wait(self, ready, what: str, *, procs: list, timeout: float = START_TIMEOUT_SEC) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            for proc in procs:
                if proc is not None and proc.poll() is not None:
                    raise SparkClusterError(
                        f"a Spark process exited ({proc.returncode}) before {what}:\n{self.logs_tail()}"
                    )
            if time.monotonic() > deadline:
                raise SparkClusterError(f"timed out after {timeout:.0f} s waiting for {what}:\n{self.logs_tail()}")
            time.sleep(0.25)

    # --- faults --------------------------------------------------------------------------------

    def kill_worker(self, index: int, *, wait: bool = False) -> None:
        """SIGKILL worker `index` and its executors (its process group), as a lost machine.
        With `wait`, until the master has noticed (it does on the dropped connection)."""
        worker = self.workers[index]
        self._kill_group(worker.proc)
        worker.proc = None
        if wait:
            self.wait_workers(sum(w.alive for w in self.workers))

    def kill_master(self) -> None:
        """SIGKILL the master (its process group). Workers keep running and try to reconnect."""
        self._kill_group(self.master_proc)
        self.master_proc = None

    def heal(self) -> None:
        """Starts again what was killed (the master on its ports, dead workers) and waits
        until every worker is registered: what a test that killed something leaves behind."""
        if self.master_proc is None or self.master_proc.poll() is not None:
            self._spawn_master()
            self._wait(lambda: self.alive_workers() >= 0, "the master ALIVE", procs=[self.master_proc])
        self._start_workers([w for w in self.workers if not w.alive])

    @staticmethod
    def _kill_group(proc: subprocess.Popen | None, sig: int = signal.SIGKILL) -> None:
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)

    def stop(self) -> None:
        """SIGTERM to every process group (workers first), SIGKILL to what is left after the grace."""
        procs = [w.proc for w in self.workers if w.proc is not None]
        if self.master_proc is not None:
            procs.append(self.master_proc)
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SEC
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
        for proc in procs:
            # The leader may be gone while children of its group (executors) are not.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
        for worker in self.workers:
            worker.proc = None
        self.master_proc = None

    def __enter__(self) -> SparkStandalone:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- logs ----------------------------------------------------------------------------------

    def log_files(self) -> list[Path]:
        """The daemons' logs, then every executor's stderr."""
        daemons = sorted(self.workdir.glob("*.log"))
        executors = sorted(self.workdir.glob("work-*/*/*/stderr"))
        return daemons + executors

    def logs_tail(self, lines: int = 30) -> str:
        out = []
        for path in self.log_files():
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.relative_to(self.workdir)}\n" + "\n".join(text))
        return "\n".join(out)


@contextlib.contextmanager
def spark_standalone(workdir: Path, workers: int = 2, **kwargs) -> Iterator[SparkStandalone]:
    """A started cluster, stopped afterwards; its logs are printed if the block raised."""
    cluster = SparkStandalone(workdir, workers, **kwargs)
    with cluster:
        try:
            yield cluster
        except BaseException:
            print(cluster.logs_tail())
            raise
