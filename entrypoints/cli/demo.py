"""`paysystem demo`: the whole platform with demo data, on the embedded defaults.

Starts the mesh, seeds a realistic data set through the API, runs the batch through Envoy
with live progress, prints one seller's top 5 and weekly and monthly statements, walks the
ledger (entrypoints/cli/demo_ledger.py: close, late playbacks, adjustments, payouts), and keeps
serving (until Ctrl-C) so the printed URLs can be tried by hand: the dashboard at
http://127.0.0.1:8080/ (the demo seller's and the admin's sign-in are printed) and curl lines.
Default ports taken by another program move to free ones (entrypoints/cli/demo_ports.py).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NoReturn

import click
import pydantic
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from domain.errors import AccountExists
from entrypoints.cli import demo_finance, demo_ports
from entrypoints.cli.demo_ledger import DemoCallFailed, walk_ledger
from entrypoints.cli.demo_plan import MIN_MONTHS, Choice, Marker, choose_folder, read_marker, write_marker
from entrypoints.launcher import supervisor
from services.account import service as accounts
from services.common import db
from services.common.clock import clock_for
from services.common.settings import Settings, get_settings

ADMIN = ("demo-admin", "demo-admin-password")
# Maker-checker (DESIGN 2b): a second admin approves the payouts of the months ADMIN closes.
CHECKER = ("demo-checker", "demo-checker-password")
INGEST = ("demo-ingest", "demo-ingest-password")
RANDOM_SEED = 7
# A mesh that is not ready by then will not be: an instance keeps failing (its log says why).
READY_TIMEOUT_SEC = 180
console = Console()


@click.command("demo")
@click.option("--plays", default=300_000, show_default=True, type=click.IntRange(min=0), help="Playbacks to seed.")
@click.option(
    "--months",
    default=MIN_MONTHS,
    show_default=True,
    type=click.IntRange(min=MIN_MONTHS),
    help="Whole months of history before the current one (the demo closes the first two).",
)
@click.option("--videos", default=300, show_default=True, type=click.IntRange(min=1))
@click.option("--viewers", default=300, show_default=True, type=click.IntRange(min=1))
@click.option("--sellers", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--exit", "exit_after", is_flag=True, help="Stop the mesh once the demo has printed its figures.")
def demo(plays: int, months: int, videos: int, viewers: int, sellers: int, exit_after: bool) -> None:
    """Start the mesh, seed data, run the batch, print a seller's figures."""
    started = time.monotonic()
    try:
        settings, choice = _prepare(
            {"plays": plays, "months": months, "videos": videos, "viewers": viewers, "sellers": sellers}
        )
        settings = _free_ports(settings)
    except (ValueError, OSError, RuntimeError) as exc:
        _fail(exc)
    supervisor.configure_console_logging()
    outcome = {"ok": False, "started": False}

    def script() -> None:
        outcome["started"] = True
        try:
            _walk(settings, choice, plays=plays, videos=videos, viewers=viewers, sellers=sellers)
            outcome["ok"] = True
            console.print(f"[bold green]Demo done in {time.monotonic() - started:.0f} s.[/]")
        except Exception as exc:  # noqa: BLE001 - shown to the person running the demo
            _report(settings, exc)
        if exit_after or not outcome["ok"]:
            os.kill(os.getpid(), signal.SIGTERM)  # the supervisor stops everything in order
        else:
            console.print("The mesh keeps serving; Ctrl-C stops it.")

    def not_ready() -> None:
        if not outcome["started"]:
            _report(settings, RuntimeError(f"the mesh was not ready after {READY_TIMEOUT_SEC} s"))
            os.kill(os.getpid(), signal.SIGTERM)

    watchdog = threading.Timer(READY_TIMEOUT_SEC, not_ready)
    watchdog.daemon = True
    watchdog.start()
    mesh = supervisor.Supervisor(settings, on_ready=lambda: threading.Thread(target=script, daemon=True).start())
    try:
        mesh.run()  # the main thread supervises: Envoy dies with the thread that spawned it
    except SystemExit as exc:  # the supervisor refused to start (a mesh already runs there)
        _fail(RuntimeError(str(exc.code)))
    finally:
        watchdog.cancel()
    raise SystemExit(0 if outcome["ok"] else 1)


def _prepare(parameters: dict) -> tuple[Settings, Choice]:
    """The settings and folder this demo runs with (entrypoints/cli/demo_plan.py): a folder that
    holds other data is left alone, and the demo's processes get the new one."""
    settings = get_settings()
    parameters = {**parameters, "timezone": settings.timezone, "random_seed": RANDOM_SEED}
    today = clock_for(settings).today(settings.zone)
    data_dir = Path(os.path.abspath(settings.data_dir))
    choice = choose_folder(data_dir, parameters, today, parameters["months"], embedded=not settings.db_url)
    console.print(choice.message, soft_wrap=True, highlight=False)
    console.print(choice.history.why(today, settings.timezone), soft_wrap=True, highlight=False)
    if choice.data_dir != data_dir:
        os.environ["PAYSYSTEM_DATA_DIR"] = str(choice.data_dir)  # inherited by every child
        get_settings.cache_clear()
        settings = get_settings()
    if not choice.reused:
        write_marker(choice.data_dir, Marker(parameters, choice.history, seeded=False))
    return settings, choice


