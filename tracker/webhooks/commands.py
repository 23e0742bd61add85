"""The ``webhook`` commands: subscribe an office's endpoint, list, rotate a secret, remove."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from tracker.audit.trail import SYSTEM
from tracker.db import unit_of_work
from tracker.errors import WebhookError
from tracker.models import utcnow
from tracker.web.wording import explain
from tracker.webhooks import subscriptions

webhook = AppGroup("webhook", help="Webhooks: an office's endpoints told of its changes.")


@webhook.command("add")
@click.argument("url")
@click.option("--office", "office_code", required=True, help="The office's code, e.g. 36.73.")
@click.option(
    "--events",
    required=True,
    help="Comma-separated: " + ", ".join(subscriptions.KNOWN) + ".",
)
def add(url: str, office_code: str, events: str) -> None:
    """Subscribe URL to the office's events and print its signing secret, once."""
    with unit_of_work() as session:
        try:
            office = subscriptions.find_office(session, office_code)
            made, secret = subscriptions.add(
                session, utcnow(), SYSTEM, office=office, url=url, events=events.split(",")
            )
        except WebhookError as error:
            raise click.UsageError(explain(error)) from None
        summary = f"Webhook {made.id} ({office.code}; {made.events}) → {made.url}"
    click.echo(summary)
    click.echo(f"Signing secret: {secret}")
    click.echo("It is shown only this once: keep it in the receiver's settings now.")


@webhook.command("list")
def list_command() -> None:
    """The active subscriptions: number, office, events, URL, last delivery; never a secret."""
    with unit_of_work() as session:
        found = subscriptions.listed(session)
        for s in found:
            last = (
                s.last_delivery_at.isoformat(timespec="seconds") if s.last_delivery_at else "never"
            )
            rotated = (
                f"  previous secret valid until {s.previous_until.isoformat(timespec='seconds')}"
                if s.previous_until
                else ""
            )
            click.echo(
                f"{s.id}  {s.office.code}  {s.events}  {s.url}  "
                f"made {s.created_at.isoformat(timespec='seconds')} by {s.created_by}  "
                f"last delivery {last}{rotated}"
            )
    click.echo(f"Webhooks: {len(found)}")


@webhook.command("rotate")
@click.argument("subscription_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
def rotate(subscription_id: int) -> None:
    """Print a new signing secret; the previous one still signs for a day."""
    now = utcnow()
    with unit_of_work() as session:
        try:
            found = subscriptions.find(session, subscription_id)
            secret = subscriptions.rotate(session, now, SYSTEM, found)
        except WebhookError as error:
            raise click.UsageError(explain(error)) from None
    click.echo(f"Webhook {subscription_id}: new signing secret: {secret}")
    until = now + subscriptions.OVERLAP
    click.echo(f"Deliveries carry signatures by both secrets until {until:%Y-%m-%d %H:%M} UTC.")


@webhook.command("remove")
@click.argument("subscription_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
def remove(subscription_id: int) -> None:
    """Remove a subscription; its deliveries still waiting are cancelled."""
    with unit_of_work() as session:
        try:
            found = subscriptions.find(session, subscription_id)
            cancelled = subscriptions.remove(session, utcnow(), SYSTEM, found)
        except WebhookError as error:
            raise click.UsageError(explain(error)) from None
    click.echo(f"Webhook {subscription_id} is removed ({cancelled} waiting deliveries cancelled).")
