"""Changing a request's status: ``move``, the one way to do it.

The console's single moves, the batch, the handover, the nightly expiry (and the
integration API) all call ``move``. It checks the move against the table
(``tracker.requests.workflow.TRANSITIONS``), then what the new status needs:

- ``ready``: a pickup point of the request's own office; the window starts at the point's
  next opening and lasts ``PICKUP_WINDOW_DAYS`` opening days, and the document gets the
  next number of the point's series that no document waiting there holds;
- ``returned``: the office's main point, for ``RETURN_KEEP_OPEN_DAYS`` opening days, whether
  staff return the document by hand or the nightly job does (``return_placement``), with a
  number of that point's returns series (``R-017``);
- ``collected``: the handover (``Collector``): the identity card checked, and for a
  representative the applicant's leave, a name, a relation and a checked power of attorney;
- ``delivering``: the courier (``Courier``);
- ``needs_fix``, ``rejected`` and ``cancelled``: a reason the citizen reads.

The service-time clock stops while the office waits on the citizen (DESIGN §3): when a
request leaves ``needs_fix``, the working days it spent there are added to
``Request.paused_days`` and its expected date moves by as many working days (``_resume``).

In the same step it writes the event, keeps ``Request.status`` in step, bumps the version
(optimistic locking), writes the audit row and the outbox's messages. It only flushes: the
unit of work commits or rolls back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import ConflictError, MissingDetails
from tracker.models import CollectorKind, Handover, Office, PickupPoint, Request, StatusEvent
from tracker.outbox import operations as outbox
from tracker.places import pickup
from tracker.places.pickup import Window
from tracker.places.workdays import add_working_days, working_days_between
from tracker.requests.workflow import check_version, conflict, find_move
from tracker.status import Status
from tracker.web.edge import visible

S = Status


@dataclass(frozen=True)
class Placement:
    """Where and until when a document waits: its window, and its pickup number (None keeps
    the number it has)."""

    window: Window
    number: str | None = None


@dataclass(frozen=True)
class Collector:
    """Who takes the document at the counter, and what staff checked."""

    kind: CollectorKind
    id_checked: bool
    name: str = ""
    relation: str = ""
    attorney_checked: bool = False


@dataclass(frozen=True)
class Courier:
    """Who delivers the document, and the courier's tracking reference."""

    name: str
    tracking_ref: str = ""


def move(
    session: Session,
    request: Request,
    to: Status,
    *,
    actor: Actor,
    now: dt.datetime,
    config: Mapping[str, Any],
    expected_version: int | None = None,
    public_note: str = "",
    internal_note: str = "",
    point: PickupPoint | None = None,
    placement: Placement | None = None,
    collector: Collector | None = None,
    courier: Courier | None = None,
    flush: bool = True,
    **audited: Any,
) -> StatusEvent:
    """Move ``request`` to ``to`` at ``now``; raises a DomainError and changes nothing when
    the move is not allowed, lacks what the new status needs, or the request changed since
    ``expected_version`` was read. ``audited`` goes into the audit row. With ``flush=False``
    (a batch) the caller flushes once for all."""
    check_version(request, expected_version)
    if find_move(request.status, to).needs_reason and not visible(public_note):
        raise MissingDetails(missing="reason", to=to)
    placement = _what_it_needs(
        session, request, to, now, config, point, placement, collector, courier
    )
    if request.status == S.NEEDS_FIX and to != S.NEEDS_FIX:
        _resume(request, now)
    previous = request.status
    event = _record(session, request, to, actor, now, public_note, internal_note)
    if placement is not None:
        _place(request, placement)
    if collector is not None and to == S.COLLECTED:
        _hand_over(session, request, event, collector, actor, now)
        audited.setdefault("collector", collector.kind.value)
    if courier is not None and to == S.DELIVERING:
        _send_out(session, request, event, courier, actor, now)
    outbox.after_transition(
        session, request, to, now, previous=previous, public_note=event.public_note
    )
    with session.no_autoflush:  # a lost race shows at the flush below, as a ConflictError
        audit.record(
            session, "transition", actor=actor, at=now, target=request.receipt, to=to.value,
            **audited,
        )  # fmt: skip
    if flush:
        flush_moves(session, request)
    return event