def _free_ports(settings: Settings) -> Settings:
    """The settings with every port the mesh needs free (entrypoints/cli/demo_ports.py): a
    default port that is taken moves, and the demo says where; a chosen one fails at once."""
    moved = demo_ports.choose_ports(settings)
    if not moved:
        return settings
    os.environ.update(moved)  # inherited by every child
    get_settings.cache_clear()
    chosen = " ".join(f"{name}={value}" for name, value in moved.items())
    console.print(
        f"Default ports are in use (a demo or mesh still running? `paysystem status` tells): this demo runs"
        f" with {chosen}. Give other `paysystem` commands the same variables.",
        soft_wrap=True,
        highlight=False,
    )
    return get_settings()


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, pydantic.ValidationError):  # a bad PAYSYSTEM_* setting: its own words
        return "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
    return " ".join(str(exc).split()) or type(exc).__name__


def _fail(exc: BaseException) -> NoReturn:
    console.print(f"[bold red]demo failed:[/] {_one_line(exc)}", soft_wrap=True, highlight=False)
    raise SystemExit(1)


def _report(settings: Settings, exc: BaseException) -> None:
    """One line for the person running the demo; the traceback in the logs folder."""
    trace = settings.logs_dir / "demo.log"
    trace.parent.mkdir(parents=True, exist_ok=True)
    with trace.open("a") as out:
        out.write("".join(traceback.format_exception(exc)))
    console.print(f"[bold red]demo failed:[/] {_one_line(exc)} (details: {trace})", soft_wrap=True, highlight=False)


def _walk(settings: Settings, choice: Choice, *, plays: int, videos: int, viewers: int, sellers: int) -> None:
    from entrypoints.cli import batch as batch_cli
    from entrypoints.cli.seed import seed

    base = f"http://127.0.0.1:{settings.http_port}"
    history = choice.history
    console.rule("[bold]1. Seed a realistic data set through the API")
    with _bars() as progress:
        summary = seed(
            url=base,
            sellers=sellers,
            viewers=viewers,
            videos=videos,
            plays=plays,
            days=history.days,
            start_date=history.first_day,
            random_seed=RANDOM_SEED,
            settings=settings,
            progress=progress,
        )
    marker = read_marker(settings.data_dir)
    if marker is not None:
        write_marker(settings.data_dir, dataclasses.replace(marker, seeded=True))
    console.print(
        f"{len(summary.sellers)} sellers, {len(summary.viewers)} viewers, {len(summary.videos)} videos, "
        f"days {summary.first_day} .. {summary.last_day}; playbacks stored {summary.stored}, "
        f"duplicates {summary.duplicates}, rejected {summary.rejected}"
        + (" (all there from the earlier run)" if choice.reused and not summary.stored else "")
    )

    console.rule("[bold]2. Run the batch through Envoy (BatchService.RunJob, streamed progress)")
    _ensure_admin(settings)

    def run_batch() -> None:
        events = batch_cli.remote_events(base, ADMIN[0], ADMIN[1], "daily", None, None, False, None)
        final = batch_cli.show_progress(events, None, plain=not console.is_terminal, total_days=None)
        if final is None or final.type.value != "JOB_FINISHED":
            raise RuntimeError("the batch did not finish")

    run_batch()
    # Counted while the batch ran (domain.counted_views over the seeded playbacks).
    console.print(f"The seeded playbacks under the counted-view rules: {summary.rules_line()}")

    console.rule("[bold]3. One seller's figures, read as JSON through Envoy")
    seller = summary.demo_seller
    token = _json(base, "POST", "/v1/auth/token", {"username": seller.username, "password": seller.password})[
        "access_token"
    ]
    day = summary.last_day.isoformat()
    for period in ("WEEKLY", "MONTHLY"):
        for metric in ("VIEWS", "WATCH_TIME"):
            path = f"/v1/sellers/{seller.account_id}/top-videos?period={period}&date={day}&metric={metric}"
            _print_top(_json(base, "GET", path, token=token), metric)
        path = f"/v1/sellers/{seller.account_id}/settlements?period={period}&date={day}"
        _print_statement(_json(base, "GET", path, token=token))

    console.rule("[bold]4. Close months: the ledger, payouts and adjustments (docs/ledger.md)")
    admin_token = _json(base, "POST", "/v1/auth/token", {"username": ADMIN[0], "password": ADMIN[1]})["access_token"]
    _ensure_account(settings, INGEST, "INGEST")
    ingest_token = _json(base, "POST", "/v1/auth/token", {"username": INGEST[0], "password": INGEST[1]})["access_token"]
    _ensure_account(settings, CHECKER, "ADMIN")
    checker_token = _json(base, "POST", "/v1/auth/token", {"username": CHECKER[0], "password": CHECKER[1]})[
        "access_token"
    ]
    # A receiver registered for every webhook event before the first close (docs/webhooks.md).
    with demo_finance.WebhookReceiver() as receiver:
        demo_finance.register(base, _json, console, receiver, admin_token)
        last_event = walk_ledger(
            base,
            _json,
            console,
            summary=summary,
            months=history.closed_months,
            admin_token=admin_token,
            checker_token=checker_token,
            ingest_token=ingest_token,
            rerun_batch=run_batch,
            zone=settings.zone,
            bank_folder=Path(os.path.abspath(settings.data_dir)),
        )
        demo_finance.wait_and_print(console, receiver, last_event)

    console.rule("[bold]5. Try it by hand")
    console.print(
        f"[bold]Dashboard: {base}/[/]  sign in as the seller {seller.username} / {seller.password}"
        f" (account {seller.account_id}), or as the admin {ADMIN[0]} / {ADMIN[1]} (#/admin: run the batch,"
        " executions, instances)\n"
        + (f"PAYSYSTEM_DATA_DIR={settings.data_dir} for other commands on this mesh\n" if choice.moved else "")
        + f'TOKEN=$(curl -s -X POST {base}/v1/auth/token -d \'{{"username":"{seller.username}","password":"{seller.password}"}}\''
        " | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')\n"
        f"curl -H \"authorization: Bearer $TOKEN\" '{base}/v1/sellers/{seller.account_id}/top-videos?period=WEEKLY&date={day}&metric=VIEWS'\n"
        f"curl -H \"authorization: Bearer $TOKEN\" '{base}/v1/sellers/{seller.account_id}/settlements?period=MONTHLY&date={day}'\n"
        f"curl -H \"authorization: Bearer $TOKEN\" '{base}/v1/sellers/{seller.account_id}/videos'\n"
        f"curl -H \"authorization: Bearer $TOKEN\" '{base}/v1/videos/{summary.videos[0].video_id}/stats?period=DAILY&from={summary.first_day}&to={day}'\n"
        "paysystem status    # health of every instance and Envoy's view of them",
        soft_wrap=True,
        highlight=False,
    )


