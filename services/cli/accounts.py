"""Accounts only an operator may make: admins and ingest service accounts."""

from __future__ import annotations

import click

from services.account import service
from services.common import db
from services.common.settings import get_settings


def _create(username: str, password: str, role: str) -> None:
    settings = get_settings()
    engine = db.make_engine(settings)
    db.migrate(engine)
    account = service.create_account(engine, username, password, role, allowed_roles=(role,))
    click.echo(f"created {role} {account.username} (account_id {account.account_id})")


@click.command("create-admin")
@click.option("--username", required=True)
@click.password_option(help="8-128 characters; prompted if not given")
def create_admin(username: str, password: str) -> None:
    """Create an ADMIN account (not possible through the API)."""
    _create(username, password, "ADMIN")


@click.command("create-ingest-account")
@click.option("--username", required=True)
@click.password_option(help="8-128 characters; prompted if not given")
def create_ingest_account(username: str, password: str) -> None:
    """Create an INGEST service account, allowed to record playbacks for any viewer."""
    _create(username, password, "INGEST")


commands = [create_admin, create_ingest_account]
