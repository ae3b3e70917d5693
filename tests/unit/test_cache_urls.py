"""The cache's Redis URL setting: one node or a Redis Cluster's seed nodes (no I/O: nothing
connects before the first command)."""

from __future__ import annotations

import pytest
import redis

from services.readpath.cache import Cache, LazyCluster, cluster_seeds, make_redis


def test_a_cluster_url_lists_seed_nodes_and_builds_a_lazy_cluster_client():
    client = make_redis("redis+cluster://10.0.0.1:7000,10.0.0.2:7001, redis-node-3")
    assert isinstance(client, LazyCluster)
    assert [(n.host, n.port) for n in client.seeds] == [("10.0.0.1", 7000), ("10.0.0.2", 7001), ("redis-node-3", 6379)]
    Cache(client)  # registering the lock's script builds nothing either
    assert not client.built


def test_a_plain_url_is_one_node_and_an_empty_one_no_cache():
    assert isinstance(make_redis("redis://127.0.0.1:6379/0"), redis.Redis)
    assert make_redis("") is None


def test_a_seed_without_a_host_is_refused():
    with pytest.raises(ValueError, match="expected host:port"):
        cluster_seeds("redis+cluster://:7000")
