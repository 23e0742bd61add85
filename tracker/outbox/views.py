"""The outbox for supervisors: how many messages wait, and the ones given up on (dead),
which can be sent again once the cause is fixed: one by one, or every one of a channel
that is still worth sending (after a provider's outage) at once."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from tracker.accounts.access import SUPERVISORS, acting, bp, chosen_scope, deny, roles
from tracker.accounts.scope import Scope
from tracker.audit import trail as audit
from tracker.db import get_session
from tracker.models import Channel, OutboxMessage, OutboxStatus, Request, utcnow
from tracker.outbox import operations as outbox
from tracker.outbox import queries
from tracker.outbox.forms import RetryDeadForm
from tracker.web.arguments import declare, query
from tracker.web.formatters import mask_contacts
from tracker.web.forms import ButtonForm, OfficeQuery


@bp.get("/outbox")
@roles(*SUPERVISORS)
@declare(query=OfficeQuery)
def outbox_page() -> str:
    return _outbox_page()


def _outbox_page(**extra: object) -> str:
    """The counts by state, what can go again in bulk per channel, and the last 100 dead."""
    db = get_session()
    shown = chosen_scope()
    counts = dict(
        db.execute(
            shown.limit(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status),
                OutboxMessage.office_id,
            )
        ).all()
    )
    dead = db.execute(
        shown.limit(
            select(OutboxMessage, Request.receipt)
            .outerjoin(Request, Request.id == OutboxMessage.request_id)
            .where(OutboxMessage.status == OutboxStatus.DEAD)
            .order_by(OutboxMessage.id.desc())
            .limit(100),
            OutboxMessage.office_id,
        )
    ).all()
    states = [(_(words), counts.get(state, 0)) for state, words in queries.STATES.items()]
    rows = [
        {
            "id": message.id,
            "receipt": receipt,
            "event": _(queries.event_words(message.event)),
            "channel": _(queries.CHANNELS.get(message.channel, message.channel.value)),
            "attempts": message.attempts,
            "last_error": mask_contacts(message.last_error or ""),
        }
        for message, receipt in dead
    ]
    return render_template(
        "staff/outbox.html", states=states, dead=rows, form=ButtonForm(),
        channels=_dead_by_channel(shown), office=query(OfficeQuery).office.data, **extra,
    )  # fmt: skip


def _dead_by_channel(shown: Scope) -> list[dict[str, object]]:
    """Per channel with dead messages: how many, and how many ``retry_dead`` would send."""
    db = get_session()
    column = OutboxMessage.office_id
    dead = dict(db.execute(shown.limit(queries.dead_by_channel(), column)).all())
    worth = outbox.worth_sending_again(OutboxMessage.channel, func.count()).group_by(
        OutboxMessage.channel
    )
    worth_counts = dict(db.execute(shown.limit(worth, column)).all())
    return [
        {"value": channel.value, "words": _(words), "dead": dead[channel],
         "worth": worth_counts.get(channel, 0)}
        for channel, words in queries.CHANNELS.items() if dead.get(channel)
    ]  # fmt: skip


@bp.post("/outbox/retry")
@roles(*SUPERVISORS)
@declare(query=OfficeQuery, form=RetryDeadForm)
def retry_dead() -> Response | tuple[str, int]:
    """Every dead message of one channel that is still worth sending goes again at once,
    in the offices the page shows; the others stay dead, to be sent one by one."""
    form = RetryDeadForm()
    if not form.validate_on_submit():
        error = _("No message was sent again.")
        return _outbox_page(error=error, retry_errors=form.channel.errors), 400
    shown = chosen_scope()
    chosen = query(OfficeQuery).office.data
    again, left = outbox.retry_channel(
        get_session(), Channel(form.channel.data), now=utcnow(), actor=acting(),
        within=lambda found: shown.limit(found, OutboxMessage.office_id), office=chosen,
    )  # fmt: skip
    flash(
        _("%(count)d messages will be sent again; %(left)d were left as they were.",
          count=again, left=left)
    )  # fmt: skip
    return redirect(url_for("staff.outbox_page", office=chosen), 303)


@bp.post("/outbox/<id:message_id>/retry")
@roles(*SUPERVISORS)
@declare(query=OfficeQuery, form=ButtonForm)
def retry_message(message_id: int) -> Response:
    db = get_session()
    found = select(OutboxMessage).where(OutboxMessage.id == message_id)
    message = db.scalars(chosen_scope().limit(found, OutboxMessage.office_id)).first()
    if (
        message is None
        or message.status != OutboxStatus.DEAD
        or not ButtonForm().validate_on_submit()
    ):
        deny("retry_message", str(message_id))
    now = utcnow()
    outbox.retry(db, message, now=now)
    audit.record(db, "message_retry", actor=acting(), at=now, target=str(message.id))
    flash(_("The message will be sent again."))
    return redirect(url_for("staff.outbox_page"), 303)
