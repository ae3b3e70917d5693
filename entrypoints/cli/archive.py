"""`paysystem archive month|restore YYYY-MM --dir DIR`, `paysystem plays partitions` and
`paysystem plays export`: the retention commands of the play history (docs/scaling.md, "History
that grows" and "The Parquet history").

In-process against the configured database, like `paysystem close`: the operator's shell is
trusted. The use cases live in services/video/archive.py, partitions.py and parquet_history.py.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from entrypoints.cli.local import local_engine

console = Console()


def _month(ctx, param, value):
    from domain.errors import BadDate
    from domain.periods import parse_month

    try:
        return parse_month(value, param.name)
    except BadDate as exc:
        raise click.BadParameter(str(exc)) from None


@click.group("archive")
def archive() -> None:
    """Archive the raw playbacks of closed, sealed months to files, and restore them."""


@archive.command("month")
@click.argument("month", callback=_month)
@click.option(
    "--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path), help="Where the files go."
)
def archive_month(month, directory: Path) -> None:
    """Write MONTH's playbacks (YYYY-MM) to DIR/plays-YYYY-MM/ (Parquet), verify, remove them."""
    from domain.errors import DomainError
    from services.common.clock import clock_for
    from services.video import archive as archival

    settings, engine = local_engine("archive-cli")
    try:
        result = archival.archive_month(engine, month, directory, zone=settings.zone, clock=clock_for(settings))
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    what = "archived" if result.changed else "already archived"
    console.print(
        f"{result.month} {what}: {result.plays:,} plays in {result.path} (sha256 {result.sha256});"
        f" {result.kept_plays:,} of its last evening kept for the next month's first day"
    )


@archive.command("restore")
@click.argument("month", callback=_month)
@click.option(
    "--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path), help="Where the file is."
)
def restore_month(month, directory: Path) -> None:
    """Put MONTH's archived playbacks back, identical, after checking the files' checksums
    (a Parquet folder, or a plays-YYYY-MM.jsonl.gz of the first format)."""
    from domain.errors import DomainError
    from services.video import archive as archival

    _, engine = local_engine("archive-cli")
    try:
        result = archival.restore_month(engine, month, directory)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    if result.status == "RESTORED":
        console.print(f"{result.month} restored: {result.plays:,} plays from {result.path} (sha256 checked)")
    else:
        console.print(f"{result.month} is not archived: nothing to restore")


@click.group("plays")
def plays() -> None:
    """The play history's storage."""


@plays.command("partitions")
@click.option("--ahead", type=click.IntRange(min=0), default=3, show_default=True, help="Months after this one.")
def partitions(ahead: int) -> None:
    """Create the monthly partitions of plays (MySQL/MariaDB) up to AHEAD months ahead."""
    from services.common.clock import clock_for
    from services.video import partitions as plays_partitions

    settings, engine = local_engine("plays-cli")
    try:
        added = plays_partitions.ensure_partitions(engine, clock_for(settings).today(settings.zone), ahead)
        with engine.connect() as conn:
            names = plays_partitions.existing_partitions(conn)
    finally:
        engine.dispose()
    if not names:
        console.print("plays is not partitioned here (SQLite): nothing to do")
        return
    console.print(f"created: {', '.join(added) if added else 'none'}; partitions: {', '.join(names)}")


def _day(ctx, param, value):
    from domain.errors import BadDate
    from domain.periods import parse_day

    try:
        return parse_day(value, param.opts[0])
    except BadDate as exc:
        raise click.BadParameter(str(exc)) from None


@plays.command("export")
@click.option("--from", "first", required=True, callback=_day, help="The first day, YYYY-MM-DD.")
@click.option("--to", "last", required=True, callback=_day, help="The last day, YYYY-MM-DD (inclusive).")
@click.option("--to-dir", "to_dir", required=True, help="The history's folder: a path or a file:// URI.")
def export(first, last, to_dir: str) -> None:
    """Write the days FROM..TO of plays to a Parquet history (local_day=YYYY-MM-DD/ folders),
    each day replacing its folder, checked by checksum and recorded in _manifest.json."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from domain.errors import DomainError
    from services.common.clock import clock_for
    from services.video import parquet_history

    settings, engine = local_engine("plays-cli")
    progress = Progress(
        TextColumn("[bold]export"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    rows = 0
    try:
        days = (last - first).days + 1
        with progress:
            task = progress.add_task(f"{first}..{last}", total=max(days, 0))

            def report(done) -> None:
                nonlocal rows
                rows += done.rows
                progress.update(task, advance=1, description=f"{done.day}: {done.rows:,} plays")

            try:
                written = parquet_history.export_days(
                    engine, first, last, to_dir, today=clock_for(settings).today(settings.zone), progress=report
                )
            except (DomainError, OSError) as exc:  # OSError: the folder cannot be written
                raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    where = parquet_history.history_dir(to_dir)
    console.print(
        f"exported {len(written)} days ({rows:,} plays) to {where} (sha256 per day in {where / '_manifest.json'})"
    )


commands = [archive, plays]
