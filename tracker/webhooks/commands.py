"""The ``webhook`` commands: subscribe an office's endpoint, list, rotate a secret, remove,
and seal the stored secrets again under the newest ``WEBHOOK_SECRET_KEY``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from tracker.audit.trail import SYSTEM
from tracker.db import unit_of_work
from tracker.errors import WebhookError
from tracker.models import utcnow
from tracker.web.wording import explain
from tracker.webhooks import sealing, subscriptions

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
                session, utcnow(), SYSTEM, office=office, url=url, events=events.split(","),
                ring=sealing.keyring(current_app.config),
            )  # fmt: skip
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
            secret = subscriptions.rotate(
                session, now, SYSTEM, found, ring=sealing.keyring(current_app.config)
            )
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


@webhook.command("reseal")
def reseal() -> None:
    """Seal every stored signing secret by WEBHOOK_SECRET_KEY: those kept in the clear by an
    earlier release, and those sealed by a key now in WEBHOOK_SECRET_KEY_FALLBACKS (after
    it, the old key can be dropped). Receivers keep their secrets; nothing is shown."""
    with unit_of_work() as session:
        done = subscriptions.reseal(session, utcnow(), SYSTEM, sealing.keyring(current_app.config))
    click.echo(f"Secrets sealed again: {done.sealed}; already sealed by the current key: "
               f"{done.current}.")  # fmt: skip
    if done.unreadable:
        listed = ", ".join(map(str, done.unreadable))
        raise click.ClickException(
            f"No key opens the secrets of webhook {listed}: put the key they were sealed by in "
            "WEBHOOK_SECRET_KEY_FALLBACKS, or rotate their secrets (webhook rotate ID)."
        )
