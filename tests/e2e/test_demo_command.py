"""`paysystem demo --exit`, the README's first command, as a subprocess on the embedded
default (SQLite), on awkward days set through the business clock's test setting
(PAYSYSTEM_TEST_NOW with PAYSYSTEM_TEST_MODE, services/common/clock.py), twice on one data
folder, and failing cleanly.

The figures it prints are checked against tests/reference.py over the playbacks the demo
stored (read back from its SQLite file): the first closed month's total as it was closed
(without the late playbacks), and the second month's total with the adjustment that the late
playbacks made to the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from entrypoints.cli import demo_ports
from tests import reference
from tests.mesh import paysystem_command, reserve_port_block

# Small enough for a test (the accounts' password hashing dominates), dense enough that every
# rule and the ledger walk have something to do.
SIZES = ["--plays", "3000", "--viewers", "12", "--videos", "16", "--sellers", "3"]
DEMO_TIMEOUT_SEC = 300
DEMO_SELLER = "seed7-seller-0"


@pytest.fixture
def ports() -> Iterator[dict[str, str]]:
    base, lock = reserve_port_block()
    try:
        yield {
            "PAYSYSTEM_HTTP_PORT": str(base),
            "PAYSYSTEM_ENVOY_ADMIN_PORT": str(base + 1),
            "PAYSYSTEM_SERVICE_BASE_PORT": str(base + 10),
        }
    finally:
        lock.close()


def _env(data_dir: Path, ports: dict[str, str], now: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYSYSTEM_")}
    env.update(ports)
    env.update({"PAYSYSTEM_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    if now is not None:
        env.update({"PAYSYSTEM_TEST_NOW": now, "PAYSYSTEM_TEST_MODE": "1"})
    env.update(extra)
    return env


def _demo(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        paysystem_command("demo", "--exit", *SIZES, *args),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_SEC,
        check=False,
    )


def _nothing_listens(ports: dict[str, str]) -> None:
    """The mesh is gone: no process listens on Envoy's port or the first service port."""
    for key in ("PAYSYSTEM_HTTP_PORT", "PAYSYSTEM_SERVICE_BASE_PORT"):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", int(ports[key]))) != 0, f"{key} still answers"


def _expected(db_path: Path, zone: ZoneInfo, months: tuple[dt.date, dt.date]) -> tuple[Decimal, Decimal]:
    """(the first closed month's total at its close, the second month's total with its
    adjustment) for the demo seller, by tests/reference.py from the stored playbacks."""
    with sqlite3.connect(db_path) as conn:
        seller_id = conn.execute("SELECT account_id FROM accounts WHERE username = ?", (DEMO_SELLER,)).fetchone()[0]
        videos = [reference.Video(*row) for row in conn.execute("SELECT video_id, seller_id, duration_sec FROM videos")]
        plays = [
            reference.Play(*row)
            for row in conn.execute(
                "SELECT event_id, video_id, viewer_id, started_at_us, start_position_sec, end_position_sec FROM plays"
            )
        ]
    before_late = [p for p in plays if not p.event_id.startswith("demo-late-")]
    assert len(before_late) < len(plays), "the demo stored its late playbacks"

    def month_total(rows: dict, month: dt.date) -> Decimal:
        return sum(
            (
                r.video_revenue + r.ad_revenue
                for r in rows.values()
                if r.seller_id == seller_id and (r.day.year, r.day.month) == (month.year, month.month)
            ),
            Decimal(0),
        )

    at_close = reference.compute_daily(videos, before_late, zone)
    now = reference.compute_daily(videos, plays, zone)
    first, second = months
    adjustment = month_total(now, first) - month_total(at_close, first)
    return month_total(at_close, first), month_total(now, second) + adjustment


def _printed(pattern: str, out: str) -> str:
    found = re.search(pattern, out)
    assert found, f"not printed: {pattern}\n{out[-3000:]}"
    return found.group(1)


