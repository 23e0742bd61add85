"""The ``outbox`` command: after a provider's outage is fixed, send every dead message of a
channel that is still worth sending again at once (``queries.worth_sending_again``), as a
supervisor's button on ``/staff/outbox`` does for the offices they see."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from tracker.audit import trail as audit
from tracker.audit.trail import SYSTEM
from tracker.db import unit_of_work
from tracker.models import Channel, Office, OutboxMessage, OutboxStatus, utcnow
from tracker.outbox import operations as outbox
from tracker.outbox import queries

outbox_group = AppGroup("outbox", help="The outbox of messages and webhook deliveries.")


@outbox_group.command("retry-dead")
@click.option("--channel", type=click.Choice([c.value for c in Channel]), required=True)
@click.option("--office", "office_code", default=None, help="Only this office (e.g. 36.73).")
def retry_dead(channel: str, office_code: str | None) -> None:
    """Send again the channel's dead messages still worth sending: every webhook delivery,
    and the messages about requests that have not moved since they were queued. Replies to
    citizens' questions and messages about requests that moved on stay dead."""
    chosen = Channel(channel)
    now = utcnow()
    with unit_of_work() as session:
        worth = queries.worth_sending_again().where(OutboxMessage.channel == chosen)
        dead = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.DEAD, OutboxMessage.channel == chosen)
        )
        if office_code is not None:
            office = session.scalars(select(Office).where(Office.code == office_code)).first()
            if office is None:
                raise click.UsageError(f"No office has the code {office_code!r}.")
            worth = worth.where(OutboxMessage.office_id == office.id)
            dead = dead.where(OutboxMessage.office_id == office.id)
        given_up = session.scalar(dead) or 0
        again = outbox.retry_all(session, worth, now=now)
        audit.record(
            session, "messages_retried", actor=SYSTEM, at=now, target=chosen.value,
            count=again, left=given_up - again, office=office_code,
        )  # fmt: skip
    click.echo(f"{again} {chosen.value} messages will be sent again; {given_up - again} left dead.")