def _bars():
    class Bars:
        def __enter__(self) -> Bars:
            self.progress = Progress(
                TextColumn("{task.description:>10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            self.tasks: dict[str, TaskID] = {}
            self.progress.__enter__()
            return self

        def __call__(self, stage: str, done: int, total: int) -> None:
            if stage not in self.tasks:
                self.tasks[stage] = self.progress.add_task(stage, total=total)
            self.progress.update(self.tasks[stage], completed=done)

        def __exit__(self, *exc: Any) -> None:
            self.progress.__exit__(*exc)

    return Bars()


def _ensure_admin(settings: Settings) -> None:
    _ensure_account(settings, ADMIN, "ADMIN")


def _ensure_account(settings: Settings, credentials: tuple[str, str], role: str) -> None:
    engine = db.make_engine(settings)
    try:
        accounts.create_account(
            accounts.sql_unit_of_work(engine),
            credentials[0],
            credentials[1],
            role,
            allowed_roles=(role,),
            clock=clock_for(settings),
        )
    except AccountExists:
        pass
    finally:
        engine.dispose()


def _json(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise DemoCallFailed(method, path, exc.code, exc.read()) from None


def _print_top(top: dict, metric: str) -> None:
    table = Table(
        title=f"Top 5 by {metric}, {top['period']} {top['period_start']} .. {top['period_end']}"
        f" (data through {top['data_through']})"
    )
    for column in ("rank", "video", "title", "views", "watch time (s)"):
        table.add_column(column, justify="left" if column == "title" else "right")
    for video in top["videos"]:
        table.add_row(str(video["rank"]), video["video_id"], video["title"], video["views"], video["watch_time_sec"])
    console.print(table)


def _print_statement(statement: dict) -> None:
    table = Table(
        title=f"Statement {statement['period']} {statement['period_start']} .. {statement['period_end']}: "
        f"total {statement['total']} KRW, payable {statement['payable_krw']} KRW"
    )
    for column in ("video", "views", "ad views", "video revenue", "ad revenue", "amount"):
        table.add_column(column, justify="right")
    lines = statement["lines"]
    for line in lines[:10]:
        table.add_row(
            line["video_id"], line["views"], line["ad_views"], line["video_revenue"], line["ad_revenue"], line["amount"]
        )
    if len(lines) > 10:
        table.add_row(f"... {len(lines) - 10} more", "", "", "", "", "")
    console.print(table)


commands = [demo]
