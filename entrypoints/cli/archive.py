"""`paysystem archive month|restore YYYY-MM --dir DIR` and `paysystem plays partitions`:
the retention commands of the play history (docs/scaling.md, "History that grows").

In-process against the configured database, like `paysystem close`: the operator's shell is
trusted. The use cases live in services/video/archive.py and plays_partitions.py.
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
    """Write MONTH's playbacks (YYYY-MM) to DIR/plays-YYYY-MM.jsonl.gz, verify, remove them."""
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
    """Put MONTH's archived playbacks back, identical, after checking the file's checksum."""
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


commands = [archive, plays]
