"""The edge limits of envoy/envoy.yaml.j2 as rendered, for the local mesh and for compose.
(What they do is checked through the real Envoy in tests/e2e/test_envoy_edge.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from entrypoints.launcher import envoy_config, topology
from entrypoints.launcher.topology import SERVICES
from services.common.settings import Settings


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

    from paysystem.v1 import account_pb2, batch_pb2, settlement_pb2, statistics_pb2, video_pb2, webhooks_pb2

    found = {}
    for module in (account_pb2, batch_pb2, settlement_pb2, statistics_pb2, video_pb2, webhooks_pb2):
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


@pytest.mark.parametrize("where", CONFIGS)
def test_json_batches_of_playbacks_are_counted_before_the_transcoder_with_the_services_cap_and_words(where):
    from domain.plays import MAX_EVENTS_PER_CALL
    from services.video.ingest import too_many_events

    names = [f["name"] for f in _hcm(CONFIGS[where])["http_filters"]]
    assert names.index("json-event-count") < names.index("envoy.filters.http.grpc_json_transcoder")
    count = next(f for f in _hcm(CONFIGS[where])["http_filters"] if f["name"] == "json-event-count")
    lua = count["typed_config"]["extension_config"]["typed_config"]["default_source_code"]["inline_string"]
    assert f"local LIMIT = {MAX_EVENTS_PER_CALL}\n" in lua
    assert f"local REFUSAL = [==[{too_many_events(f'more than {MAX_EVENTS_PER_CALL}')}]==]" in lua


@pytest.mark.parametrize("where", CONFIGS)
def test_only_sign_up_and_log_in_of_the_account_service_need_no_token_over_grpc(where):
    filters = {f["name"]: f["typed_config"] for f in _hcm(CONFIGS[where])["http_filters"]}
    public = [r["match"] for r in filters["envoy.filters.http.jwt_authn"]["rules"] if "requires" not in r]
    account = [m for m in public if "AccountService" in str(m)]
    assert account == [
        {"path": "/paysystem.v1.AccountService/SignUp"},
        {"path": "/paysystem.v1.AccountService/Login"},
    ]


# --- issue 28 ------------------------------------------------------------------------------


def _annotated_methods_with_path_variables() -> dict[str, set[str]]:
    """gRPC path -> the path variables of its google.api.http route, read from the protos."""
    import re

    from google.api import annotations_pb2

    from paysystem.v1 import account_pb2, batch_pb2, settlement_pb2, statistics_pb2, video_pb2, webhooks_pb2

    found = {}
    for module in (account_pb2, batch_pb2, settlement_pb2, statistics_pb2, video_pb2, webhooks_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                rule = method.GetOptions().Extensions[annotations_pb2.http]
                verb = rule.WhichOneof("pattern")
                if verb and (variables := set(re.findall(r"{(\w+)", getattr(rule, verb)))):
                    found[f"/{service.full_name}/{method.name}"] = variables
    return found


@pytest.mark.parametrize("where", sorted(CONFIGS))
def test_no_body_field_may_contradict_the_path(where):
    filters = {f["name"]: f["typed_config"] for f in _hcm(CONFIGS[where])["http_filters"]}
    transcoder = filters["envoy.filters.http.grpc_json_transcoder"]
    assert transcoder["request_validation_options"] == {"reject_binding_body_field_collisions": True}


@pytest.mark.parametrize("where", sorted(CONFIGS))
def test_every_path_variable_of_the_protos_is_refused_in_the_query_string_before_its_route(where):
    import re

    routes = _routes(CONFIGS[where])
    refusals: dict[str, set[str]] = {}
    for index, route in enumerate(routes):
        if route.get("direct_response", {}).get("status") != 400:
            continue
        path = route["match"]["path"]
        forwarding = next(
            i
            for i, r in enumerate(routes)
            if "route" in r and (r["match"].get("path") == path or path.startswith(r["match"].get("prefix", "\0")))
        )
        assert index < forwarding, path
        assert route["match"]["headers"][0]["name"] == "x-envoy-original-path"
        message = route["direct_response"]["body"]["inline_string"]
        if "comes from the path" in message:
            refusals.setdefault(path, set()).add(message.split(":", 1)[0])
    assert refusals == _annotated_methods_with_path_variables()
    # The regexes take the names in every spelling the transcoder accepts, and nothing else.
    rule = next(r for r in envoy_config.query_overrides() if r["grpc_path"].endswith("/GetBalance"))
    regex = re.compile(rule["regex"])
    for query in ["seller_id=2", "x=1&seller_id=2", "sellerId=2", "seller%5Fid=2", "seller%5fid", "%73eller_id=2"]:
        assert regex.fullmatch(f"/v1/sellers/1/balance?{query}"), query
    for query in ["seller_idx=2", "x=seller_id", "SELLER_ID=2", "my_seller_id=2"]:
        assert not regex.fullmatch(f"/v1/sellers/1/balance?{query}"), query
    assert not regex.fullmatch("/v1/sellers/1/balance")


@pytest.mark.parametrize("where", sorted(CONFIGS))
def test_a_method_the_api_lacks_gets_405_before_anything_else_and_needs_no_token(where):
    config = CONFIGS[where]
    first = _routes(config)[0]
    assert first["direct_response"]["status"] == 405
    assert first["match"]["headers"][0]["invert_match"] is True
    assert first["match"]["headers"][0]["string_match"]["safe_regex"]["regex"] == "GET|POST"
    jwt = next(f for f in _hcm(config)["http_filters"] if f["name"] == "envoy.filters.http.jwt_authn")
    rules = jwt["typed_config"]["rules"]
    unknown = [r for r in rules if r["match"].get("headers") == first["match"]["headers"]]
    assert len(unknown) == 1 and "requires" not in unknown[0]
    assert rules.index(unknown[0]) < len(rules) - 1  # before the catch-all that needs a token


@pytest.mark.parametrize("where", sorted(CONFIGS))
def test_every_answer_says_nosniff_and_every_json_error_has_code_message_and_details(where):
    hcm = _hcm(CONFIGS[where])
    first = hcm["http_filters"][0]
    assert first["name"] == "envoy.filters.http.header_mutation"
    added = first["typed_config"]["mutations"]["response_mutations"]
    assert {"header": {"key": "x-content-type-options", "value": "nosniff"}} in [
        {"header": m["append"]["header"]} for m in added if "append" in m
    ]
    formats = [m["body_format_override"]["json_format"] for m in hcm["local_reply_config"]["mappers"][1:]]
    assert formats and all({"code", "message", "details"} <= set(f) and f["details"] == [] for f in formats)


@pytest.mark.parametrize("where", sorted(CONFIGS))
def test_unauthenticated_calls_are_bounded_before_their_body(where):
    config = CONFIGS[where]
    filters = [f["name"] for f in _hcm(config)["http_filters"]]
    assert (
        filters.index("envoy.filters.http.jwt_authn") < filters.index("start-limit") < filters.index("small-body-limit")
    )
    for json_path, grpc_path in [
        ("/v1/accounts", "/paysystem.v1.AccountService/SignUp"),
        ("/v1/auth/token", "/paysystem.v1.AccountService/Login"),
    ]:
        before_body = _route(config, json_path)
        assert before_body["route"]["max_stream_duration"] == {"max_stream_duration": "10s"}
        after_body = _route(config, grpc_path)
        assert after_body["route"]["max_stream_duration"] == {"max_stream_duration": "40s"}
        for route in (before_body, after_body):
            limit = route["typed_per_filter_config"]["start-limit"]
            per_address = [d for d in limit["descriptors"] if d["entries"] == [{"key": "remote_address"}]]
            assert per_address[0]["token_bucket"] == {"max_tokens": 20, "tokens_per_fill": 2, "fill_interval": "1s"}
