"""The ``outbox`` command: after a provider's outage is fixed, send every dead message of a
channel that is still worth sending again at once (``operations.retry_channel``), as a
supervisor's button on ``/staff/outbox`` does for the offices they see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import Select, select

from tracker.audit.trail import SYSTEM
from tracker.db import unit_of_work
from tracker.models import Channel, Office, OutboxMessage, utcnow
from tracker.outbox import operations as outbox

outbox_group = AppGroup("outbox", help="The outbox of messages and webhook deliveries.")


@outbox_group.command("retry-dead")
@click.option("--channel", type=click.Choice([c.value for c in Channel]), required=True)
@click.option("--office", "office_code", default=None, help="Only this office (e.g. 36.73).")
def retry_dead(channel: str, office_code: str | None) -> None:
    """Send again the channel's dead messages still worth sending: every webhook delivery,
    and the messages about requests that have not moved since they were queued. Replies to
    citizens' questions and messages about requests that moved on stay dead."""
    now = utcnow()
    with unit_of_work() as session:
        within = None
        if office_code is not None:
            office = session.scalars(select(Office).where(Office.code == office_code)).first()
            if office is None:
                raise click.UsageError(f"No office has the code {office_code!r}.")
            within = _of_office(office.id)
        again, left = outbox.retry_channel(
            session, Channel(channel), now=now, actor=SYSTEM, within=within, office=office_code
        )
    click.echo(f"{again} {channel} messages will be sent again; {left} left dead.")


def _of_office(office_id: int) -> Callable[[Select[Any]], Select[Any]]:
    def keep(found: Select[Any]) -> Select[Any]:
        return found.where(OutboxMessage.office_id == office_id)

    return keep
