"""Finding the document at the handover counter by what the collector brings: the receipt
(typed, or its QR's address scanned), the pickup number, the NIK or the applicant's name.

A receipt number is looked up as the rest of the console does (``find_request``); the other
three are read here, limited to what the account's ``Scope`` shows: a pickup number among the
documents that wait (ready or returned) at its offices' points, an NIK or a part of a name
among its offices' requests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, joinedload

from tracker import receipts
from tracker.accounts.scope import Scope
from tracker.audit.search import normalise_name, normalise_nik
from tracker.errors import ReceiptMistyped
from tracker.models import PickupPoint, Request
from tracker.status import Status

RECEIPT, PICKUP, NIK, NAME = "receipt", "pickup", "nik", "name"
WAITING = (Status.READY, Status.RETURNED)
LIMIT = 50
_PICKUP = re.compile(r"([A-Za-z]{1,2})\s*-?\s*(\d{1,4})")
_NAME = re.compile(r"[^\W\d_][^\d_]*")


@dataclass(frozen=True)
class Typed:
    """What was typed at the counter, read as one kind of key (``RECEIPT``, ``PICKUP``,
    ``NIK`` or ``NAME``) in its canonical form."""

    kind: str
    value: str


@dataclass
class Found:
    """The requests a key found (at most ``LIMIT``), newest first."""

    typed: Typed
    rows: list[Request] = field(default_factory=list)


def pickup_number(text: str) -> str | None:
    """``m017``, ``M-17`` or ``m 017`` -> ``M-017``; None when it is not a pickup number."""
    matched = _PICKUP.fullmatch(text.strip())
    if matched is None:
        return None
    return f"{matched[1].upper()}-{int(matched[2]):03d}"


def read(text: str) -> Typed:
    """The kind of key ``text`` is. A valid receipt number (or a QR's address) is a receipt;
    then a pickup number, 16 digits as an NIK, and letters with no digits (three or more) as
    a name; anything else is read as a mistyped receipt number, so its error says why."""
    text = text.strip()
    try:
        return Typed(RECEIPT, receipts.parse(text))
    except ReceiptMistyped:
        pass
    if "/s/" not in text:
        number = pickup_number(text)
        if number is not None:
            return Typed(PICKUP, number)
        digits = normalise_nik(text)
        if digits is not None:
            return Typed(NIK, digits)
        name = normalise_name(text)
        if _NAME.fullmatch(name) and sum(ch.isalpha() for ch in name) >= 3:
            return Typed(NAME, name)
    return Typed(RECEIPT, text)


def looks_like_a_name(text: str) -> bool:
    """Whether a valid receipt number that found nothing may have been a name instead
    (twelve letters can make a valid number by chance)."""
    return bool(_NAME.fullmatch(normalise_name(text)))


def find(session: Session, scope: Scope, typed: Typed) -> Found:
    """The requests a pickup number, NIK or name finds within ``scope``: those that wait
    first, then the newest."""
    query = select(Request)
    if typed.kind == PICKUP:
        query = query.join(PickupPoint, Request.pickup_point_id == PickupPoint.id).where(
            Request.pickup_number == typed.value, Request.status.in_(WAITING)
        )
        query = scope.limit(query, PickupPoint.office_id)
    elif typed.kind == NIK:
        query = scope.limit(query.where(Request.nik == typed.value), Request.office_id)
    elif typed.kind == NAME:
        spaceless = func.replace(func.lower(Request.applicant_name), " ", "")
        wanted = "".join(typed.value.split())
        query = scope.limit(
            query.where(spaceless.contains(wanted, autoescape=True)), Request.office_id
        )
    else:
        return Found(typed)
    query = query.options(
        joinedload(Request.service), joinedload(Request.pickup_point), joinedload(Request.office)
    )
    waiting_first = case((Request.status.in_(WAITING), 0), else_=1)
    order = (waiting_first, Request.created_at.desc(), Request.id.desc())
    rows = session.scalars(query.order_by(*order).limit(LIMIT))
    return Found(typed, list(rows.unique()))
