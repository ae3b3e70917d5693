"""`paysystem batch`: run the batch with live progress, list executions, recover crashes.

`run` works in-process against the configured database by default (no mesh needed); with
`--via URL` it calls BatchService.RunJob through Envoy instead, logging in as an admin.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import sys
from collections.abc import Iterator
from urllib.parse import urlparse

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from batch.jobs.model import EventType, JobEvent
from entrypoints.cli.local import local_engine

console = Console()
if not console.is_terminal:  # piped or captured: wide lines rather than wrapped ones
    console.width = 200
err_console = Console(stderr=True)


def _day(ctx, param, value):
    if value is None:
        return None
    from domain.errors import BadDate
    from domain.periods import parse_day

    try:
        return parse_day(value, param.name)
    except BadDate as exc:
        raise click.BadParameter(str(exc)) from None


def _local_engine():
    return local_engine("batch-cli")


@click.group("batch")
def batch() -> None:
    """Run the statistics and settlement batch, and inspect its executions."""


@batch.command("run")
@click.option(
    "--date", "date", callback=_day, help="First local day YYYY-MM-DD; omitted: every new or stale day up to yesterday."
)
@click.option("--to", "to_date", callback=_day, help="Last local day, inclusive (default: --date).")
@click.option("--rerun", is_flag=True, help="Run days whose instance already completed again.")
@click.option(
    "--partitions", type=click.IntRange(min=1), help="Partitions of a new instance (default: the worker count)."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Parallel partitions, in-process only (default: PAYSYSTEM_BATCH_WORKERS).",
)
@click.option("--job", default="daily", show_default=True)
@click.option(
    "--via", metavar="URL", help="Call BatchService.RunJob through Envoy at URL (e.g. http://127.0.0.1:8080)."
)
@click.option("--username", help="Admin username, with --via.")
@click.option("--password", help="Admin password, with --via (prompted if missing).")
@click.option(
    "--plain", is_flag=True, help="One line per event instead of progress bars (the default when not a terminal)."
)
def run(date, to_date, rerun, partitions, workers, job, via, username, password, plain) -> None:
    """Run a job: every day of [--date, --to] in order, or catch up on new and stale days."""
    if to_date is not None and date is None:
        raise click.BadParameter("--to needs --date", param_hint="--to")
    if via:
        if not username:
            raise click.BadParameter("--via needs --username (an admin account)", param_hint="--username")
        if password is None:
            password = click.prompt("password", hide_input=True)
        events = remote_events(via, username, password, job, date, to_date, rerun, partitions)
        runner = None
    else:
        from batch.wiring import runner_for
        from domain.errors import DomainError
        from services.common.clock import clock_for

        settings, engine = _local_engine()
        runner = runner_for(settings, engine, workers=workers)
        today = clock_for(settings).today(settings.zone)
        try:
            events = runner.run(job, date, to_date, rerun=rerun, partitions=partitions, today=today)
            events = _first_checked(events)
        except DomainError as exc:
            err_console.print(f"[red]refused:[/red] {exc}")
            sys.exit(2)
    final = show_progress(events, runner, plain or not console.is_terminal, total_days=_span(date, to_date))
    sys.exit(0 if final is not None and final.type is EventType.JOB_FINISHED else 1)


def _span(date, to_date) -> int | None:
    if date is None:
        return None
    return ((to_date or date) - date).days + 1


def _first_checked(events: Iterator[JobEvent]) -> Iterator[JobEvent]:
    """Pulls the first event now, so a refusal (already running) is reported as such."""
    first = next(events)

    def chained():
        yield first
        yield from events

    return chained()


def show_progress(events: Iterator[JobEvent], runner, plain: bool, total_days: int | None) -> JobEvent | None:
    final = None
    view = PlainView() if plain else BarsView(total_days)
    previous = signal.getsignal(signal.SIGINT)
    if runner is not None:
        # First Ctrl-C: stop cleanly (running partitions finish, the execution ends STOPPED
        # and is restartable); a second one quits at once (then `batch recover`).
        def on_interrupt(_signum, _frame):
            signal.signal(signal.SIGINT, signal.default_int_handler)
            runner.request_stop()
            view.note("[yellow]stopping: running partitions finish, no new ones start (Ctrl-C again to quit)[/yellow]")

        signal.signal(signal.SIGINT, on_interrupt)
    try:
        with view:
            for event in events:
                view.update(event)
                if event.final:
                    final = event
    finally:
        if runner is not None:
            signal.signal(signal.SIGINT, previous)
    if final is None:
        err_console.print("[red]the event stream ended without a final event (connection cut?)[/red]")
    else:
        colour = "green" if final.type is EventType.JOB_FINISHED else "red"
        console.print(
            f"[{colour}]{final.type.value}[/{colour}] {final.day}: {final.message}"
            f" (rows read {final.rows_read}, written {final.rows_written};"
            f" last execution {final.job_execution_id})"
        )
    return final


class PlainView:
    """One line per event (`--plain`, or when the output is not a terminal)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def note(self, text: str) -> None:
        console.print(text)

    def update(self, e: JobEvent) -> None:
        if e.final:
            return
        parts = [e.type.value, e.day]
        if e.job_execution_id:
            parts.append(f"execution={e.job_execution_id}")
        if e.partition_key:
            parts.append(f"partition={e.partition_key}")
        elif e.is_stream_limit_progress:
            parts.append("step=stream-limit")
        if e.type in (EventType.PARTITION_FINISHED, EventType.JOB_FINISHED, EventType.JOB_FAILED):
            parts.append(f"rows_read={e.rows_read} rows_written={e.rows_written}")
        if e.elapsed_ms:
            parts.append(f"elapsed={e.elapsed_ms}ms")
        if e.partitions_total:
            parts.append(f"partitions={e.partitions_done}/{e.partitions_total}")
        if e.message:
            parts.append(e.message)
        console.print(" ".join(parts), markup=False, highlight=False)


