"""Operator commands: a seller's statement or ledger as the CSV file the API serves.

The commands call the same use cases in-process (services/settlement/csv_export.py) on the
deployment's database, as an operator (the ADMIN role), so the file holds the same bytes as
GET /v1/sellers/{id}/settlements:csv or ledger:csv. They read no cache: the figures are the
database's now.
"""

from __future__ import annotations

from pathlib import Path

import click

# The CLI's principal: whoever can run it on the deployment reads any seller's figures.
OPERATOR = ("operator", "ADMIN")


def _write(export, out: str | None) -> None:
    path = Path(out) if out else Path(export.filename)
    path.write_bytes(export.data)
    click.echo(f"wrote {path} ({len(export.data)} bytes)")


def _run(make):
    """Runs make(engine, principal) against the deployment's database; a refused request
    (bad argument, no such month) is a one-line error, exit code 2."""
    from domain.errors import DomainError
    from entrypoints.cli.local import local_engine
    from services.common import auth

    settings, engine = local_engine("export-cli")
    try:
        return make(settings, engine, auth.Principal(0, *OPERATOR))
    except DomainError as exc:
        click.echo(f"refused: {exc}", err=True)
        raise SystemExit(2) from None
    finally:
        engine.dispose()


@click.group("export")
def export() -> None:
    """Write a seller's statement or ledger as a CSV file (UTF-8 with a byte-order mark)."""


@export.command("statement")
@click.option("--seller", "seller_id", type=int, required=True, help="The seller's account id.")
@click.option("--period", type=click.Choice(["DAILY", "WEEKLY", "MONTHLY"], case_sensitive=False), default="MONTHLY")
@click.option("--date", "date_text", required=True, help="A day YYYY-MM-DD in the period.")
@click.option("--out", help="File to write (default: the API's file name, in the current directory).")
def statement(seller_id: int, period: str, date_text: str, out: str | None) -> None:
    """The statement of the day, ISO week or month containing --date."""
    from batch.published import read_data_state
    from services.common.breakers import db_breaker
    from services.common.clock import clock_for
    from services.readpath.cache import Cache
    from services.readpath.readside import ReadSide
    from services.settlement import csv_export

    def make(settings, engine, principal):
        read = ReadSide(
            engine=engine,
            db=db_breaker(),
            cache=Cache(None),
            zone=settings.zone,
            read_state=read_data_state,
            clock=clock_for(settings),
        )
        return csv_export.statement_csv(read, principal, seller_id, period.upper(), date_text)

    _write(_run(make), out)


@export.command("ledger")
@click.option("--seller", "seller_id", type=int, required=True, help="The seller's account id.")
@click.option("--from", "from_text", required=True, help="First month YYYY-MM.")
@click.option("--to", "to_text", required=True, help="Last month YYYY-MM, inclusive.")
@click.option("--out", help="File to write (default: the API's file name, in the current directory).")
def ledger(seller_id: int, from_text: str, to_text: str, out: str | None) -> None:
    """Every ledger entry posted in the months [--from, --to], then their sum."""
    from services.settlement import csv_export

    def make(settings, engine, principal):
        return csv_export.ledger_csv(engine, principal, seller_id, from_text, to_text)

    _write(_run(make), out)


commands = [export]
