"""Handing a document over: to the applicant, to a representative, or to a courier."""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from tracker.errors import DomainError, MissingDetails
from tracker.models import CollectorKind, Handover, Request
from tracker.requests.status import Status
from tracker.requests.workflow import check_version, find_move, transition


def call(
    session: Session,
    request: Request,
    counter: str,
    *,
    expected_version: int | None = None,
    at: dt.datetime,
) -> None:
    """Call a ready document to a counter of its point: the lobby board shows the call (and
    may speak it). Calling again, to the same or another counter, is a new call."""
    check_version(request, expected_version)
    if request.status != Status.READY or request.pickup_point is None:
        raise DomainError(_("Only a document that is ready at a pickup point can be called."))
    if counter not in (request.pickup_point.counters or []):
        raise DomainError(
            _("Choose one of the counters of %(point)s.", point=request.pickup_point.name)
        )
    request.counter = counter
    request.called_at = at
    session.flush()


def collect(
    session: Session,
    request: Request,
    *,
    collector: CollectorKind,
    id_checked: bool,
    actor: str,
    expected_version: int | None = None,
    name: str = "",
    relation: str = "",
    attorney_checked: bool = False,
    at: dt.datetime,
) -> Handover:
    """Record who collected the document and move it to ``collected``. A representative needs
    a name, a relation, a checked power of attorney, and the applicant's leave at intake."""
    find_move(request.status, Status.COLLECTED)
    if not id_checked:
        raise MissingDetails(missing="id_checked", to=Status.COLLECTED)
    if collector == CollectorKind.REPRESENTATIVE:
        if not request.representative_allowed:
            raise MissingDetails(missing="representative_not_allowed", to=Status.COLLECTED)
        if not name.strip() or not relation.strip():
            raise MissingDetails(missing="representative", to=Status.COLLECTED)
        if not attorney_checked:
            raise MissingDetails(missing="attorney", to=Status.COLLECTED)
    else:
        name, relation, attorney_checked = request.applicant_name, "", False
    event = transition(
        session,
        request,
        Status.COLLECTED,
        actor=actor,
        expected_version=expected_version,
        at=at,
        handover=True,
    )
    handover = Handover(
        request_id=request.id,
        event=event,
        kind=collector,
        collector_name=name.strip(),
        relation=relation.strip(),
        id_checked=True,
        attorney_checked=attorney_checked,
        at=at,
        actor=actor,
    )
    session.add(handover)
    session.flush()
    return handover


def send_out(
    session: Session,
    request: Request,
    *,
    courier: str,
    tracking_ref: str,
    actor: str,
    expected_version: int | None = None,
    public_note: str = "",
    internal_note: str = "",
    at: dt.datetime,
) -> Handover:
    """Give the document to a courier for delivery (``delivering``)."""
    find_move(request.status, Status.DELIVERING)
    if not courier.strip():
        raise MissingDetails(missing="courier", to=Status.DELIVERING)
    event = transition(
        session,
        request,
        Status.DELIVERING,
        actor=actor,
        expected_version=expected_version,
        public_note=public_note,
        internal_note=internal_note,
        at=at,
        handover=True,
    )
    handover = Handover(
        request_id=request.id,
        event=event,
        kind=CollectorKind.COURIER,
        courier=courier.strip(),
        tracking_ref=tracking_ref.strip(),
        at=at,
        actor=actor,
    )
    session.add(handover)
    session.flush()
    return handover