def _check_figures(out: str, data_dir: Path, zone_name: str, today: dt.date, *, events: bool = True) -> str:
    """Checks what the demo printed; the bank file's SHA-256. `events`: the run caused webhook
    events (a run again on the same data closes, approves and marks nothing new)."""
    first = dt.date(today.year, today.month, 1)
    for _ in range(2):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    second = (first + dt.timedelta(days=31)).replace(day=1)
    names = [f"{m.year:04d}-{m.month:02d}" for m in (first, second)]
    assert f"Today is {today} ({zone_name})" in out
    assert f"so {names[0]} and {names[1]} have ended" in out
    assert "ending yesterday" in out and f"to {today - dt.timedelta(days=1)}" in out
    for name in names:
        assert re.search(rf"closed {name} at ", out), out[-3000:]
        # Maker-checker: the closer is refused, the second admin approves.
        assert f"the admin who closed {name} may not approve its payouts (HTTP 403)" in out, out[-3000:]
        assert re.search(rf"{name}'s payouts approved by admin \d+ \(closed by \d+\)", out), out[-3000:]
    at_close, second_total = _expected(data_dir / "paysystem.db", ZoneInfo(zone_name), (first, second))
    assert Decimal(_printed(rf"{names[0]} for {DEMO_SELLER}: CLOSED, total ([0-9.]+) KRW", out)) == at_close
    assert Decimal(_printed(rf"{names[1]}: lines \+ adjustments = total ([0-9.-]+) KRW", out)) == second_total
    # One INDIVIDUAL and one BUSINESS payout profile, shown masked, and a payout's taxes.
    assert "********7890" in out and "********0088" in out
    assert "INDIVIDUAL" in out and "BUSINESS" in out and "Payouts with their taxes" in out
    # The first month's bank transfer file in the data folder, its printed SHA-256 that of its
    # bytes and the one recorded with the month; the webhook receiver got verified events.
    path, digest = re.search(rf"bank transfer file of {names[0]}: (\S+) SHA-256 ([0-9a-f]{{64}})", out).groups()
    data = Path(path).read_bytes()
    assert Path(path).parent.resolve() == data_dir.resolve() and hashlib.sha256(data).hexdigest() == digest
    assert data.startswith(b"\xef\xbb\xbfkind,payout_id,seller_id,bank_code,account_number,") and b"\r\nTOTAL," in data
    assert f"recorded with {names[0]}: SHA-256 {digest}," in out
    received = _printed(r"(\d+) webhook events received with a verified signature, 0 rejected", out)
    if events:
        assert int(received) >= 1
    assert "Demo done in" in out
    return digest


AWKWARD_DAYS = [
    # (the business clock's instant, local to the zone; zone; the process's TZ)
    pytest.param("2025-03-01T00:05:00", "Asia/Seoul", "UTC", id="first-of-month-just-after-midnight"),
    pytest.param("2026-12-05T12:00:00", "Asia/Seoul", "UTC", id="fifth"),
    pytest.param("2025-04-30T23:59:30", "America/Los_Angeles", "Asia/Tokyo", id="last-day-of-month-before-midnight"),
    pytest.param("2025-01-01T09:00:00", "Pacific/Kiritimati", "America/Los_Angeles", id="first-of-january"),
    pytest.param("2024-02-29T12:00:00", "Asia/Seoul", "Europe/Berlin", id="29-february"),
]


