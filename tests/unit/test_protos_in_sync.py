"""The committed stubs under paysystem/v1 must be exactly what protos/ generates."""

from pathlib import Path

from services.common import protogen


def test_committed_stubs_equal_a_fresh_generation(tmp_path: Path):
    protogen.generate_python(tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "paysystem").rglob("*_pb2*.py*")}
    committed_dir = protogen.REPO_ROOT / "paysystem"
    committed = {p.relative_to(protogen.REPO_ROOT): p.read_bytes() for p in committed_dir.rglob("*_pb2*.py*")}
    assert fresh, "protoc generated nothing"
    assert sorted(map(str, committed)) == sorted(map(str, fresh)), (
        "stub files differ: run python -m services.common.protogen"
    )
    stale = [str(name) for name, content in fresh.items() if committed[name] != content]
    assert not stale, f"stale stubs {stale}: run python -m services.common.protogen"


def test_every_json_path_of_the_contract_is_annotated(tmp_path: Path):
    from google.api import annotations_pb2
    from google.protobuf import descriptor_pb2

    path = protogen.build_descriptor_set(tmp_path / "api.pb")
    files = descriptor_pb2.FileDescriptorSet.FromString(path.read_bytes())
    routes = set()
    for file in files.file:
        for service in file.service:
            for method in service.method:
                rule = method.options.Extensions[annotations_pb2.http]
                verb = rule.WhichOneof("pattern")
                if verb:
                    routes.add((verb.upper(), getattr(rule, verb)))
    expected = {
        ("POST", "/v1/accounts"),
        ("POST", "/v1/auth/token"),
        ("POST", "/v1/videos"),
        ("GET", "/v1/videos/{video_id}"),
        ("GET", "/v1/sellers/{seller_id}/videos"),
        ("POST", "/v1/plays:batch"),
        ("GET", "/v1/videos/{video_id}/resume"),
        ("GET", "/v1/sellers/{seller_id}/top-videos"),
        ("GET", "/v1/videos/{video_id}/stats"),
        ("GET", "/v1/sellers/{seller_id}/settlements"),
        ("POST", "/v1/batch/jobs"),
        ("GET", "/v1/batch/jobs/{job_execution_id}"),
    }
    assert expected <= routes, f"missing: {expected - routes}"