class BarsView:
    """An overall bar (days), a bar for the current day (partitions), one per partition."""

    def __init__(self, total_days: int | None) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.overall = self.progress.add_task("days", total=total_days, info="")
        self.day_task: TaskID | None = None
        self.partitions: dict[str, TaskID] = {}  # and "": the day's stream-limit step, once it ticked
        self.stream_note: str | None = None  # while that step runs: the engine's latest progress of it

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        return self.progress.__exit__(*exc)

    def note(self, text: str) -> None:
        self.progress.console.print(text)

    def _reset_day(self) -> None:
        for task in self.partitions.values():
            self.progress.remove_task(task)
        self.partitions.clear()
        if self.day_task is not None:
            self.progress.remove_task(self.day_task)
            self.day_task = None

    def _stream_limit(self, e: JobEvent) -> None:
        """The stream-limit step's bar: running while it ticks, complete at the day's next
        event (its partitions start), the engine's last counts kept; a failed step's stays."""
        p = self.progress
        if e.is_stream_limit_progress:
            if "" not in self.partitions:
                self.partitions[""] = p.add_task("  stream limit", total=1, info="")
            self.stream_note = e.message or self.stream_note or ""
            p.update(self.partitions[""], info=progress_info(e))
        elif self.stream_note is not None:
            if e.type is not EventType.JOB_FAILED:
                p.update(self.partitions[""], completed=1, info=", ".join(filter(None, ("done", self.stream_note))))
            self.stream_note = None

    def update(self, e: JobEvent) -> None:
        p = self.progress
        self._stream_limit(e)
        if e.type is EventType.JOB_STARTED:
            self._reset_day()
            self.day_task = p.add_task(
                f"{e.day} (execution {e.job_execution_id})",
                total=e.partitions_total,
                completed=e.partitions_done,
                info=e.message,
            )
        elif e.type is EventType.PARTITION_STARTED:
            self.partitions[e.partition_key] = p.add_task(f"  {e.partition_key}", total=1, info=e.message)
        elif e.type is EventType.PARTITION_PROGRESS and e.partition_key in self.partitions:
            p.update(self.partitions[e.partition_key], info=progress_info(e))
        elif e.type is EventType.PARTITION_FINISHED and e.partition_key in self.partitions:
            p.update(
                self.partitions[e.partition_key],
                completed=1,
                info=f"{e.rows_read} plays -> {e.rows_written} rows in {e.elapsed_ms} ms",
            )
            if self.day_task is not None:
                p.update(self.day_task, completed=e.partitions_done)
        elif e.type is EventType.PARTITION_FAILED and e.partition_key in self.partitions:
            p.update(
                self.partitions[e.partition_key],
                description=f"  [red]{e.partition_key} FAILED[/red]",
                info=e.message[:100],
            )
        elif e.type in (EventType.JOB_FINISHED, EventType.JOB_FAILED, EventType.JOB_SKIPPED) and not e.final:
            colour = {"JOB_FINISHED": "green", "JOB_FAILED": "red", "JOB_SKIPPED": "yellow"}[e.type.value]
            p.console.print(
                f"[{colour}]{e.day} {e.status}[/{colour}] execution {e.job_execution_id}:"
                f" {e.rows_read} plays read, {e.rows_written} rows written,"
                f" {e.partitions_done}/{e.partitions_total} partitions, {e.elapsed_ms / 1000:.1f} s"
                + (f" - {e.message}" if e.message else "")
            )
            p.advance(self.overall)
            if e.type is not EventType.JOB_FAILED:
                self._reset_day()