def _what_it_needs(
    session: Session,
    request: Request,
    to: Status,
    now: dt.datetime,
    config: Mapping[str, Any],
    point: PickupPoint | None,
    placement: Placement | None,
    collector: Collector | None,
    courier: Courier | None,
) -> Placement | None:
    """Check what ``to`` needs; the placement a ready or returned document gets."""
    if to == S.READY:
        placement = placement or ready_placement(session, request, point, now, config)
    elif to == S.RETURNED:
        placement = placement or return_placement(session, request, now, config)
    elif to == S.COLLECTED:
        _check_collector(request, collector)
    elif to == S.DELIVERING and (courier is None or not courier.name.strip()):
        raise MissingDetails(missing="courier", to=to)
    if placement is not None and placement.window.point.office_id != request.office_id:
        raise MissingDetails(missing="point", to=to)
    return placement


def flush_moves(session: Session, request: Request | None = None) -> None:
    """Send the moves to the database; a lost race (another writer bumped a version first)
    is a ConflictError naming, for one request, who changed it. Nothing is rolled back
    here: the unit of work does that."""
    request_id = request.id if request is not None else None
    try:
        session.flush()
    except StaleDataError:
        raise _lost_race(session, request_id) from None


def ready_placement(
    session: Session,
    request: Request,
    point: PickupPoint | None,
    now: dt.datetime,
    config: Mapping[str, Any],
) -> Placement:
    """The window at ``point`` from its next opening, and the point's next pickup number."""
    if point is None:
        raise MissingDetails(missing="window", to=S.READY)
    if point.office_id != request.office_id:
        raise MissingDetails(missing="point", to=S.READY)
    window = pickup.next_window(point, now, config["PICKUP_WINDOW_DAYS"])
    return Placement(window, pickup.assign_number(session, point))


def ready_placements(
    session: Session, point: PickupPoint, count: int, now: dt.datetime, config: Mapping[str, Any]
) -> list[Placement]:
    """``count`` placements at ``point`` with one block of pickup numbers (a batch)."""
    window = pickup.next_window(point, now, config["PICKUP_WINDOW_DAYS"])
    numbers = pickup.assign_numbers(session, point, count)
    return [Placement(window, number) for number in numbers]


def return_point(session: Session, request: Request) -> PickupPoint:
    """Where a returned document waits: its office's main point (or where it was, if the
    office has none)."""
    main = pickup.main_point(session, request.office_id) or request.pickup_point
    if main is None:
        raise MissingDetails(missing="window", to=S.RETURNED)
    return main


def return_placements(
    session: Session, point: PickupPoint, count: int, now: dt.datetime, config: Mapping[str, Any]
) -> list[Placement]:
    """``count`` returned documents kept at ``point`` for ``RETURN_KEEP_OPEN_DAYS`` opening
    days from the next opening, each with a number of the point's returns series
    (``R-017``), unique among the documents that wait there."""
    window = pickup.next_window(point, now, config["RETURN_KEEP_OPEN_DAYS"])
    numbers = pickup.assign_numbers(session, point, count, returns=True)
    return [Placement(window, number) for number in numbers]


def return_placement(
    session: Session, request: Request, now: dt.datetime, config: Mapping[str, Any]
) -> Placement:
    """A returned document's place (``return_point``) and its window and number
    (``return_placements``); by hand or by the nightly expiry, the same."""
    return return_placements(session, return_point(session, request), 1, now, config)[0]


def collector_problems(request: Request, collector: Collector | None) -> list[str]:
    """Everything missing for ``collector`` to take ``request``, as ``MissingDetails`` codes
    (``id_checked``, ``representative_not_allowed``, ``representative``, ``attorney``), all
    at once so that the counter can show each beside its field; empty when nothing is."""
    if collector is None or collector.kind not in (
        CollectorKind.SELF,
        CollectorKind.REPRESENTATIVE,
    ):
        return ["handover"]
    problems = [] if collector.id_checked else ["id_checked"]
    if collector.kind == CollectorKind.REPRESENTATIVE:
        if not request.representative_allowed:
            problems.append("representative_not_allowed")
        if not collector.name.strip() or not collector.relation.strip():
            problems.append("representative")
        if not collector.attorney_checked:
            problems.append("attorney")
    return problems


