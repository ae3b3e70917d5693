"""Operator commands: prepare a deployment; make the accounts only an operator may make."""

from __future__ import annotations

import datetime as dt

import click

import migrations
from services.account import service
from services.common import db
from services.common.clock import clock_for
from services.common.settings import get_settings


def _create(username: str, password: str, role: str) -> None:
    settings = get_settings()
    engine = db.make_engine(settings)
    migrations.migrate(engine)
    account = service.create_account(
        service.sql_unit_of_work(engine), username, password, role, allowed_roles=(role,), clock=clock_for(settings)
    )
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


@click.command("disable-account")
@click.option("--username", required=True)
def disable_account(username: str) -> None:
    """Disable an account: it can no longer log in, and its tokens are refused within
    PAYSYSTEM_ACCOUNT_CHECK_TTL_SEC (every service checks the account behind each call)."""
    from domain.errors import NotFound

    settings = get_settings()
    engine = db.make_engine(settings)
    try:
        account, disabled_at_us = service.disable_account(
            service.sql_unit_of_work(engine), username, clock=clock_for(settings)
        )
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    when = dt.datetime.fromtimestamp(disabled_at_us / 1_000_000, dt.UTC).isoformat(timespec="seconds")
    click.echo(
        f"disabled {account.role} {account.username} (account_id {account.account_id}) since {when}; its tokens"
        f" stop working within {settings.account_check_ttl_sec:g} s"
    )


@click.command("set-role")
@click.option("--username", required=True)
@click.option("--role", required=True, help="VIEWER, SELLER, ADMIN or INGEST")
def set_role(username: str, role: str) -> None:
    """Change an account's role (the API's SetRole, for the operator): its tokens issued before
    are refused within PAYSYSTEM_ACCOUNT_CHECK_TTL_SEC; a new log-in gets the new role. The
    last active ADMIN keeps the role."""
    from domain.errors import BadInput, Conflict, NotFound

    settings = get_settings()
    engine = db.make_engine(settings)
    try:
        account, previous = service.set_role_by_username(service.sql_unit_of_work(engine), username, role)
    except (NotFound, BadInput, Conflict) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    if previous == account.role:
        click.echo(f"{account.username} (account_id {account.account_id}) is already {account.role}; nothing changed")
        return
    click.echo(
        f"changed {account.username} (account_id {account.account_id}) from {previous} to {account.role}; its tokens"
        f" stop working within {settings.account_check_ttl_sec:g} s (a new log-in gets the new role)"
    )


commands = [create_admin, create_ingest_account, disable_account, set_role]


@click.command("init")
@click.option("--descriptor-out", type=click.Path(), help="Also write Envoy's descriptor set here.")
def init(descriptor_out: str | None) -> None:
    """Prepare a deployment once: signing keys, database schema (and Envoy's descriptor set)."""
    from pathlib import Path

    from services.common import auth, protogen

    settings = get_settings()
    auth.ensure_keys(settings.keys_dir)
    engine = db.make_engine(settings)
    db.wait_until_reachable(engine, timeout_sec=120)
    migrations.migrate(engine)
    engine.dispose()
    if descriptor_out:
        protogen.build_descriptor_set(Path(descriptor_out))
    click.echo(f"keys in {settings.keys_dir}, schema at the newest revision")


commands.append(init)
