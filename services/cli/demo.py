"""`paysystem demo`: the whole platform with demo data, on the embedded defaults.

Starts the mesh, seeds a realistic data set through the API, runs the batch through Envoy
with live progress, prints one seller's top 5 and weekly and monthly statements, walks the
ledger (services/cli/demo_ledger.py: close, late playbacks, adjustments, payouts), and keeps
serving (until Ctrl-C) so the printed URLs can be tried by hand: the dashboard at
http://127.0.0.1:8080/ (the demo seller's and the admin's sign-in are printed) and curl lines.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.account import service as accounts
from services.cli.demo_ledger import walk_ledger
from services.common import db
from services.common.errors import AccountExists
from services.common.settings import Settings, get_settings
from services.launcher import supervisor

ADMIN = ("demo-admin", "demo-admin-password")
INGEST = ("demo-ingest", "demo-ingest-password")
console = Console()


@click.command("demo")
@click.option("--plays", default=300_000, show_default=True, help="Playbacks to seed.")
@click.option("--days", default=35, show_default=True, help="Days of history, ending yesterday.")
@click.option("--videos", default=300, show_default=True)
@click.option("--viewers", default=300, show_default=True)
@click.option("--sellers", default=20, show_default=True)
@click.option("--exit", "exit_after", is_flag=True, help="Stop the mesh once the demo has printed its figures.")
def demo(plays: int, days: int, videos: int, viewers: int, sellers: int, exit_after: bool) -> None:
    """Start the mesh, seed data, run the batch, print a seller's figures."""
    settings = get_settings()
    supervisor.configure_console_logging()
    outcome = {"ok": False}
    started = time.monotonic()

    def script() -> None:
        try:
            _walk(settings, plays=plays, days=days, videos=videos, viewers=viewers, sellers=sellers)
            outcome["ok"] = True
            console.print(f"[bold green]Demo done in {time.monotonic() - started:.0f} s.[/]")
        except Exception as exc:  # noqa: BLE001 - shown to the person running the demo
            console.print(f"[bold red]demo failed:[/] {exc}")
            exit_after_failure = True
        else:
            exit_after_failure = False
        if exit_after or exit_after_failure:
            os.kill(os.getpid(), signal.SIGTERM)  # the supervisor stops everything in order
        else:
            console.print("The mesh keeps serving; Ctrl-C stops it.")

    mesh = supervisor.Supervisor(settings, on_ready=lambda: threading.Thread(target=script, daemon=True).start())
    mesh.run()  # the main thread supervises: Envoy dies with the thread that spawned it
    raise SystemExit(0 if outcome["ok"] else 1)


def _walk(settings: Settings, *, plays: int, days: int, videos: int, viewers: int, sellers: int) -> None:
    from services.cli import batch as batch_cli
    from services.cli.seed import seed

    base = f"http://127.0.0.1:{settings.http_port}"
    console.rule("[bold]1. Seed a realistic data set through the API")
    today = dt.datetime.now(settings.zone).date()
    with _bars() as progress:
        summary = seed(
            url=base,
            sellers=sellers,
            viewers=viewers,
            videos=videos,
            plays=plays,
            days=days,
            start_date=today - dt.timedelta(days=days),
            random_seed=7,
            settings=settings,
            progress=progress,
        )
    console.print(
        f"{len(summary.sellers)} sellers, {len(summary.viewers)} viewers, {len(summary.videos)} videos, "
        f"days {summary.first_day} .. {summary.last_day}; playbacks stored {summary.stored}, "
        f"duplicates {summary.duplicates}, rejected {summary.rejected}"
    )

    console.rule("[bold]2. Run the batch through Envoy (BatchService.RunJob, streamed progress)")
    _ensure_admin(settings)
    events = batch_cli.remote_events(base, ADMIN[0], ADMIN[1], "daily", None, None, False, None)
    final = batch_cli.show_progress(events, None, plain=not console.is_terminal, total_days=None)
    if final is None or final.type.value != "JOB_FINISHED":
        raise RuntimeError("the batch did not finish")
    # Counted while the batch ran (batch.rules over the seeded playbacks).
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

    def rerun_batch() -> None:
        events = batch_cli.remote_events(base, ADMIN[0], ADMIN[1], "daily", None, None, False, None)
        final = batch_cli.show_progress(events, None, plain=not console.is_terminal, total_days=None)
        if final is None or final.type.value != "JOB_FINISHED":
            raise RuntimeError("the batch did not finish")

    walk_ledger(
        base,
        _json,
        console,
        summary=summary,
        admin_token=admin_token,
        ingest_token=ingest_token,
        rerun_batch=rerun_batch,
        zone=settings.zone,
    )

    console.rule("[bold]5. Try it by hand")
    console.print(
        f"[bold]Dashboard: {base}/[/]  sign in as the seller {seller.username} / {seller.password}"
        f" (account {seller.account_id}), or as the admin {ADMIN[0]} / {ADMIN[1]} (#/admin: run the batch,"
        " executions, instances)\n"
        f'TOKEN=$(curl -s -X POST {base}/v1/auth/token -d \'{{"username":"{seller.username}","password":"{seller.password}"}}\''
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
        def __enter__(self):
            self.progress = Progress(
                TextColumn("{task.description:>10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            self.tasks: dict[str, int] = {}
            self.progress.__enter__()
            return self

        def __call__(self, stage: str, done: int, total: int) -> None:
            if stage not in self.tasks:
                self.tasks[stage] = self.progress.add_task(stage, total=total)
            self.progress.update(self.tasks[stage], completed=done)

        def __exit__(self, *exc):
            return self.progress.__exit__(*exc)

    return Bars()


def _ensure_admin(settings: Settings) -> None:
    _ensure_account(settings, ADMIN, "ADMIN")


def _ensure_account(settings: Settings, credentials: tuple[str, str], role: str) -> None:
    engine = db.make_engine(settings)
    try:
        accounts.create_account(engine, credentials[0], credentials[1], role, allowed_roles=(role,))
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
        raise RuntimeError(f"{method} {path}: HTTP {exc.code} {exc.read()[:300]!r}") from None


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