@pytest.mark.parametrize(("now", "zone", "tz"), AWKWARD_DAYS)
def test_the_demo_succeeds_on_awkward_days(tmp_path, ports, now, zone, tz):
    data_dir = tmp_path / "data"
    result = _demo(_env(data_dir, ports, now, PAYSYSTEM_TIMEZONE=zone, TZ=tz), cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    _check_figures(out, data_dir, zone, dt.datetime.fromisoformat(now).date())
    _nothing_listens(ports)


def test_the_demo_twice_on_one_folder_reuses_what_is_there(tmp_path, ports):
    data_dir = tmp_path / "data"
    env = _env(data_dir, ports, "2025-07-10T10:00:00")
    first = _demo(env, cwd=tmp_path)
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    digest = _check_figures(first.stdout + first.stderr, data_dir, "Asia/Seoul", dt.date(2025, 7, 10))
    second = _demo(env, cwd=tmp_path)
    out = second.stdout + second.stderr
    assert second.returncode == 0, out[-4000:]
    assert f"Reusing the demo data in {data_dir}" in out
    assert "stored 0, duplicates 3000, rejected 0 (all there from the earlier run)" in out
    # The bank file is frozen at its first download: the same bytes the second time.
    assert _check_figures(out, data_dir, "Asia/Seoul", dt.date(2025, 7, 10), events=False) == digest
    _nothing_listens(ports)


def test_without_exit_the_demo_keeps_serving_the_dashboard_until_ctrl_c(tmp_path, ports):
    """The README's first command as written (no --exit), on the 1st of a month: it prints its
    figures, then the dashboard and the API answer through Envoy until SIGINT (Ctrl-C), which
    stops every process and exits 0."""
    env = _env(tmp_path / "data", ports, "2025-03-01T08:00:00")
    command = paysystem_command("demo", *SIZES)
    base = f"http://127.0.0.1:{ports['PAYSYSTEM_HTTP_PORT']}"
    with subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as demo:
        try:
            out = []
            for line in demo.stdout:
                out.append(line)
                if "The mesh keeps serving; Ctrl-C stops it." in line or "demo failed:" in line:
                    break
            assert "The mesh keeps serving" in out[-1], "".join(out)[-3000:]
            with urllib.request.urlopen(f"{base}/", timeout=10) as page:
                assert page.status == 200 and b"<html" in page.read().lower()
            login = json.dumps({"username": DEMO_SELLER, "password": "paysystem-demo-password"}).encode()
            request = urllib.request.Request(f"{base}/v1/auth/token", data=login, method="POST")
            with urllib.request.urlopen(request, timeout=10) as answer:
                assert json.loads(answer.read())["access_token"]
            demo.send_signal(signal.SIGINT)
            assert demo.wait(timeout=60) == 0
        finally:
            if demo.poll() is None:
                demo.kill()
    _nothing_listens(ports)


def _hold(port: int) -> socket.socket | None:
    """Listens on `port` if it is free (else another program holds it already)."""
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", port))
    except OSError:
        holder.close()
        return None
    holder.listen()
    return holder


def test_other_data_and_a_taken_default_port_are_left_alone(tmp_path, ports):
    """Someone else's database stays untouched, and so does a program on the default HTTP
    port (8080): the user chose neither, so the demo moves to a free folder and port."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "paysystem.db").write_bytes(b"")  # someone else's database
    env = _env(data_dir, ports, "2025-07-10T10:00:00")
    del env["PAYSYSTEM_HTTP_PORT"]  # the default, 8080
    holder = _hold(8080)
    try:
        result = _demo(env, cwd=tmp_path)
    finally:
        if holder is not None:
            holder.close()
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    moved = re.search(r"Default ports are in use .*: this demo runs with PAYSYSTEM_HTTP_PORT=(\d+)\. Give other", out)
    assert moved is not None and int(moved.group(1)) > 8080, out[-4000:]
    assert f"http://127.0.0.1:{moved.group(1)}/" in out
    assert f"this demo starts afresh in {tmp_path / 'data-2'}" in out
    assert (data_dir / "paysystem.db").read_bytes() == b""
    _check_figures(out, tmp_path / "data-2", "Asia/Seoul", dt.date(2025, 7, 10))


def _failed_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("demo failed:")]
    assert len(lines) == 1, out[-3000:]
    return lines[0]


def test_a_port_in_use_fails_at_once_in_one_line(tmp_path, ports):
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past an earlier test's TIME_WAIT
        taken.bind(("127.0.0.1", int(ports["PAYSYSTEM_HTTP_PORT"])))
        taken.listen()
        result = _demo(_env(tmp_path / "data", ports, None), cwd=tmp_path)
    assert result.returncode == 1
    assert f"port {ports['PAYSYSTEM_HTTP_PORT']} is in use" in _failed_line(result.stdout + result.stderr)


def test_taken_default_ports_move_to_free_ones_and_chosen_ones_fail(ports):
    """entrypoints/cli/demo_ports.py over real sockets, in this test's own block of ports."""
    base = int(ports["PAYSYSTEM_HTTP_PORT"])
    groups = {
        "http_port": [base],
        "envoy_admin_port": [base + 1],
        "service_base_port": list(range(base + 10, base + 15)),
    }
    assert demo_ports.moves(groups, chosen=()) == {}
    taken, service = _hold(base), _hold(base + 12)
    assert taken is not None and service is not None  # the test's own block
    with taken, service:
        # Past the admin port (another group's), and past the service block's own ports.
        assert demo_ports.moves(groups, chosen=()) == {
            "PAYSYSTEM_HTTP_PORT": str(base + 2),
            "PAYSYSTEM_SERVICE_BASE_PORT": str(base + 15),
        }
        with pytest.raises(RuntimeError, match=f"port {base + 12} is in use"):
            demo_ports.moves(groups, chosen=("service_base_port",))


def test_the_test_clock_without_the_test_flag_is_refused(tmp_path, ports):
    env = _env(tmp_path / "data", ports, None, PAYSYSTEM_TEST_NOW="2024-02-29T12:00:00")
    result = _demo(env, cwd=tmp_path)
    assert result.returncode == 1
    assert "for tests only" in _failed_line(result.stdout + result.stderr)
    assert not (tmp_path / "data").exists()


def test_a_failure_after_the_mesh_started_stops_everything(tmp_path, ports):
    """The demo's INGEST account name is taken by an account with another password: the walk
    fails at the ledger step, after seeding and the batch."""
    import migrations
    from entrypoints.cli.demo import INGEST
    from entrypoints.cli.demo_plan import Marker, plan_history, write_marker
    from services.account import service as accounts
    from services.common import db
    from services.common.settings import Settings

    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    data_dir.mkdir()
    engine = db.make_engine(settings)
    try:
        migrations.migrate(engine)
        accounts.create_account(
            accounts.sql_unit_of_work(engine), INGEST[0], "not-the-demo-password", "INGEST", allowed_roles=("INGEST",)
        )
    finally:
        engine.dispose()
    parameters = {"plays": 3000, "months": 2, "videos": 16, "viewers": 12, "sellers": 3}
    parameters |= {"timezone": "Asia/Seoul", "random_seed": 7}
    write_marker(data_dir, Marker(parameters, plan_history(dt.date(2025, 7, 10)), seeded=False))
    result = _demo(_env(data_dir, ports, "2025-07-10T10:00:00"), cwd=tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-3000:]
    assert "POST /v1/auth/token: HTTP 401" in _failed_line(out)
    assert "completing the interrupted seed" in out.lower()
    assert "Traceback" in (data_dir / "logs" / "demo.log").read_text()
    _nothing_listens(ports)
