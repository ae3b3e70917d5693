"""The rendered Envoy config is accepted by the real Envoy binary (envoy --mode validate)."""

from __future__ import annotations

import subprocess

from services.common import auth, protogen
from services.common.settings import Settings
from services.launcher import envoy_config, supervisor, topology


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
