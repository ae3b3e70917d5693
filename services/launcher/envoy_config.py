"""Renders envoy/envoy.yaml.j2 for the local mesh (and, with other hosts, for docker-compose)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import yaml

from services.common.settings import Settings
from services.launcher.topology import Instance

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = REPO_ROOT / "envoy"
TEMPLATE_NAME = "envoy.yaml.j2"


def clusters(instances: list[Instance]) -> list[dict]:
    result: dict[str, dict] = {}
    for instance in instances:
        cluster = result.setdefault(
            instance.service.name,
            {"name": instance.service.name, "grpc_service": instance.service.grpc_service, "endpoints": []},
        )
        cluster["endpoints"].append({"host": instance.host, "port": instance.port})
    return list(result.values())


def render(
    *,
    clusters: list[dict],
    http_port: int,
    admin_port: int,
    descriptor_path: Path | str,
    jwks_path: Path | str,
    jwt_issuer: str,
    jwt_leeway_sec: int,
    access_log_path: Path | str,
    health_log_path: Path | str,
    listen_host: str = "127.0.0.1",
    admin_host: str = "127.0.0.1",
    cluster_type: str = "STATIC",
    unthrottled_clients: tuple[str, ...] = (),
) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    text = env.get_template(TEMPLATE_NAME).render(
        clusters=clusters,
        http_port=http_port,
        admin_port=admin_port,
        admin_host=admin_host,
        listen_host=listen_host,
        descriptor_path=str(descriptor_path),
        jwks_path=str(jwks_path),
        jwt_issuer=jwt_issuer,
        jwt_leeway_sec=jwt_leeway_sec,
        access_log_path=str(access_log_path),
        health_log_path=str(health_log_path),
        cluster_type=cluster_type,
        unthrottled_clients=unthrottled_clients,
    )
    yaml.safe_load(text)  # a template mistake fails here with a line number, not inside Envoy
    return text


# The mesh's own machine: `paysystem seed` and `demo` make hundreds of accounts in seconds
# through Envoy from 127.0.0.1. Every other client address, 127.0.0.2 and up included, is
# limited (docs/operations.md, Edge limits).
LOCAL_UNTHROTTLED_CLIENTS = ("127.0.0.1",)


def render_local(settings: Settings, instances: list[Instance], descriptor_path: Path) -> str:
    """The config for the mesh on this machine: every address on loopback."""
    return render(
        clusters=clusters(instances),
        http_port=settings.http_port,
        admin_port=settings.envoy_admin_port,
        descriptor_path=descriptor_path.resolve(),
        jwks_path=(settings.keys_dir / "jwks.json").resolve(),
        jwt_issuer=settings.jwt_issuer,
        jwt_leeway_sec=settings.jwt_leeway_sec,
        access_log_path=(settings.logs_dir / "envoy-access.log").resolve(),
        health_log_path=(settings.logs_dir / "envoy-health.log").resolve(),
        unthrottled_clients=LOCAL_UNTHROTTLED_CLIENTS,
    )


# docker-compose: each service is one DNS name for all its replicas, on one container port.
COMPOSE_SERVICE_PORT = 50051
COMPOSE_RENDERED = TEMPLATE_DIR / "envoy.compose.yaml"


def render_compose(services) -> str:
    """The config docker-compose mounts into the official Envoy image (envoy/envoy.compose.yaml)."""
    return render(
        clusters=[
            {
                "name": spec.name,
                "grpc_service": spec.grpc_service,
                "endpoints": [{"host": spec.name, "port": COMPOSE_SERVICE_PORT}],
            }
            for spec in services
        ],
        http_port=8080,
        admin_port=9901,
        listen_host="0.0.0.0",
        descriptor_path="/etc/paysystem/descriptor/paysystem.pb",
        jwks_path="/etc/paysystem/keys/jwks.json",
        jwt_issuer="paysystem",
        jwt_leeway_sec=5,
        access_log_path="/dev/stdout",
        health_log_path="/dev/stdout",
        cluster_type="STRICT_DNS",
    )


if __name__ == "__main__":
    from services.launcher.topology import SERVICES

    COMPOSE_RENDERED.write_text(
        "# Generated from envoy/envoy.yaml.j2 by `python -m services.launcher.envoy_config`. Do not edit.\n"
        + render_compose(SERVICES)
    )
    print(f"wrote {COMPOSE_RENDERED}")
