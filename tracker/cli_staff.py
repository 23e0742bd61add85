"""The ``staff``, ``apikey`` and ``audit`` commands: accounts and API keys for IT staff, and
checking the audit trail."""

from __future__ import annotations

import datetime as dt
import secrets
import sys
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.accounts import operations as accounts
from tracker.api import keys as api_keys
from tracker.audit import search as audit_search
from tracker.audit import trail as audit
from tracker.audit.trail import SYSTEM
from tracker.db import unit_of_work
from tracker.errors import AccountError, ApiKeyError
from tracker.models import ApiKey, KeyScope, Office, Role, utcnow
from tracker.web.wording import explain

staff = AppGroup("staff", help="Staff accounts.")
audit_group = AppGroup("audit", help="The audit trail.")
apikey = AppGroup("apikey", help="API keys for other systems of an office (a SIAK bridge, an app).")


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
    with unit_of_work() as session:
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
        except AccountError as error:
            raise click.ClickException(explain(error)) from None
        audit.record(
            session, "account_created", actor=SYSTEM, at=utcnow(), target=account.username,
            role=role,
        )  # fmt: skip
    click.echo(f"Account {account.username} ({role}, {office.name}) is ready.")


@staff.command("deactivate")
@click.argument("username")
def deactivate(username: str) -> None:
    """Switch an account off; its sessions end at once."""
    with unit_of_work() as session:
        account = accounts.find(session, username)
        if account is None:
            raise click.UsageError(f"No account is called {username!r}.")
        accounts.set_active(account, False)
        audit.record(session, "account_off", actor=SYSTEM, at=utcnow(), target=account.username)
    click.echo(f"Account {account.username} is switched off.")


@apikey.command("create")
@click.argument("name")
@click.option(
    "--office",
    "office_codes",
    multiple=True,
    required=True,
    help="An office the key holds, by code (repeat for several).",
)
@click.option("--scope", type=click.Choice([s.value for s in KeyScope]), required=True)
def apikey_create(name: str, office_codes: tuple[str, ...], scope: str) -> None:
    """Make a key and print it, once: only its hash is kept."""
    with unit_of_work() as session:
        offices = session.scalars(select(Office).where(Office.code.in_(office_codes))).all()
        unknown = sorted(set(office_codes) - {o.code for o in offices})
        if unknown:
            raise click.UsageError(f"No office has the code {unknown[0]!r}.")
        try:
            key, token = api_keys.create(
                session, utcnow(), SYSTEM, name=name, offices=offices, scope=KeyScope(scope)
            )
        except ApiKeyError as error:
            raise click.ClickException(explain(error)) from None
        codes = ", ".join(o.code for o in key.offices)
    click.echo(f"API key {key.name} ({scope}; {codes}):")
    click.echo(token)
    click.echo("It is shown only this once: keep it in the other system's settings now.")


@apikey.command("list")
def apikey_list() -> None:
    """Every key: its name, prefix (never the key), scope, offices, and when it was last used."""
    with unit_of_work() as session:
        found = session.scalars(select(ApiKey).order_by(ApiKey.name)).all()
        for key in found:
            state = "revoked " + _when(key.revoked_at) if key.revoked_at else "active"
            click.echo(
                f"{key.name}  {key.prefix}…  {key.scope.value}  "
                f"{','.join(o.code for o in key.offices)}  {state}  "
                f"made {_when(key.created_at)} by {key.created_by}  "
                f"last used {_when(key.last_used_at)}"
            )
    click.echo(f"Keys: {len(found)}")


def _when(moment: dt.datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment is not None else "never"


@apikey.command("revoke")
@click.argument("name")
def apikey_revoke(name: str) -> None:
    """Revoke a key: every call with it is refused from now on."""
    with unit_of_work() as session:
        key = api_keys.find(session, name)
        if key is None:
            raise click.UsageError(f"No API key is called {name!r}.")
        try:
            api_keys.revoke(session, utcnow(), SYSTEM, key)
        except ApiKeyError as error:
            raise click.ClickException(explain(error)) from None
    click.echo(f"API key {name} is revoked.")


def demo_accounts(session: Session, now: dt.datetime) -> list[tuple[str, str, str]]:
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
        audit.record(
            session, "account_demo", actor=SYSTEM, at=now, target=username, role=role.value
        )
        made.append((username, password, role.value))
    return made


def _expectation(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        return audit.parse_expectation(value)
    except ValueError as error:
        message = f"{error}; write DIGEST:COUNT as `audit verify` prints them"
        raise click.BadParameter(message) from None


@audit_group.command("verify")
@click.option(
    "--expect",
    metavar="DIGEST:COUNT",
    callback=_expectation,
    help="A head printed earlier: fail when the trail no longer reaches it (a cut at the end).",
)
def verify(expect: tuple[str, int] | None) -> None:
    """Check the hash chain of the audit trail; name the first row that no longer fits, and
    print the head (last digest and row count) to keep elsewhere."""
    with unit_of_work() as session:
        verdict = audit.check(session, expected_count=expect[1] if expect else None)
    broken = verdict.broken
    if broken is not None:
        click.echo(
            f"Audit trail broken at row {broken.id} ({broken.at.isoformat()}, "
            f"{broken.action}): it was changed, or the row before it was removed."
        )
        sys.exit(1)
    cut = verdict.cut(*expect) if expect else None
    if cut is not None:
        click.echo(f"Audit trail cut: {cut}.")
        click.echo(f"head {verdict.head} count {verdict.count}")
        sys.exit(1)
    click.echo("Audit trail intact.")
    click.echo(f"head {verdict.head} count {verdict.count}")


@audit_group.command("search")
@click.option("--nik", "nik_text", help="An NIK: who searched for it.")
@click.option("--name", "name_text", help="A name exactly as searched (any case and spacing).")
def search(nik_text: str | None, name_text: str | None) -> None:
    """Staff searches for an NIK or a name: when, who, and how many requests they found."""
    if (nik_text is None) == (name_text is None):
        raise click.UsageError("Give either --nik or --name.")
    if nik_text is not None:
        digits = audit_search.normalise_nik(nik_text)
        if digits is None:
            raise click.BadParameter("an NIK has 16 digits", param_hint="--nik")
        kind, normalised = "nik", digits
    else:
        kind, normalised = "name", audit_search.normalise_name(name_text or "")
    key = current_app.config["AUDIT_HMAC_KEY"]
    with unit_of_work() as session:
        rows = audit_search.searches_for(session, kind, normalised, key)
    for row in rows:
        click.echo(
            f"{row.at.isoformat(timespec='seconds')}  {row.actor}  {row.action}  "
            f"{row.address or '-'}  found {row.details.get('found', '?')}"
        )
    click.echo(f"Searches: {len(rows)}")
