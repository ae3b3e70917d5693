"""`paysystem audit verify`: recompute the audit log's hash chain (DESIGN.md section 2b) and
name the first bad entry. In-process against the configured database, like `paysystem close`:
the operator's shell is trusted. The rules: domain/audit_chain.py; the walk:
services/audit/service.verify_chain. Exit code 0 when the chain is whole, 1 when it is not."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from entrypoints.cli.local import local_engine

console = Console()


@click.group("audit")
def audit() -> None:
    """The audit log of admin and money actions."""


@audit.command("verify")
def verify() -> None:
    """Recompute the audit log's hash chain: OK with the count, or the first bad entry."""
    from services.audit import service

    _, engine = local_engine("audit-cli")
    progress = Progress(
        TextColumn("[bold]audit verify"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    try:
        with progress:
            task = progress.add_task("entries", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            verdict = service.verify_chain(service.sql_unit_of_work(engine), report)
    finally:
        engine.dispose()
    if verdict.ok:
        console.print(f"OK: {verdict.entries:,} entries, the chain is whole")
        return
    console.print(
        f"BAD: entry {verdict.bad_seq} {verdict.problem}: {verdict.detail}"
        f" ({verdict.entries:,} entries before it are whole)"
    )
    sys.exit(1)


commands = [audit]
