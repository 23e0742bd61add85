"""What the API's write routes do: register a request with the intake's rules, and move one
with the one ``move``. Operations: they take the session, ``now``, the ``Actor`` and the
config, flush only, and raise domain errors (worded by ``tracker.web.wording``).

A bridge names a request by its receipt number or, with ``ext:``, by the reference it gave
at registration (``external_ref``, unique within an office).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import receipts
from tracker.audit.trail import Actor
from tracker.errors import (
    DuplicateRequest,
    ExternalRefTaken,
    FieldRefused,
    HandoverAtCounter,
    RequestNotFound,
)
from tracker.intake import checks, nik, operations
from tracker.models import Channel, Office, PickupPoint, Request, Service
from tracker.requests import operations as moves
from tracker.requests.operations import Courier
from tracker.requests.workflow import find_move
from tracker.status import Status
from tracker.web.edge import NAME, NAME_LENGTH, visible

EXTERNAL = "ext:"


def register(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    config: Mapping[str, Any],
    *,
    office: Office,
    body: Mapping[str, Any],
) -> Request:
    """A new request of ``office`` from a body that fits the contract's ``NewRequest``, by
    the intake's rules (the NIK's form, a mobile number, Dukcapil's name rule, a channel's
    address, a delivery's address, a pickup point of the office), the duplicate guard
    (``confirm_duplicate``) and a unique ``external_ref``."""
    service = session.scalars(select(Service).where(Service.code == body["service"])).first()
    if service is None:
        raise FieldRefused(field="service", rule="unknown")
    if not service.offered:
        raise FieldRefused(field="service", rule="not_offered")
    name = " ".join(body["applicant_name"].split())
    if not name or len(name) > NAME_LENGTH or not NAME.fullmatch(name):
        raise FieldRefused(field="applicant_name", rule="name")
    today = now.astimezone(ZoneInfo(office.timezone)).date()
    checked = nik.check(body["nik"], today)
    if not checked.ok:
        raise FieldRefused(field="nik", rule=f"nik_{checked.reason}")
    phone, email, channel = _contact(body)
    delivery, address, point = _handover(session, office, body)
    external_ref = body.get("external_ref")
    if external_ref is not None and find_external(session, [office.id], external_ref):
        raise ExternalRefTaken(external_ref=external_ref)
    duplicates = operations.open_duplicates(session, checked.nik, service)
    if duplicates and not body.get("confirm_duplicate", False):
        ours = session.scalars(
            select(Request.receipt)
            .where(Request.receipt.in_(duplicates), Request.office_id == office.id)
            .order_by(Request.receipt)
        ).all()
        raise DuplicateRequest(count=len(duplicates), receipts=list(ours))
    return operations.register(
        session, office=office, service=service, applicant_name=name, actor=actor, now=now,
        nik=checked.nik, phone=phone, email=email, address=address,
        consent_notify=channel is not None, channel=channel, language=body.get("language", "id"),
        wants_delivery=delivery, preferred_point=point,
        representative_allowed=bool(body.get("representative_allowed", True)),
        external_ref=external_ref,
    )  # fmt: skip


def _contact(body: Mapping[str, Any]) -> tuple[str | None, str | None, Channel | None]:
    """The phone, the e-mail and the channel (None without consent), as intake checks them."""
    phone = None
    if body.get("phone"):
        phone = checks.normalise_phone(body["phone"])
        if phone is None:
            raise FieldRefused(field="phone", rule="phone")
    email = (body.get("email") or "").strip() or None
    if email is not None and not _is_email(email):
        raise FieldRefused(field="email", rule="email")
    consent = bool(body.get("consent_notify", False))
    channel = Channel(body["channel"]) if consent and body.get("channel") else None
    if consent and channel is None:
        raise FieldRefused(field="channel", rule="required")
    if channel in (Channel.WHATSAPP, Channel.SMS) and phone is None:
        raise FieldRefused(field="phone", rule="phone_for_channel")
    if channel == Channel.EMAIL and email is None:
        raise FieldRefused(field="email", rule="email_for_channel")
    return phone, email, channel


def _handover(
    session: Session, office: Office, body: Mapping[str, Any]
) -> tuple[bool, str | None, PickupPoint | None]:
    """Delivery (with its address) or pickup (with a preferred point of the office)."""
    delivery = body.get("handover", "pickup") == "delivery"
    address = " ".join((body.get("address") or "").split()) or None
    if delivery and address is None:
        raise FieldRefused(field="address", rule="address")
    point = None
    if body.get("point") and not delivery:
        point = session.scalars(
            select(PickupPoint).where(
                PickupPoint.code == body["point"], PickupPoint.office_id == office.id
            )
        ).first()
        if point is None or point.is_visit:
            raise FieldRefused(field="point", rule="point")
    return delivery, address, point


def find_external(session: Session, office_ids: Iterable[int], ref: str) -> list[Request]:
    return list(
        session.scalars(
            select(Request)
            .where(Request.office_id.in_(sorted(office_ids)), Request.external_ref == ref)
            .order_by(Request.id)
        )
    )


def find(session: Session, office_ids: Iterable[int], ref: str) -> Request:
    """The request a route names: ``ext:REF`` among the key's offices, else a receipt number
    (any office: the caller checks it is one of the key's)."""
    if ref.startswith(EXTERNAL):
        found = find_external(session, office_ids, ref[len(EXTERNAL) :])
        if len(found) != 1:
            raise RequestNotFound()
        return found[0]
    number = receipts.parse(ref)
    request = session.scalars(select(Request).where(Request.receipt == number)).first()
    if request is None:
        raise RequestNotFound()
    return request


def transition(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    config: Mapping[str, Any],
    *,
    request: Request,
    body: Mapping[str, Any],
) -> None:
    """Move ``request`` as a body that fits ``Transition`` asks, through the one ``move``:
    ``collected`` is refused (a handover happens at a counter, with the identity seen);
    ``ready`` needs a point of the request's office; ``delivering`` and ``delivered`` a
    courier and its reference; a move the citizen must be told the reason of, a public
    note."""
    to = Status(body["to"])
    if to == Status.COLLECTED:
        raise HandoverAtCounter(to=to)
    public_note = body.get("public_note", "")
    if find_move(request.status, to).needs_reason and not visible(public_note):
        raise FieldRefused(field="public_note", rule="reason")
    courier = None
    audited: dict[str, Any] = {"via": "api"}
    if to in (Status.DELIVERING, Status.DELIVERED):
        for field in ("courier", "reference"):
            if not visible(body.get(field, "")):
                raise FieldRefused(field=field, rule="required")
        courier = Courier(body["courier"], body["reference"])
        audited.update(courier_name=courier.name.strip(), reference=courier.tracking_ref.strip())
    point = None
    if to == Status.READY:
        if not body.get("point"):
            raise FieldRefused(field="point", rule="required")
        point = session.scalars(
            select(PickupPoint).where(
                PickupPoint.code == body["point"], PickupPoint.office_id == request.office_id
            )
        ).first()
        if point is None:
            raise FieldRefused(field="point", rule="point")
    moves.move(
        session, request, to, actor=actor, now=now, config=config,
        expected_version=body["version"], public_note=public_note,
        internal_note=body.get("internal_note", ""), point=point, courier=courier, **audited,
    )  # fmt: skip


def summary(request: Request) -> SimpleNamespace:
    """The request as a row of the bridge's list (``serialisers.changed_request``)."""
    point = request.pickup_point
    return SimpleNamespace(
        receipt=request.receipt, status=request.status, version=request.version,
        updated_at=request.updated_at, office=request.office.code, service=request.service.code,
        expected_on=request.expected_on,
        point=point.code if point is not None else None, pickup_number=request.pickup_number,
        window_starts=request.window_starts, window_ends=request.window_ends,
        external_ref=request.external_ref,
    )  # fmt: skip


def _is_email(text: str) -> bool:
    """The intake form's own test (WTForms' ``Email`` asks ``email_validator`` the same)."""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True
