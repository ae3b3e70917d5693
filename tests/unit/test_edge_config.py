"""The edge limits of envoy/envoy.yaml.j2 as rendered, for the local mesh and for compose.
(What they do is checked through the real Envoy in tests/e2e/test_envoy_edge.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.common.settings import Settings
from services.launcher import envoy_config, topology
from services.launcher.topology import SERVICES


def _local() -> dict:
    settings = Settings(data_dir=Path("/tmp/x"), http_port=18500, envoy_admin_port=18501, service_base_port=18510)
    return yaml.safe_load(
        envoy_config.render_local(settings, topology.instances(settings), Path("/tmp/x/envoy/paysystem.pb"))
    )


CONFIGS = {"local": _local(), "compose": yaml.safe_load(envoy_config.render_compose(SERVICES))}


def _hcm(config: dict) -> dict:
    return config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]


def _routes(config: dict) -> list[dict]:
    return _hcm(config)["route_config"]["virtual_hosts"][0]["routes"]


def _route(config: dict, path: str) -> dict:
    """The route that forwards calls on `path` (not the refusals matched on the same path first)."""
    return next(r for r in _routes(config) if r["match"].get("path") == path and "route" in r)


@pytest.mark.parametrize("where", CONFIGS)
def test_tokens_come_from_the_authorization_header_only_and_the_access_log_has_no_query_strings(where):
    config = CONFIGS[where]
    filters = {f["name"]: f["typed_config"] for f in _hcm(config)["http_filters"]}
    provider = filters["envoy.filters.http.jwt_authn"]["providers"]["paysystem"]
    assert provider["from_headers"] == [{"name": "authorization", "value_prefix": "Bearer "}]
    assert "from_params" not in provider and "from_cookies" not in provider
    log_format = str(_hcm(config)["access_log"][0]["typed_config"]["log_format"])
    assert "PATH(NQ:" in log_format
    assert "%REQ(:PATH)%" not in log_format and "X-ENVOY-ORIGINAL-PATH" not in log_format
    assert "authorization" not in log_format.lower()


@pytest.mark.parametrize("where", CONFIGS)
def test_the_listener_bounds_time_streams_and_connections(where):
    config = CONFIGS[where]
    hcm = _hcm(config)
    assert hcm["use_remote_address"] is True
    assert (hcm["request_headers_timeout"], hcm["request_timeout"], hcm["stream_idle_timeout"]) == (
        "10s",
        "660s",
        "60s",
    )
    assert hcm["common_http_protocol_options"]["idle_timeout"] == "60s"
    assert hcm["http2_protocol_options"]["max_concurrent_streams"] == 100
    assert config["static_resources"]["listeners"][0]["per_connection_buffer_limit_bytes"] == 65536
    static = config["layered_runtime"]["layers"][0]["static_layer"]
    assert static["envoy.resource_limits.listener.public.connection_limit"] == 4096
    monitors = {m["name"]: m["typed_config"] for m in config["overload_manager"]["resource_monitors"]}
    assert (
        monitors["envoy.resource_monitors.global_downstream_max_connections"]["max_active_downstream_connections"]
        == 5000
    )
    assert monitors["envoy.resource_monitors.fixed_heap"]["max_heap_size_bytes"] == 1 << 30
    actions = {a["name"] for a in config["overload_manager"]["actions"]}
    assert "envoy.overload_actions.stop_accepting_requests" in actions


@pytest.mark.parametrize("where", CONFIGS)
def test_only_a_batch_of_playbacks_may_send_a_large_body(where):
    filters = {f["name"]: f["typed_config"] for f in _hcm(CONFIGS[where])["http_filters"]}
    small = filters["small-body-limit"]["extension_config"]["typed_config"]["max_request_bytes"]
    large = filters["ingest-body-limit"]["extension_config"]["typed_config"]["max_request_bytes"]
    assert (small, large) == (16 * 1024, 16 << 20)
    assert "buffer" not in str(_route(CONFIGS[where], "/paysystem.v1.VideoService/ImportPlays"))


@pytest.mark.parametrize("where", CONFIGS)
@pytest.mark.parametrize("method", ["SignUp", "Login"])
def test_sign_up_and_log_in_are_limited_per_client_address(where, method):
    route = _route(CONFIGS[where], f"/paysystem.v1.AccountService/{method}")
    limit = route["typed_per_filter_config"]["envoy.filters.http.local_ratelimit"]
    assert limit["rate_limits"] == [{"actions": [{"remote_address": {}}]}]
    per_address = [d for d in limit["descriptors"] if d["entries"] == [{"key": "remote_address"}]]
    assert len(per_address) == 1 and per_address[0]["token_bucket"]["max_tokens"] <= 10
    exempt = [d["entries"][0]["value"] for d in limit["descriptors"] if "value" in d["entries"][0]]
    assert exempt == (["127.0.0.1"] if where == "local" else [])
    assert limit["rate_limited_as_resource_exhausted"] is True
    assert limit["response_headers_to_add"][0]["header"]["key"] == "retry-after"


def _json_bool_fields_of_the_protos() -> dict[str, tuple[str, ...]]:
    """Every JSON route with a body, and the bool fields of that body, read from the protos."""
    from google.api import annotations_pb2
    from google.protobuf import descriptor

    from paysystem.v1 import account_pb2, batch_pb2, settlement_pb2, statistics_pb2, video_pb2

    found = {}
    for module in (account_pb2, batch_pb2, settlement_pb2, statistics_pb2, video_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                path = rule.post or rule.put or rule.patch
                if not path or not rule.body:
                    continue
                body = (
                    method.input_type if rule.body == "*" else method.input_type.fields_by_name[rule.body].message_type
                )
                bools = tuple(f.name for f in body.fields if f.type == descriptor.FieldDescriptor.TYPE_BOOL)
                if bools:
                    found[path] = bools
    return found


def test_every_bool_field_of_a_json_body_is_checked_at_the_edge():
    assert _json_bool_fields_of_the_protos() == envoy_config.JSON_BOOL_FIELDS


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_bool_check_runs_before_the_transcoder(name):
    filters = [f["name"] for f in _hcm(CONFIGS[name])["http_filters"]]
    assert filters.index("json-bool-fields") < filters.index("envoy.filters.http.grpc_json_transcoder")
