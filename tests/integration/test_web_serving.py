"""Envoy serves the dashboard (web/dist) and /config.json itself, without a token, gzip-encoded
when asked; the API next to it still needs one (docs/dashboard.md, Serving).

Only Envoy runs: its direct responses and its JWT check need no service behind it.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import subprocess
import time

import brotli
import pytest

from entrypoints.launcher import envoy_config, supervisor, topology
from services.common import auth, protogen
from services.common.settings import Settings
from tests.mesh import reserve_port_block

DIST = envoy_config.WEB_DIR


@pytest.fixture(scope="module")
def envoy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web-envoy")
    base, lock = reserve_port_block()
    settings = Settings(
        data_dir=tmp, http_port=base, envoy_admin_port=base + 1, service_base_port=base + 2, timezone="Asia/Seoul"
    )
    auth.ensure_keys(settings.keys_dir)
    settings.logs_dir.mkdir(parents=True)
    descriptor = protogen.build_descriptor_set(tmp / "envoy" / "paysystem.pb")
    config = tmp / "envoy" / "envoy.yaml"
    config.write_text(envoy_config.render_local(settings, topology.instances(settings), descriptor))
    process = subprocess.Popen(
        [supervisor.envoy_executable(), "-c", str(config), "--use-dynamic-base-id", "--concurrency", "1"],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "envoy.err").open("w"),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(settings.envoy_admin_port, "/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp / "envoy.err").read_text()[-2000:]
            assert time.monotonic() < deadline, "Envoy did not become ready"
            time.sleep(0.2)
        yield settings.http_port
    finally:
        process.terminate()
        process.wait(timeout=20)
        lock.close()


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_the_dashboard_page_is_served_at_the_root_without_a_token(envoy):
    for path in ("/", "/index.html"):
        status, headers, body = _get(envoy, path)
        assert status == 200, body[:300]
        assert headers["content-type"].startswith("text/html")
        assert headers["cache-control"] == "no-cache"
        assert "script-src 'self'" in headers["content-security-policy"]
        assert body == (DIST / "index.html").read_bytes()
        assert b'<script src="app.js"' in body


@pytest.mark.parametrize(("path", "content_type"), [("/app.js", "application/javascript"), ("/app.css", "text/css")])
def test_the_scripts_and_styles_are_served_with_their_content_type(envoy, path, content_type):
    status, headers, body = _get(envoy, path)
    assert status == 200, body[:300]
    assert headers["content-type"].startswith(content_type)
    assert body == (DIST / path.lstrip("/")).read_bytes()


@pytest.mark.parametrize("path", ["/", "/app.js", "/app.css"])
def test_assets_come_back_gzip_encoded_when_the_client_asks(envoy, path):
    file = DIST / ("index.html" if path == "/" else path.lstrip("/"))
    if file.stat().st_size < 256:  # Envoy's min_content_length: the placeholder is too small
        pytest.fail(f"{file} is smaller than the compressor's minimum; the test needs a real build")
    status, headers, body = _get(envoy, path, {"accept-encoding": "gzip"})
    assert status == 200
    assert headers.get("content-encoding") == "gzip"
    assert gzip.decompress(body) == file.read_bytes()
    assert len(body) < file.stat().st_size


@pytest.mark.parametrize("path", ["/", "/app.js", "/app.css"])
def test_a_browser_that_accepts_brotli_gets_the_smaller_brotli_copy(envoy, path):
    file = DIST / ("index.html" if path == "/" else path.lstrip("/"))
    # What Chromium sends: gzip first, brotli too.
    status, headers, body = _get(envoy, path, {"accept-encoding": "gzip, deflate, br, zstd"})
    assert status == 200
    assert headers.get("content-encoding") == "br"
    assert headers["vary"] == "accept-encoding"
    assert brotli.decompress(body) == file.read_bytes()
    gzipped = _get(envoy, path, {"accept-encoding": "gzip"})[2]
    assert len(body) < len(gzipped)


@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/app.css"])
@pytest.mark.parametrize("encoding", ["", "gzip", "gzip, br"])
def test_a_reload_with_the_entity_tag_gets_304_without_the_body(envoy, path, encoding):
    file = DIST / ("index.html" if path in ("/", "/index.html") else path.lstrip("/"))
    asked = {"accept-encoding": encoding} if encoding else {}
    status, headers, _ = _get(envoy, path, asked)
    assert status == 200
    tag = headers["etag"]
    # The tag names these bytes (independently: their SHA-256), whatever the encoding on the wire.
    assert hashlib.sha256(file.read_bytes()).hexdigest().startswith(tag.removeprefix("W/").strip('"'))
    status, headers, body = _get(envoy, path, {**asked, "if-none-match": tag})
    assert (status, body) == (304, b"")
    assert headers["cache-control"] == "no-cache"
    # Another file's tag (or a stale one) gets the whole file.
    status, _, body = _get(envoy, path, {"if-none-match": '"0123456789abcdef0123456789abcdef"'})
    assert status == 200 and body == file.read_bytes()


def test_api_answers_are_never_stored_by_a_browser(envoy):
    status, headers, _ = _get(envoy, "/v1/sellers/7/balance")
    assert status == 401
    assert headers["cache-control"] == "no-store"
    assert _get(envoy, "/config.json")[1]["cache-control"] == "no-cache"


def test_config_json_names_the_platform_time_zone(envoy):
    status, headers, body = _get(envoy, "/config.json")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"time_zone": "Asia/Seoul", "api_base": ""}


@pytest.mark.parametrize("path", ["/v1/sellers/7/balance", "/v1/batch/jobs?limit=5", "/app.js.map", "/web/dist/app.js"])
def test_api_routes_and_other_paths_still_need_a_token(envoy, path):
    status, _, body = _get(envoy, path)
    assert status == 401, body[:300]


def test_every_built_file_has_a_route():
    served = {asset["file"] for asset in envoy_config.WEB_ASSETS.values()}
    built = {p.name for p in DIST.iterdir() if p.is_file()}
    assert built == served | {f"{name}.br" for name in served}
    for name in served:  # each brotli copy is its file's, byte for byte once decoded
        assert brotli.decompress((DIST / f"{name}.br").read_bytes()) == (DIST / name).read_bytes()
