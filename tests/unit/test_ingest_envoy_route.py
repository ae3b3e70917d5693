"""Envoy's route for the ImportPlays client stream (envoy/envoy.yaml.j2)."""

from __future__ import annotations

import yaml

from entrypoints.launcher import envoy_config
from entrypoints.launcher.topology import SERVICES


def _routes() -> list[dict]:
    config = yaml.safe_load(envoy_config.render_compose(SERVICES))
    listener = config["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return [r for host in manager["route_config"]["virtual_hosts"] for r in host["routes"]]


def test_an_import_stream_has_no_time_limit_per_try_or_overall():
    # A per-try limit cut every ImportPlays stream at 10 s ("upstream request timeout").
    route = next(r for r in _routes() if r["match"].get("path") == "/paysystem.v1.VideoService/ImportPlays")["route"]
    assert route["timeout"] == "0s"
    assert "per_try_timeout" not in route["retry_policy"]
    assert "reset" not in route["retry_policy"]["retry_on"]
