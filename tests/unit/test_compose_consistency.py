"""docker-compose.yml agrees with the Envoy config and the services it runs.

Docker does not run on the development machines, so the stack is checked statically here,
and Envoy itself validates the compose config (`envoy --mode validate`).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from entrypoints.launcher import envoy_config, supervisor
from entrypoints.launcher.topology import SERVICES
from services.common import auth, protogen
from services.common.settings import Settings
from services.readpath.cache import cluster_seeds

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
ENVOY = yaml.safe_load(envoy_config.COMPOSE_RENDERED.read_text())
CLUSTERS = {c["name"]: c for c in ENVOY["static_resources"]["clusters"]}


def test_the_committed_compose_envoy_config_is_a_fresh_rendering_of_the_template():
    committed = envoy_config.COMPOSE_RENDERED.read_text()
    assert committed.split("\n", 1)[1] == envoy_config.render_compose(SERVICES), (
        "run: python -m entrypoints.launcher.envoy_config"
    )


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_every_envoy_cluster_is_a_compose_service_listening_where_envoy_sends(spec):
    service = COMPOSE["services"][spec.name]
    command = service["command"]
    assert command[:3] == ["python", "-m", spec.module]
    port = int(command[command.index("--port") + 1])
    endpoints = CLUSTERS[spec.name]["load_assignment"]["endpoints"][0]["lb_endpoints"]
    addresses = {e["endpoint"]["address"]["socket_address"]["address"] for e in endpoints}
    ports = {e["endpoint"]["address"]["socket_address"]["port_value"] for e in endpoints}
    assert addresses == {spec.name} and ports == {port}
    assert CLUSTERS[spec.name]["type"] == "STRICT_DNS"  # one name, every replica
    assert CLUSTERS[spec.name]["health_checks"][0]["grpc_health_check"]["service_name"] == spec.grpc_service
    assert service["healthcheck"]["test"][-2:] == ["services.common.healthprobe", str(port)]
    assert service["environment"]["PAYSYSTEM_SERVICE_HOST"] == "0.0.0.0"


def test_every_worker_of_the_launcher_runs_in_compose():
    from entrypoints.launcher.topology import WORKERS

    for worker in WORKERS:
        service = COMPOSE["services"][worker.name.rsplit("-", 1)[0]]
        assert service["command"][:3] == ["python", "-m", worker.module]
        assert service["depends_on"]["init"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", ["video", "statistics", "settlement", "batch"])
def test_stateless_services_run_at_least_two_replicas(name):
    assert COMPOSE["services"][name]["deploy"]["replicas"] >= 2


def test_services_wait_for_the_migration_step_and_their_stores():
    for spec in SERVICES:
        depends = COMPOSE["services"][spec.name]["depends_on"]
        assert depends["init"]["condition"] == "service_completed_successfully"
        assert depends["mysql"]["condition"] == "service_healthy"
    assert "init" in COMPOSE["services"]["init"]["command"]
    for name in ("mysql", "redis", "envoy"):
        assert "healthcheck" in COMPOSE["services"][name]


def test_batch_workers_dispatch_partitions_through_envoy():
    env = COMPOSE["services"]["batch"]["environment"]
    assert env["PAYSYSTEM_BATCH_DISPATCH_URL"] == "envoy:8080"


def test_the_batch_reads_envoy_s_clusters_through_a_listener_that_serves_only_that_page():
    port = envoy_config.COMPOSE_ADMIN_CLUSTERS_PORT
    env = COMPOSE["services"]["batch"]["environment"]
    assert env["PAYSYSTEM_ENVOY_ADMIN_URL"] == f"http://envoy:{port}"
    envoy = COMPOSE["services"]["envoy"]
    assert str(port) in envoy["expose"] and all(not p.startswith(str(port)) for p in envoy["ports"])
    listener = next(li for li in ENVOY["static_resources"]["listeners"] if li["name"] == "admin_clusters")
    assert listener["address"]["socket_address"]["port_value"] == port
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    get = [{"name": ":method", "string_match": {"exact": "GET"}}]
    # /clusters for the batch, /stats/prometheus for Prometheus (profile ops): both read-only.
    assert [route["match"] for route in routes] == [
        {"path": "/clusters", "headers": get},
        {"path": "/stats/prometheus", "headers": get},
    ]
    admin = ENVOY["admin"]["address"]["socket_address"]
    for route in routes:
        target = CLUSTERS[route["route"]["cluster"]]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
        assert target["endpoint"]["address"]["socket_address"] == {
            "address": admin["address"],
            "port_value": admin["port_value"],
        }


def test_the_optional_replica_follows_the_primary_s_gtid_binlog_and_every_service_can_read_it():
    replica = COMPOSE["services"]["mysql-replica"]
    setup = COMPOSE["services"]["mysql-replica-setup"]
    assert replica["profiles"] == ["replica"] and setup["profiles"] == ["replica"]
    primary_flags = COMPOSE["services"]["mysql"]["command"]
    for flag in ("--log-bin=mysql-bin", "--gtid-mode=ON", "--binlog-format=ROW"):
        assert flag in primary_flags
    assert "--gtid-mode=ON" in replica["command"] and "--super-read-only=ON" in replica["command"]
    server_ids = {f for f in primary_flags + replica["command"] if f.startswith("--server-id=")}
    assert len(server_ids) == 2
    assert "SOURCE_HOST='mysql'" in setup["command"][0] and "SOURCE_AUTO_POSITION=1" in setup["command"][0]
    assert setup["depends_on"]["mysql-replica"]["condition"] == "service_healthy"
    assert "mysql-replica-data" in COMPOSE["volumes"]
    for spec in SERVICES:  # the shared environment: only the read services use it
        assert COMPOSE["services"][spec.name]["environment"]["PAYSYSTEM_DB_READ_URLS"] == "${PAYSYSTEM_DB_READ_URLS:-}"
    assert "mysql-replica:3306" in (ROOT / ".env.example").read_text()


def test_the_file_holds_no_secrets():
    text = (ROOT / "docker-compose.yml").read_text()
    for key, value in re.findall(r"^\s*(\w*PASSWORD\w*):\s+(\S+)", text, flags=re.M):
        assert value.startswith("${"), f"{key} has a literal value"
    assert re.search(r"://\w+:[^$@]+@", text) is None, "a URL with an inline password"


def test_envoy_mounts_what_its_config_reads_and_keeps_admin_on_loopback():
    envoy = COMPOSE["services"]["envoy"]
    mounts = {volume.split(":")[1] for volume in envoy["volumes"]}
    assert "/etc/envoy/envoy.yaml" in mounts
    text = envoy_config.COMPOSE_RENDERED.read_text()
    for path in re.findall(r"(/etc/paysystem/\w+)/", text):
        assert path in mounts
    assert ENVOY["admin"]["address"]["socket_address"]["address"] == "127.0.0.1"
    assert all(not port.startswith("9901") for port in envoy["ports"])


def test_envoy_accepts_the_compose_config(tmp_path):
    auth.ensure_keys(tmp_path / "keys")
    descriptor = protogen.build_descriptor_set(tmp_path / "paysystem.pb")
    text = envoy_config.COMPOSE_RENDERED.read_text()
    text = text.replace("/etc/paysystem/keys/jwks.json", str(tmp_path / "keys" / "jwks.json"))
    text = text.replace("/etc/paysystem/descriptor/paysystem.pb", str(descriptor))
    text = text.replace("/etc/paysystem/docs/openapi.json", str(ROOT / "docs" / "openapi.json"))
    text = text.replace("/etc/paysystem/web/", str(ROOT / "web" / "dist") + "/")
    config = tmp_path / "envoy.yaml"
    config.write_text(text)
    result = subprocess.run(
        [supervisor.envoy_executable(), "--mode", "validate", "-c", str(config), "--use-dynamic-base-id"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


def _cluster_nodes() -> list[str]:
    return sorted(name for name, svc in COMPOSE["services"].items() if "--cluster-enabled" in svc.get("command", []))


def test_the_cluster_profile_runs_six_redis_nodes_and_creates_a_cluster_of_all_of_them():
    nodes = _cluster_nodes()
    assert len(nodes) == 6  # three masters, three replicas
    for name in nodes:
        node = COMPOSE["services"][name]
        assert node["profiles"] == ["cluster"]
        assert node["entrypoint"][-2:] == ["--cluster-announce-hostname", name]  # its service name
        assert any(volume.endswith(":/data") for volume in node["volumes"])  # nodes.conf survives restarts
        assert "healthcheck" in node
    creator = COMPOSE["services"]["redis-cluster-create"]
    assert creator["profiles"] == ["cluster"]
    assert {name: dep["condition"] for name, dep in creator["depends_on"].items()} == dict.fromkeys(
        nodes, "service_healthy"
    )
    script = creator["command"][-1]
    assert "--cluster-replicas 1" in script and "--cluster-yes" in script
    assert "for n in 1 2 3 4 5 6" in script and all(name.startswith("redis-node-") for name in nodes)


def test_the_documented_cluster_url_names_every_node_and_no_service_waits_for_the_profile():
    seeds = cluster_seeds(COMPOSE["x-redis-cluster-url"])
    assert sorted(seed.host for seed in seeds) == _cluster_nodes()
    assert {seed.port for seed in seeds} == {6379}
    env = COMPOSE["x-paysystem"]["environment"]
    assert env["PAYSYSTEM_REDIS_URL"] == "${PAYSYSTEM_REDIS_URL:-redis://redis:6379/0}"
    optional = {name for name, svc in COMPOSE["services"].items() if svc.get("profiles")}
    for name, svc in COMPOSE["services"].items():
        if name not in optional:
            assert not optional & set(svc.get("depends_on", {})), f"{name} waits for an optional profile"


PROMETHEUS = yaml.safe_load((ROOT / "ops" / "prometheus" / "prometheus.yml").read_text())


def _scrape_targets() -> dict[tuple[str, int], str]:
    """(host, port) -> metrics path of every target prometheus.yml scrapes."""
    targets = {}
    for job in PROMETHEUS["scrape_configs"]:
        path = job.get("metrics_path", "/metrics")
        for sd in job.get("dns_sd_configs", []):
            targets.update({(name, sd["port"]): path for name in sd["names"]})
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                targets[(host, int(port))] = path
    return targets


def test_every_service_with_a_metrics_port_and_envoy_are_scrape_targets():
    targets = _scrape_targets()
    with_metrics = {
        (name, int(svc["command"][svc["command"].index("--metrics-port") + 1]))
        for name, svc in COMPOSE["services"].items()
        if "--metrics-port" in svc.get("command", [])
    }
    assert {spec.name for spec in SERVICES} <= {name for name, _ in with_metrics}
    for target in with_metrics:
        assert targets.get(target) == "/metrics", f"{target} is not scraped"
        assert str(target[1]) in COMPOSE["services"][target[0]]["expose"]
        # The instances' metrics listen where their gRPC port does: 0.0.0.0 in compose.
        assert COMPOSE["services"][target[0]]["environment"]["PAYSYSTEM_SERVICE_HOST"] == "0.0.0.0"
    assert targets[("envoy", envoy_config.COMPOSE_ADMIN_CLUSTERS_PORT)] == "/stats/prometheus"
    assert set(targets) == with_metrics | {("envoy", envoy_config.COMPOSE_ADMIN_CLUSTERS_PORT)}


def test_the_ops_profile_runs_pinned_prometheus_and_grafana_with_the_repository_s_files():
    prometheus, grafana = COMPOSE["services"]["prometheus"], COMPOSE["services"]["grafana"]
    assert prometheus["profiles"] == ["ops"] and grafana["profiles"] == ["ops"]
    for service, repository in ((prometheus, "prom/prometheus"), (grafana, "grafana/grafana")):
        name, tag = service["image"].split(":")
        assert name == repository and re.fullmatch(r"v?\d+\.\d+\.\d+", tag), service["image"]
    assert "./ops/prometheus:/etc/prometheus:ro" in prometheus["volumes"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    mounts = dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in grafana["volumes"] if volume.startswith("./"))
    assert mounts["./ops/grafana/paysystem.json"] == "/var/lib/grafana/dashboards/paysystem.json"
    provider = yaml.safe_load((ROOT / "ops/grafana/provisioning/dashboards/paysystem.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_the_envoy_container_may_open_the_files_its_connection_caps_were_sized_for():
    nofile = COMPOSE["services"]["envoy"]["ulimits"]["nofile"]
    assert nofile == {"soft": envoy_config.COMPOSE_OPEN_FILES, "hard": envoy_config.COMPOSE_OPEN_FILES}
    static = ENVOY["layered_runtime"]["layers"][0]["static_layer"]
    assert (
        static["envoy.resource_limits.listener.public.connection_limit"],
        ENVOY["overload_manager"]["resource_monitors"][0]["typed_config"]["max_active_downstream_connections"],
    ) == envoy_config.connection_caps(envoy_config.COMPOSE_OPEN_FILES)


SPARK_SERVICES = ("spark-master", "spark-worker-1", "spark-worker-2", "batch-spark")


def test_the_spark_profile_runs_a_master_two_one_core_workers_and_a_spark_batch():
    services = COMPOSE["services"]
    for name in SPARK_SERVICES:
        assert services[name]["profiles"] == ["spark"], name
    master = services["spark-master"]
    home = master["environment"]["SPARK_HOME"]
    # The image's Python (FROM python:X.Y-slim) is where pip put the pyspark package.
    python = re.search(r"^FROM python:(\d+\.\d+)", (ROOT / "Dockerfile").read_text(), flags=re.M).group(1)
    assert home == f"/usr/local/lib/python{python}/site-packages/pyspark"
    assert master["command"][:2] == [f"{home}/bin/spark-class", "org.apache.spark.deploy.master.Master"]
    port = master["command"][master["command"].index("--port") + 1]
    assert "-Dspark.master.rest.enabled=false" in master["environment"]["SPARK_MASTER_OPTS"]
    master_url = f"spark://spark-master:{port}"
    for name in ("spark-worker-1", "spark-worker-2"):
        command = services[name]["command"]
        assert command[:2] == [f"{home}/bin/spark-class", "org.apache.spark.deploy.worker.Worker"]
        assert command[command.index("--host") + 1] == name
        assert command[command.index("--cores") + 1] == "1" and command[command.index("--memory") + 1] == "1g"
        assert command[-1] == master_url
        assert services[name]["depends_on"]["spark-master"]["condition"] == "service_healthy"
    batch = services["batch-spark"]
    assert batch["environment"]["PAYSYSTEM_BATCH_ENGINE"] == "spark"
    assert batch["environment"]["PAYSYSTEM_SPARK_MASTER"] == master_url
    assert batch["command"][:3] == ["paysystem", "batch", "run"]
    assert {"spark-worker-1", "spark-worker-2", "init", "mysql"} <= set(batch["depends_on"])
    # The executors' memory fits in what a worker offers.
    assert batch["environment"]["PAYSYSTEM_SPARK_EXECUTOR_MEMORY"] == "1g"


def test_the_default_stack_keeps_the_sql_engine():
    assert Settings.model_fields["batch_engine"].default == "sql"
    for name, service in COMPOSE["services"].items():
        if name not in SPARK_SERVICES:
            assert "PAYSYSTEM_BATCH_ENGINE" not in service.get("environment", {}), name


def test_every_paysystem_variable_of_the_compose_file_is_a_setting():
    fields = set(Settings.model_fields)
    for name, service in COMPOSE["services"].items():
        environment = service.get("environment", {})
        for key in environment if isinstance(environment, dict) else []:
            if key.startswith("PAYSYSTEM_"):
                assert key.removeprefix("PAYSYSTEM_").lower() in fields, f"{name}: {key} is no setting"
