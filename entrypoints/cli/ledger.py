"""`paysystem close --month YYYY-MM`: close a month from the operator's shell, with progress.

In-process against the configured database, like `paysystem batch run`: the same use case as
POST /v1/settlement/closings (services/settlement/closing.py). The operator's shell is trusted
as an admin; the closing records closed_by = 0 ("the operator CLI") instead of an account.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from entrypoints.cli.local import local_engine

console = Console()
OPERATOR = 0  # closed_by of a close run from the CLI


@click.command("close")
@click.option("--month", required=True, help="The month to close, YYYY-MM (the one after the last closed month).")
def close(month: str) -> None:
    """Close a month for every seller: freeze its lines, post the ledger entries and payouts."""
    from domain.errors import DomainError
    from domain.money import to_api_string
    from services.common.auth import Principal
    from services.common.clock import clock_for
    from services.settlement import closing

    settings, engine = local_engine("close-cli")
    progress = Progress(
        TextColumn("[bold]close {task.fields[month]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    try:
        with progress:
            task = progress.add_task("starting", total=len(closing.STEPS), month=month)

            def report(step: int, steps: int, what: str) -> None:
                progress.update(task, completed=step - 1, total=steps, description=what)

            try:
                result = closing.close_month(
                    closing.sql_unit_of_work(engine),
                    Principal(OPERATOR, "operator-cli", "ADMIN"),
                    month,
                    zone=settings.zone,
                    progress=report,
                    clock=clock_for(settings),
                )
            except DomainError as exc:
                raise click.ClickException(str(exc)) from None
            progress.update(task, completed=len(closing.STEPS), description="closed")
    finally:
        engine.dispose()
    console.print(
        f"{month} closed: {result.lines:,} lines of {result.sellers:,} sellers, earnings"
        f" {to_api_string(result.earnings)} KRW, {result.adjustment_lines:,} adjustments"
        f" ({to_api_string(result.adjustments)} KRW), {result.payouts_created:,} payouts"
        f" ({result.payouts_krw:,} KRW)"
    )


commands = [close]