def _check_collector(request: Request, collector: Collector | None) -> None:
    """Raise MissingDetails for the first problem, with every problem in ``problems``."""
    problems = collector_problems(request, collector)
    if problems:
        raise MissingDetails(missing=problems[0], problems=problems, to=S.COLLECTED)


def _record(
    session: Session,
    request: Request,
    to: Status,
    actor: Actor,
    now: dt.datetime,
    public_note: str,
    internal_note: str,
) -> StatusEvent:
    event = StatusEvent(
        request=request,
        from_status=request.status,
        to_status=to,
        at=now,
        actor=actor.name,
        public_note=public_note.strip(),
        internal_note=internal_note.strip(),
    )
    request.status = to
    request.updated_at = request.changed_at = now
    session.add(event)
    return event


def paused_since(request: Request, now: dt.datetime) -> int:
    """Working days, in the office's own time zone, from the day ``request`` entered its
    current status (needs fix) up to and including the local day of ``now``."""
    zone = ZoneInfo(request.office.timezone)
    entered = request.updated_at  # the moment of the last move, into the current status
    return working_days_between(entered.astimezone(zone).date(), now.astimezone(zone).date())


def _resume(request: Request, now: dt.datetime) -> None:
    """The office stops waiting on the citizen: the clock runs again, the days waited added
    to ``paused_days`` and to the expected date."""
    days = paused_since(request, now)
    if days > 0:
        request.paused_days = (request.paused_days or 0) + days
        request.expected_on = add_working_days(request.expected_on, days)


def _place(request: Request, placement: Placement) -> None:
    window = placement.window
    request.pickup_point = window.point
    request.window_starts = window.starts
    request.window_ends = window.ends
    if placement.number is not None:
        request.pickup_number = placement.number
        request.pickup_day = window.first_day


def _hand_over(
    session: Session,
    request: Request,
    event: StatusEvent,
    collector: Collector,
    actor: Actor,
    now: dt.datetime,
) -> None:
    representative = collector.kind == CollectorKind.REPRESENTATIVE
    session.add(
        Handover(
            request_id=request.id,
            event=event,
            kind=collector.kind,
            collector_name=collector.name.strip() if representative else request.applicant_name,
            relation=collector.relation.strip() if representative else "",
            id_checked=True,
            attorney_checked=collector.attorney_checked if representative else False,
            at=now,
            actor=actor.name,
        )
    )


def _send_out(
    session: Session,
    request: Request,
    event: StatusEvent,
    courier: Courier,
    actor: Actor,
    now: dt.datetime,
) -> None:
    session.add(
        Handover(
            request_id=request.id,
            event=event,
            kind=CollectorKind.COURIER,
            courier=courier.name.strip(),
            tracking_ref=courier.tracking_ref.strip(),
            at=now,
            actor=actor.name,
        )
    )


def _lost_race(session: Session, request_id: int | None) -> ConflictError:
    """Who changed ``request`` last, read on a connection of its own (this session's
    transaction failed and waits for the unit of work to roll it back)."""
    if request_id is None:
        return ConflictError(changed_by=None, changed_at=None)
    reader = session.get_bind().execution_options(sqlite_writer=False)
    with reader.connect() as connection:
        last = connection.execute(
            select(StatusEvent.actor, StatusEvent.at, Office.timezone)
            .join(Request, Request.id == StatusEvent.request_id)
            .join(Office, Office.id == Request.office_id)
            .where(StatusEvent.request_id == request_id)
            .order_by(StatusEvent.id.desc())
            .limit(1)
        ).first()
    if last is None:
        return ConflictError(changed_by=None, changed_at=None)
    return conflict(last.actor, last.at, last.timezone)
