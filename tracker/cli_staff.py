"""The ``staff`` and ``audit`` commands: accounts for IT staff, and checking the audit trail."""

from __future__ import annotations

import secrets
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import accounts, audit
from tracker.db import get_session
from tracker.models import Office, Role

staff = AppGroup("staff", help="Staff accounts.")
audit_group = AppGroup("audit", help="The audit trail.")


def _password() -> str:
    """From a prompt (asked twice) on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@staff.command("create")
@click.argument("username")
@click.option("--office", "office_code", required=True, help="The office's code, e.g. 36.73.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "full_name", default="", help="The person's full name.")
def create(username: str, office_code: str, role: str, full_name: str) -> None:
    """Make an account; the password comes from a prompt or standard input."""
    session = get_session(write=True)
    office = session.scalars(select(Office).where(Office.code == office_code)).first()
    if office is None:
        raise click.UsageError(f"No office has the code {office_code!r}.")
    try:
        account = accounts.create(
            session,
            username=username,
            password=_password(),
            office=office,
            role=Role(role),
            full_name=full_name,
        )
    except accounts.AccountError as error:
        raise click.ClickException(error.message or str(error)) from None
    audit.record(session, "account_created", target=account.username, role=role)
    session.commit()
    click.echo(f"Account {account.username} ({role}, {office.name}) is ready.")


@staff.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Switch an account off; its sessions end at once."""
    session = get_session(write=True)
    account = accounts.find(session, username)
    if account is None:
        raise click.UsageError(f"No account is called {username!r}.")
    accounts.set_active(account, False)
    audit.record(session, "account_off", target=account.username)
    session.commit()
    click.echo(f"Account {account.username} is switched off.")


def demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """One account per role at the demo's first office, each with a new random password."""
    office = session.scalars(select(Office).order_by(Office.id)).first()
    if office is None:
        return []
    made = []
    for role in Role:
        username = f"demo-{role.value}"
        password = secrets.token_urlsafe(12)
        account = accounts.find(session, username)
        if account is None:
            account = accounts.create(
                session, username=username, password=password, office=office, role=role
            )
        else:
            accounts.set_password(account, password)
            accounts.set_active(account, True)
        audit.record(session, "account_demo", target=username, role=role.value)
        made.append((username, password, role.value))
    return made


@audit_group.command("verify")
def verify() -> None:
    """Check the hash chain of the audit trail; name the first row that no longer fits."""
    session = get_session()
    broken = audit.verify(session)
    if broken is not None:
        click.echo(
            f"Audit trail broken at row {broken.id} ({broken.at.isoformat()}, "
            f"{broken.action}): it was changed, or the row before it was removed."
        )
        sys.exit(1)
    click.echo("Audit trail intact.")
