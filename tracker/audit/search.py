"""Staff searches in the audit trail, without the searched text.

A search for an NIK or a name would put that NIK or name in the trail for ever. Instead the
row keeps a keyed hash (HMAC-SHA256 under ``AUDIT_HMAC_KEY``) of the normalised text, so that
someone who holds the NIK can still ask who searched for it (``flask audit search --nik``),
and nobody can read it back from the trail. A search that found a request by its receipt
number names that receipt as the row's target, as every other row about a request does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from tracker import receipts
from tracker.audit import trail as audit
from tracker.errors import ReceiptMistyped
from tracker.intake import nik
from tracker.models import AuditEntry, Request


def normalise_name(text: str) -> str:
    """A name as typed, in the one form its hash is taken of: case and spacing do not count."""
    return " ".join(text.casefold().split())


def normalise_nik(text: str) -> str | None:
    """The 16 digits of an NIK typed with or without separators; None when it is not one."""
    digits = nik.normalise(text.strip())
    return digits if len(digits) == 16 and digits.isascii() and digits.isdigit() else None


def keyed(kind: str, normalised: str, key: str) -> str:
    """The hash a search row keeps: HMAC-SHA256 of ``kind:text`` under ``key``, in hex."""
    message = f"{kind}:{normalised}".encode()
    return hmac.new(str(key).encode(), message, hashlib.sha256).hexdigest()


def _found_receipt(text: str, found: Sequence[Request]) -> str | None:
    try:
        number = receipts.parse(text)
    except ReceiptMistyped:
        return None
    return number if any(r.receipt == number for r in found) else None


def details_of(text: str, found: Sequence[Request], key: str) -> tuple[str, dict[str, Any]]:
    """The target and details of a search row for ``text``: never the text itself."""
    text = text.strip()[:100]
    digits = normalise_nik(text)
    if digits is not None:
        return "", {"kind": "nik", "nik_hmac": keyed("nik", digits, key), "found": len(found)}
    number = _found_receipt(text, found)
    if number is not None:
        return number, {"kind": "receipt", "found": len(found)}
    hashed = keyed("name", normalise_name(text), key)
    return "", {"kind": "name", "name_hmac": hashed, "found": len(found)}


def record_search(
    session: Session,
    text: str,
    found: Sequence[Request],
    *,
    key: str,
    actor: audit.Actor,
    at: dt.datetime,
) -> AuditEntry:
    """Audit a staff search in the session's transaction, keyed by ``key``
    (``AUDIT_HMAC_KEY``)."""
    target, details = details_of(text, found, key)
    return audit.record(session, "search", actor=actor, at=at, target=target, **details)


def searches_for(session: Session, kind: str, normalised: str, key: str) -> list[AuditEntry]:
    """Search rows whose hash is that of ``normalised`` (an NIK's digits or a normalised
    name), oldest first. The trail is read as text and the hash matched exactly after."""
    hashed = keyed(kind, normalised, key)
    field = f"{kind}_hmac"
    rows = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "search", cast(AuditEntry.details, Text).contains(hashed))
        .order_by(AuditEntry.id)
    )
    return [row for row in rows if row.details.get(field) == hashed]
