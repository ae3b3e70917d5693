"""The test cluster's first start survives a chosen port taken before redis-server binds it
(tests/redis_cluster.py: the kernel hands the same ephemeral ports to other processes)."""

from __future__ import annotations

import contextlib
import socket

from tests.redis_cluster import NODES, RedisClusterProcesses, free_cluster_ports


def test_a_port_taken_before_the_first_start_moves_the_cluster_to_other_ports(tmp_path):
    ports = free_cluster_ports(NODES)
    with contextlib.closing(socket.socket()) as squatter:
        squatter.bind(("127.0.0.1", ports[0]))  # no SO_REUSEADDR: redis-server cannot bind it
        squatter.listen()
        cluster = RedisClusterProcesses(tmp_path, ports=list(ports))
        try:
            cluster.start()
            assert ports[0] not in cluster.ports
            assert len(set(cluster.ports)) == NODES
            assert cluster.node(cluster.ports[0]).cluster("info")["cluster_state"] == "ok"
        finally:
            cluster.stop()
