"""The outbox for supervisors: how many messages wait, and the ones given up on (dead),
which can be sent again once the cause is fixed."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from tracker.accounts.access import SUPERVISORS, acting, bp, chosen_scope, deny, roles
from tracker.audit import trail as audit
from tracker.db import get_session
from tracker.models import OutboxMessage, OutboxStatus, Request, utcnow
from tracker.outbox import operations as outbox
from tracker.outbox import queries
from tracker.web.arguments import declare
from tracker.web.formatters import mask_contacts
from tracker.web.forms import ButtonForm, OfficeQuery


@bp.get("/outbox")
@roles(*SUPERVISORS)
@declare(query=OfficeQuery)
def outbox_page() -> str:
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
    return render_template("staff/outbox.html", states=states, dead=rows, form=ButtonForm())


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
