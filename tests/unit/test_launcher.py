"""The mesh's topology, Envoy's rendered config, and the parsing of Envoy's /clusters page."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import yaml

from entrypoints.launcher import envoy_config, supervisor, topology
from services.common import envoy_clusters, server
from services.common.settings import Settings


def _settings(**kw) -> Settings:
    kw.setdefault("pin_instances", False)
    return Settings(data_dir=Path("/tmp/x"), http_port=18500, envoy_admin_port=18501, service_base_port=18510, **kw)


def test_instances_take_consecutive_ports_in_table_order():
    names = [(i.name, i.port) for i in topology.instances(_settings())]
    assert names == [
        ("account-1", 18510),
        ("account-2", 18511),
        ("video-1", 18512),
        ("video-2", 18513),
        ("statistics-1", 18514),
        ("statistics-2", 18515),
        ("settlement-1", 18516),
        ("settlement-2", 18517),
        ("batch-1", 18518),
        ("batch-2", 18519),
    ]


def test_batch_instances_dispatch_partitions_and_read_envoy_admin_through_the_mesh_s_own_envoy_unless_told_otherwise():
    settings = _settings()
    env = {i.name: topology.instance_env(settings, i) for i in topology.instances(settings)}
    assert (
        env["batch-1"]
        == env["batch-2"]
        == {"PAYSYSTEM_BATCH_DISPATCH_URL": "127.0.0.1:18500", "PAYSYSTEM_ENVOY_ADMIN_URL": "http://127.0.0.1:18501"}
    )
    assert env["video-1"] == {}
    elsewhere = _settings(batch_dispatch_url="10.0.0.5:8080", envoy_admin_url="http://10.0.0.5:9902")
    assert topology.instance_env(elsewhere, topology.by_name(settings)["batch-1"]) == {
        "PAYSYSTEM_ENVOY_ADMIN_URL": "http://10.0.0.5:9902"
    }


def test_an_instance_runs_its_module_with_its_port_and_name():
    video2 = topology.by_name(_settings())["video-2"]
    assert video2.command()[1:] == ["-m", "entrypoints.servers.video", "--port", "18513", "--instance", "video-2"]
    assert topology.by_name(_settings())["batch-1"].command()[1:3] == ["-m", "entrypoints.servers.batch"]


def test_a_service_s_instances_are_spread_over_the_cpus_in_turn():
    assert [topology.cpu_for(index, [0, 1]) for index in (1, 2, 3)] == [0, 1, 0]
    assert [topology.cpu_for(index, [2, 5, 7]) for index in (1, 2, 3, 4)] == [2, 5, 7, 2]
    assert topology.cpu_for(2, [3]) == 3


def test_read_instances_are_told_their_cpu_among_the_ones_the_launcher_may_use():
    allowed = sorted(os.sched_getaffinity(0))
    by_name = topology.by_name(_settings(pin_instances=True))
    for name, index in (("statistics-1", 1), ("statistics-2", 2), ("settlement-2", 2)):
        cpu = topology.cpu_for(index, allowed)
        assert by_name[name].cpu == cpu and by_name[name].command()[-2:] == ["--cpu", str(cpu)]
    # Few large calls (ingest, partitions, password hashing): free to use any core.
    for name in ("account-1", "video-1", "video-2", "batch-2"):
        assert by_name[name].cpu is None and "--cpu" not in by_name[name].command()
    assert {spec.name for spec in topology.SERVICES if spec.pinned} == {"statistics", "settlement"}
    unpinned = topology.instances(_settings(pin_instances=False))
    assert all(i.cpu is None and "--cpu" not in i.command() for i in unpinned)


def test_metrics_ports_follow_the_same_offsets_only_when_asked_for():
    assert all(i.metrics_port == 0 and "--metrics-port" not in i.command() for i in topology.instances(_settings()))
    with_metrics = topology.by_name(_settings(metrics_base_port=19100))
    assert with_metrics["video-2"].metrics_port == 19103
    assert with_metrics["video-2"].command()[-2:] == ["--metrics-port", "19103"]


def _rendered(**kw) -> dict:
    settings = _settings(**kw)
    text = envoy_config.render_local(settings, topology.instances(settings), Path("/tmp/x/envoy/paysystem.pb"))
    return yaml.safe_load(text)


def _hcm(config: dict) -> dict:
    return config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]


def _routes(config: dict) -> dict[str, dict]:
    routes = _hcm(config)["route_config"]["virtual_hosts"][0]["routes"]
    # Routes to a cluster (not the direct answers refusing non-gRPC calls on gRPC paths).
    return {r["match"].get("path") or r["match"]["prefix"]: r["route"] for r in routes if "route" in r}


def test_the_listener_and_admin_use_the_settings_ports_and_admin_is_loopback_only():
    config = _rendered()
    assert config["admin"]["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 18501}
    assert config["static_resources"]["listeners"][0]["address"]["socket_address"]["port_value"] == 18500
    assert _hcm(config)["codec_type"] == "AUTO"


def test_each_service_is_a_cluster_of_its_instances_checked_by_grpc_health():
    clusters = {c["name"]: c for c in _rendered()["static_resources"]["clusters"]}
    assert set(clusters) == {"account", "video", "statistics", "settlement", "batch"}
    video = clusters["video"]
    ports = [
        e["endpoint"]["address"]["socket_address"]["port_value"]
        for e in video["load_assignment"]["endpoints"][0]["lb_endpoints"]
    ]
    assert ports == [18512, 18513]
    assert video["health_checks"][0]["grpc_health_check"] == {"service_name": "paysystem.v1.VideoService"}
    assert video["outlier_detection"]["enforcing_consecutive_5xx"] == 0
    assert video["outlier_detection"]["consecutive_gateway_failure"] >= 1


def test_run_partition_is_retried_by_envoy_only_before_it_can_reach_a_worker():
    route = _routes(_rendered())["/paysystem.v1.BatchService/RunPartition"]
    assert route["cluster"] == "batch" and route["timeout"] == "0s"
    assert route["retry_policy"]["retry_on"] == "connect-failure,refused-stream"
    assert "retry_policy" not in _routes(_rendered())["/paysystem.v1.BatchService/RunJob"]


def test_jwt_leeway_comes_from_settings_not_envoys_default_minute():
    filters = {f["name"]: f["typed_config"] for f in _hcm(_rendered(jwt_leeway_sec=7))["http_filters"]}
    provider = filters["envoy.filters.http.jwt_authn"]["providers"]["paysystem"]
    assert provider["clock_skew_seconds"] == 7 and provider["forward"] is True
    assert provider["local_jwks"]["filename"].endswith("keys/jwks.json")


def test_streams_have_no_timeout_and_no_retries_and_creations_do_not_retry_on_reset():
    routes = _routes(_rendered())
    assert routes["/paysystem.v1.BatchService/RunJob"]["timeout"] == "0s"
    assert "retry_policy" not in routes["/paysystem.v1.BatchService/RunJob"]
    # RunPartition: no timeout, and retried only before it can reach a worker (see below).
    assert routes["/paysystem.v1.BatchService/RunPartition"]["timeout"] == "0s"
    assert "reset" not in routes["/paysystem.v1.BatchService/RunPartition"]["retry_policy"]["retry_on"]
    for creation in ("/paysystem.v1.AccountService/SignUp", "/paysystem.v1.VideoService/CreateVideo"):
        assert "reset" not in routes[creation]["retry_policy"]["retry_on"]
    assert "reset" in routes["/paysystem.v1.VideoService/"]["retry_policy"]["retry_on"]


def test_specific_routes_come_before_their_service_prefix():
    order = list(_routes(_rendered()))
    assert order.index("/paysystem.v1.BatchService/RunJob") < order.index("/paysystem.v1.BatchService/")
    assert order.index("/paysystem.v1.VideoService/CreateVideo") < order.index("/paysystem.v1.VideoService/")


CLUSTERS_PAGE = """\
video::observability_name::video
video::default_priority::max_connections::1024
video::127.0.0.1:18511::cx_active::1
video::127.0.0.1:18511::rq_total::40
video::127.0.0.1:18511::rq_error::2
video::127.0.0.1:18511::health_flags::healthy
video::127.0.0.1:18512::rq_total::7
video::127.0.0.1:18512::health_flags::/failed_active_hc
account::127.0.0.1:18510::health_flags::healthy
"""


def test_the_clusters_page_is_read_per_host():
    parsed = envoy_clusters.parse_clusters(CLUSTERS_PAGE)
    video = {h.address: h for h in parsed["video"]}
    assert video["127.0.0.1:18511"].healthy and video["127.0.0.1:18511"].rq_total == 40
    assert video["127.0.0.1:18511"].rq_error == 2 and video["127.0.0.1:18511"].cx_active == 1
    assert not video["127.0.0.1:18512"].healthy
    assert [h.address for h in parsed["account"]] == ["127.0.0.1:18510"]


def test_an_instance_told_a_cpu_it_may_not_use_runs_unpinned_and_says_so(caplog):
    before = os.sched_getaffinity(0)
    with caplog.at_level(logging.WARNING, logger="services.common.server"):
        server.pin_or_run_unpinned(max(before) + 1000)
    assert os.sched_getaffinity(0) == before
    assert any("running unpinned" in record.getMessage() for record in caplog.records)


def test_the_openapi_document_is_served_from_its_file_to_anyone_with_its_body_untouched():
    hcm = _hcm(_rendered())
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    served = [r for r in routes if r["match"].get("path") == "/openapi.json"]
    assert len(served) == 1 and served[0]["direct_response"]["body"] == {"filename": str(envoy_config.OPENAPI_PATH)}
    assert envoy_config.OPENAPI_PATH.stat().st_size < hcm["route_config"]["max_direct_response_body_size_bytes"]
    jwt = next(f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.jwt_authn")["typed_config"]
    rule = next(r for r in jwt["rules"] if r["match"].get("path") == "/openapi.json")
    assert "requires" not in rule
    # Local-reply mappers would rewrite a direct response like any other local reply: the
    # first one, matching 200, keeps the body.
    first = hcm["local_reply_config"]["mappers"][0]
    assert first["filter"]["status_code_filter"]["comparison"]["value"]["default_value"] == 200
    assert "body_format_override" not in first


def test_the_supervisor_raises_the_open_file_limit_envoy_inherits(monkeypatch):
    import resource

    limits = {"now": (1024, 4096)}

    def setrlimit(kind, value):
        assert kind == resource.RLIMIT_NOFILE
        if value[1] > limits["now"][1]:
            raise ValueError("not allowed to raise maximum limit")
        limits["now"] = value

    monkeypatch.setattr(resource, "getrlimit", lambda kind: limits["now"])
    monkeypatch.setattr(resource, "setrlimit", setrlimit)
    # Not allowed to raise the hard limit: Envoy will have the hard limit (it raises its own
    # soft limit to it), and so do the supervisor's children.
    assert supervisor.raise_open_files_limit() == 4096 and limits["now"] == (4096, 4096)
    # A hard limit above what Envoy needs: ENVOY_NOFILE counts, the soft limit goes there.
    limits["now"] = (1024, 1 << 20)
    assert supervisor.raise_open_files_limit() == supervisor.ENVOY_NOFILE
    assert limits["now"] == (supervisor.ENVOY_NOFILE, 1 << 20)
    # Already higher: left alone.
    limits["now"] = (1 << 19, 1 << 20)
    assert supervisor.raise_open_files_limit() == supervisor.ENVOY_NOFILE and limits["now"] == (1 << 19, 1 << 20)


def test_envoys_connection_caps_stay_under_the_files_it_may_open():
    assert envoy_config.connection_caps(supervisor.ENVOY_MIN_NOFILE) == (4096, 5000)
    assert envoy_config.connection_caps(supervisor.ENVOY_NOFILE) == (4096, 5000)
    for open_files in (1024, 2048, 4096, 8192):
        listener, process = envoy_config.connection_caps(open_files)
        assert listener < process <= open_files - envoy_config.OTHER_OPEN_FILES
    settings = Settings(data_dir=Path("/tmp/x"), http_port=18500, envoy_admin_port=18501, service_base_port=18510)
    config = yaml.safe_load(
        envoy_config.render_local(
            settings, topology.instances(settings), Path("/tmp/x/envoy/paysystem.pb"), open_files=4096
        )
    )
    static = config["layered_runtime"]["layers"][0]["static_layer"]
    assert static["envoy.resource_limits.listener.public.connection_limit"] == envoy_config.connection_caps(4096)[0]
    monitor = config["overload_manager"]["resource_monitors"][0]["typed_config"]
    assert monitor["max_active_downstream_connections"] == envoy_config.connection_caps(4096)[1]
