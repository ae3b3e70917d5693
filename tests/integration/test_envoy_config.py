"""The rendered Envoy config is accepted by the real Envoy binary (envoy --mode validate), and
the compose-only /clusters listener works in a running Envoy."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request

import pytest

from entrypoints.launcher import envoy_config, supervisor, topology
from services.common import auth, envoy_clusters, protogen
from services.common.settings import Settings
from tests.mesh import reserve_port_block


def test_the_rendered_config_passes_envoys_own_validation(tmp_path):
    settings = Settings(data_dir=tmp_path, http_port=18600, envoy_admin_port=18601, service_base_port=18610)
    auth.ensure_keys(settings.keys_dir)
    settings.logs_dir.mkdir(parents=True)  # Envoy opens its log files at start-up
    descriptor = protogen.build_descriptor_set(tmp_path / "envoy" / "paysystem.pb")
    path = tmp_path / "envoy" / "envoy.yaml"
    path.write_text(envoy_config.render_local(settings, topology.instances(settings), descriptor))
    result = subprocess.run(
        [supervisor.envoy_executable(), "--mode", "validate", "-c", str(path), "--log-level", "warn"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "deprecated" not in (result.stdout + result.stderr).lower()


def test_the_compose_clusters_listener_serves_admin_s_clusters_page_and_nothing_else(tmp_path):
    # The real Envoy with the listener docker-compose uses (admin_clusters_port), on free ports.
    base, lock = reserve_port_block()
    settings = Settings(data_dir=tmp_path, http_port=base, envoy_admin_port=base + 1, service_base_port=base + 10)
    clusters_port = base + 2
    auth.ensure_keys(settings.keys_dir)
    settings.logs_dir.mkdir(parents=True)
    descriptor = protogen.build_descriptor_set(tmp_path / "envoy" / "paysystem.pb")
    path = tmp_path / "envoy" / "envoy.yaml"
    path.write_text(
        envoy_config.render(
            clusters=envoy_config.clusters(topology.instances(settings)),
            http_port=settings.http_port,
            admin_port=settings.envoy_admin_port,
            admin_clusters_port=clusters_port,
            descriptor_path=descriptor,
            jwks_path=settings.keys_dir / "jwks.json",
            jwt_issuer=settings.jwt_issuer,
            jwt_leeway_sec=settings.jwt_leeway_sec,
            access_log_path=settings.logs_dir / "envoy-access.log",
            health_log_path=settings.logs_dir / "envoy-health.log",
        )
    )
    envoy = subprocess.Popen(
        [supervisor.envoy_executable(), "-c", str(path), "--use-dynamic-base-id", "--log-level", "warn"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{clusters_port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                seen = envoy_clusters.read_clusters(url)
                break
            except OSError:
                assert time.monotonic() < deadline, "Envoy did not start"
                time.sleep(0.2)
        expected = {(i.service.name, i.address) for i in topology.instances(settings)}
        assert expected <= {(h.cluster, h.address) for hosts in seen.values() for h in hosts}
        for method, page in [("POST", "/clusters"), ("POST", "/quitquitquit"), ("GET", "/stats"), ("GET", "/")]:
            request = urllib.request.Request(f"{url}{page}", method=method, data=b"" if method == "POST" else None)
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=5)
            assert refused.value.code == 404, (method, page)
        assert envoy.poll() is None
    finally:
        envoy.terminate()
        envoy.wait(timeout=30)
        lock.close()
