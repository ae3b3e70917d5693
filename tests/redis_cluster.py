"""A Redis Cluster of our own for tests: six `redis-server --cluster-enabled yes` processes
(three masters, three replicas) on free ports in a temp dir, created by
`redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes`.

Same interface as tests.plugins.readside.RedisProcess (`url`, `start`, `stop`,
`send_signal`), so the cache's tests run unchanged against either. `stop` kills every node;
`start` starts them again from their nodes.conf (same ports, same roles, no data: nothing
is persisted) and waits for `cluster_state:ok`. `kill_master` kills one master for a
failover drill; `stop` also ends a killed node's survivors.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis

from entrypoints.launcher import topology

NODES = 6
# How long a master may be silent before its replica takes over (redis' default: 15 s).
NODE_TIMEOUT_MS = 1000
# Tries of a first start, each on newly chosen free ports (start()).
FIRST_START_ATTEMPTS = 3


def redis_server_args(port: int, workdir: Path, *extra: str) -> list[str]:
    """A redis-server on 127.0.0.1:port in the foreground, persisting nothing."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    options = ["--port", str(port), "--bind", "127.0.0.1", *extra, "--save", "", "--appendonly", "no"]
    return [binary, *options, "--daemonize", "no", "--dir", str(workdir)]


def wait_for_redis(port: int, timeout: float = 10.0) -> None:
    """Until the redis-server on port answers PING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_timeout=0.5).ping():
                return
        except redis.RedisError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server on {port} did not start")


def free_cluster_ports(count: int) -> list[int]:
    """`count` free ports whose cluster bus ports (port + 10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        with contextlib.closing(socket.socket()) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port + 10000 < 65536 and port not in ports and topology.port_free(port + 10000):
            ports.append(port)
    return ports


class RedisClusterProcesses:
    def __init__(self, workdir: Path, ports: list[int] | None = None) -> None:
        self.workdir = workdir
        self.ports = ports or free_cluster_ports(NODES)
        self.procs: dict[int, subprocess.Popen] = {}
        self.created = False

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports)

    @property
    def running(self) -> bool:
        return bool(self.procs)

    def node(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=1)

    def _start_node(self, port: int) -> None:
        node_dir = self.workdir / str(port)
        node_dir.mkdir(parents=True, exist_ok=True)
        # Validity factor 0: a replica takes over however long it has been out of touch with
        # its master (redis' default refuses after 10 x node timeout without a link, which a
        # replica still in its first sync on a loaded machine reaches; a cache prefers a
        # promoted replica to a slot without a master).
        cluster_args = (
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-replica-validity-factor",
            "0",
        )
        self.procs[port] = subprocess.Popen(
            redis_server_args(port, node_dir, *cluster_args, "--cluster-node-timeout", str(NODE_TIMEOUT_MS)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        for attempt in range(FIRST_START_ATTEMPTS):
            for port in self.ports:
                self._start_node(port)
            try:
                for port in self.ports:
                    wait_for_redis(port)
                break
            except RuntimeError:
                # A port chosen free can be taken before redis-server binds it: the kernel
                # hands the same ephemeral ports to other processes' outgoing connections (seen
                # once in CI). Before the cluster exists, six other ports do as well; after,
                # nodes.conf holds the ports, so the error stands.
                if self.created or attempt == FIRST_START_ATTEMPTS - 1:
                    raise
                self._abandon()
                self.ports = free_cluster_ports(NODES)
        if not self.created:
            cli = shutil.which("redis-cli") or "/usr/bin/redis-cli"
            addresses = [f"127.0.0.1:{port}" for port in self.ports]
            subprocess.run(
                [cli, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
                check=True,
                capture_output=True,
                timeout=60,
            )
            self.created = True
        self.wait_ok()

    def wait_ok(self, timeout: float = 30.0) -> None:
        """Until every running node reports cluster_state:ok and agrees on three masters, and
        every replica's link to its master is up (a master killed before its replica synced
        would lose the slot's data along with it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if (
                    all(self.node(port).cluster("info")["cluster_state"] == "ok" for port in self.procs)
                    and all(len(self.masters(port)) == 3 for port in self.procs)
                    and all(self._replica_linked(port) for port in self.procs)
                ):
                    return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")

    def _replica_linked(self, port: int) -> bool:
        replication = self.node(port).info("replication")
        return replication["role"] != "slave" or replication.get("master_link_status") == "up"

    def masters(self, via: int | None = None) -> list[int]:
        """Ports of the live masters, as node `via` (any running node) sees them."""
        port = via if via is not None else next(iter(self.procs))
        nodes = self.node(port).cluster("nodes")
        return sorted(
            int(address.split("@")[0].rsplit(":", 1)[1])
            for address, info in nodes.items()
            if "master" in info["flags"] and "fail" not in info["flags"] and info.get("slots")
        )

    def master_of_seller(self, seller_id: int) -> int:
        """The port of the master serving the slot of the seller's keys (hash tag {seller_id})."""
        node = self.node(self.masters()[0])
        slot = node.execute_command("CLUSTER KEYSLOT", f"{{{seller_id}}}")
        for start, end, master, *_ in node.execute_command("CLUSTER SLOTS"):
            if start <= slot <= end:
                return int(master[1])
        raise AssertionError(f"no master serves slot {slot}")

    def kill_master(self, port: int) -> None:
        """SIGKILL one node (a master), as a crash."""
        proc = self.procs.pop(port)
        proc.kill()
        proc.wait(10)

    def send_signal(self, sig: int) -> None:
        for proc in self.procs.values():
            proc.send_signal(sig)

    def _abandon(self) -> None:
        """Kills the nodes of a first start that failed and forgets their folders."""
        for proc in self.procs.values():
            proc.kill()
            proc.wait(10)
        self.procs.clear()
        for port in self.ports:
            shutil.rmtree(self.workdir / str(port), ignore_errors=True)

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.kill()
        for proc in self.procs.values():
            proc.wait(10)
        self.procs.clear()
        for port in self.ports:
            while not topology.port_free(port):
                time.sleep(0.05)