def progress_info(e: JobEvent) -> str:
    """A running partition's bar text: how long, and the engine's progress when it has one
    (the Spark engine's tasks, stages and rows read)."""
    running = f"running {e.elapsed_ms / 1000:.1f} s"
    return f"{running}, {e.message}" if e.message else running


def remote_events(url, username, password, job, date, to_date, rerun, partitions) -> Iterator[JobEvent]:
    import grpc

    from batch.jobs.dispatch import event_from_message
    from paysystem.v1 import account_pb2, account_pb2_grpc, batch_pb2, batch_pb2_grpc

    parsed = urlparse(url if "://" in url else f"http://{url}")
    target = parsed.netloc or parsed.path
    channel = grpc.insecure_channel(target)
    try:
        token = (
            account_pb2_grpc.AccountServiceStub(channel)
            .Login(account_pb2.LoginRequest(username=username, password=password), timeout=10)
            .access_token
        )
        stream = batch_pb2_grpc.BatchServiceStub(channel).RunJob(
            batch_pb2.RunJobRequest(
                job=job,
                date=date.isoformat() if date else "",
                to_date=to_date.isoformat() if to_date else "",
                rerun=rerun,
                partitions=partitions or 0,
            ),
            metadata=[("authorization", f"Bearer {token}")],
        )
        for message in stream:
            yield event_from_message(message)
    except grpc.RpcError as exc:
        err_console.print(f"[red]{exc.code().name}[/red]: {exc.details()}")
        sys.exit(2)
    finally:
        channel.close()


@batch.command("status")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def status(limit: int) -> None:
    """Recent job executions, newest first, with their partitions' outcome."""
    from batch.jobs import repository

    _, engine = _local_engine()
    with engine.connect() as conn:
        executions = repository.recent_executions(conn, limit)
    table = Table(
        "execution",
        "job",
        "parameters",
        "kind",
        "status",
        "partitions",
        "rows read",
        "started (UTC)",
        "elapsed",
        "error",
    )
    for e in executions:
        latest = {p.partition_key: p for p in e.partitions}  # ordered by attempt: the newest wins
        counts: dict[str, int] = {}
        for p in latest.values():
            counts[p.status.name] = counts.get(p.status.name, 0) + 1
        if len(e.partitions) > len(latest):  # dispatch mode: attempts lost with their worker
            counts["RETRIES"] = len(e.partitions) - len(latest)
        started = e.started_at_us or e.created_at_us
        end = e.ended_at_us or e.heartbeat_at_us
        table.add_row(
            str(e.job_execution_id),
            e.job_name,
            " ".join(f"{k}={v}" for k, v in sorted(e.parameters.items())),
            e.run_kind.value,
            e.status.name,
            " ".join(f"{k.lower()}={v}" for k, v in sorted(counts.items())) or "-",
            str(sum(p.rows_read for p in e.partitions)),
            dt.datetime.fromtimestamp(started / 1e6, dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
            f"{(end - started) / 1e6:.1f} s" if end else "-",
            (e.exit_message or "")[:80],
        )
    console.print(table)


@batch.command("recover")
@click.option(
    "--stale-after",
    "stale_after",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds without heartbeat after which an execution is crashed (a gone local owner is crashed at once).",
)
def recover(stale_after: float) -> None:
    """Mark crashed executions FAILED so that a restart can proceed (no hand-editing of tables)."""
    from batch.jobs.recovery import recover as recover_executions

    _, engine = _local_engine()
    recovered, alive = recover_executions(engine, stale_after_sec=stale_after)
    for r in recovered:
        keys = ", ".join(r.partitions_failed) or "none"
        console.print(
            f"recovered execution {r.job_execution_id} ({r.job_name} {json.dumps(r.parameters)}):"
            f" {r.reason}; marked FAILED with unfinished partitions: {keys}"
        )
    for a in alive:
        console.print(
            f"left running: execution {a.job_execution_id} (owner {a.owner},"
            f" heartbeat {a.heartbeat_age_sec:.1f} s ago): {a.reason}"
        )
    if not recovered and not alive:
        console.print("no running executions: nothing to recover")
    elif recovered:
        console.print("run `paysystem batch run` again to restart them (only unfinished partitions run)")


commands = [batch]
