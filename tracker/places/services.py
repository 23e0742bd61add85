"""The services offered, as admins keep them: names, the legal target in working days, what
to bring, and whether intake still offers one (a service no longer offered keeps its requests,
their pages and its figures; intake, in the console and through the API, refuses it).

A change applies from then on and rewrites no history. A request's expected date is worked
out from the target once, at intake (``tracker.intake.operations.register``), and stored on
the request: requests already registered keep theirs. The statistics' share within target
is counted with the target of the day each document was finished: the daily roll-up stores
it per day (``tracker.statistics.figures``), and only the last days it rolls again are
counted afresh. What changes at once for requests already registered is what their status
page says of the service (its name, its target and what to bring).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.db import insert_new
from tracker.errors import CodeTaken
from tracker.models import Service

EDITABLE = ("name_id", "name_en", "target_days", "bring_id", "bring_en", "offered")


def listed(session: Session) -> list[Service]:
    return list(session.scalars(select(Service).order_by(Service.name_id)))


def find(session: Session, code: str) -> Service | None:
    return session.scalars(select(Service).where(Service.code == code)).first()


def add(
    session: Session, now: dt.datetime, actor: Actor, code: str, values: dict[str, Any]
) -> Service:
    """A new service with the ``EDITABLE`` values given (offered at intake unless they say
    not); one audit row names them. ``CodeTaken`` if another service has ``code``, also one
    added by another admin at the same moment (the insert runs in a savepoint, so the
    caller's unit stays usable)."""
    if find(session, code) is not None:
        raise CodeTaken(kind="service", taken=code)
    given = {name: value for name, value in values.items() if name in EDITABLE}
    service = Service(code=code, **given)
    if not insert_new(session, service):
        raise CodeTaken(kind="service", taken=code)
    audit.record(session, "service_added", actor=actor, at=now, target=code, **given)
    return service


def change(
    session: Session, now: dt.datetime, actor: Actor, service: Service, values: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Set the ``EDITABLE`` values given; one audit row names each field changed, from and
    to. Nothing changed: no row. Returns what changed."""
    changed = {
        name: {"from": getattr(service, name), "to": value}
        for name, value in values.items()
        if name in EDITABLE and getattr(service, name) != value
    }
    if not changed:
        return changed
    for name, change_ in changed.items():
        setattr(service, name, change_["to"])
    session.flush()
    audit.record(session, "service_changed", actor=actor, at=now, target=service.code, **changed)
    return changed
