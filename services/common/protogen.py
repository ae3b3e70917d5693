"""Builds everything derived from `protos/`: the Python stubs and Envoy's descriptor set.

The stubs are committed under `paysystem/v1/` (a test proves they match a fresh generation);
the descriptor set is built into the data directory when the mesh starts.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO_ROOT / "protos"
# google/api/*.proto and google/rpc/*.proto ship inside googleapis-common-protos.


def _module_file(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{name} is not installed: pip install -e .", name=name)
    return Path(spec.origin)


GOOGLEAPIS_ROOT = _module_file("google.api.annotations_pb2").parents[2]
GRPC_TOOLS_INCLUDE = _module_file("grpc_tools").parent / "_proto"


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))


def _run(args: list[str]) -> None:
    includes = [f"-I{PROTO_ROOT}", f"-I{GOOGLEAPIS_ROOT}", f"-I{GRPC_TOOLS_INCLUDE}"]
    code = protoc.main(["protoc", *includes, *args])
    if code != 0:
        raise RuntimeError(f"protoc failed with exit code {code}: {' '.join(args)}")


def generate_python(out_dir: Path = REPO_ROOT) -> None:
    """Writes paysystem/v1/*_pb2.py, *_pb2.pyi and *_pb2_grpc.py below out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _run([f"--python_out={out_dir}", f"--pyi_out={out_dir}", f"--grpc_python_out={out_dir}", *proto_files()])


def build_descriptor_set(path: Path) -> Path:
    """The descriptor set Envoy's gRPC-JSON transcoder reads at start-up."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # error_details is included so that rich error details survive transcoding.
    _run(
        [
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={path}",
            *proto_files(),
            "google/rpc/error_details.proto",
        ]
    )
    return path


if __name__ == "__main__":
    generate_python()
    print("generated paysystem/v1 from protos/")
