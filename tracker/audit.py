"""The audit trail: every staff action as an append-only row, chained by SHA-256.

Each row's ``digest`` covers its own fields and the ``previous`` row's digest, so changing
or removing a row breaks the chain at that row or the one after; ``verify`` finds the first
row that no longer fits. Rows are written in the caller's transaction, so an action and its
record stand or fall together. Refusals and failed sign-ins roll back whatever the request
did and commit only their own row (``record_apart``).

Chaining needs one writer at a time: SQLite's ``BEGIN IMMEDIATE`` gives that already, and
on PostgreSQL a transaction-level advisory lock is taken before the last digest is read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from tracker.db import get_session
from tracker.models import AuditEntry, utcnow

GENESIS = "0" * 64
LOCK_KEY = 0x5A_A0D1  # the advisory lock that serialises audit writers on PostgreSQL
_TAIL = "audit_tail"


def _canonical(entry: AuditEntry) -> bytes:
    fields = {
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "address": entry.address,
        "details": entry.details,
        "previous": entry.previous,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def digest_of(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _tail(session: Session) -> str:
    if _TAIL not in session.info:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        last = session.scalar(select(AuditEntry.digest).order_by(AuditEntry.id.desc()).limit(1))
        session.info[_TAIL] = last or GENESIS
    return session.info[_TAIL]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_tail(session: Session, *_args: Any) -> None:
    session.info.pop(_TAIL, None)


def _who() -> tuple[str, str]:
    if not has_request_context():
        return "system", ""
    actor = current_user.username if current_user.is_authenticated else "-"
    return actor, request.remote_addr or ""


def record(
    session: Session,
    action: str,
    *,
    target: str = "",
    actor: str | None = None,
    **details: Any,
) -> AuditEntry:
    """Append one row in the session's transaction (a writer's); the caller commits."""
    who, address = _who()
    entry = AuditEntry(
        at=utcnow(),
        actor=actor or who,
        action=action,
        target=target,
        address=address,
        details=details,
        previous=_tail(session),
    )
    entry.digest = digest_of(entry)
    session.info[_TAIL] = entry.digest
    session.add(entry)
    return entry


def record_apart(
    action: str, *, target: str = "", actor: str | None = None, **details: Any
) -> None:
    """Roll back whatever this request has done and commit just this row: for refusals and
    failed sign-ins, which must leave a trace and change nothing else."""
    session = get_session(write=True)
    session.rollback()
    record(session, action, target=target, actor=actor, **details)
    session.commit()


def verify(session: Session, batch: int = 5000) -> AuditEntry | None:
    """The first row that no longer fits the chain, or None when every row does."""
    previous = GENESIS
    for entry in _in_order(session, batch):
        if entry.previous != previous or digest_of(entry) != entry.digest:
            return entry
        previous = entry.digest
    return None


def _in_order(session: Session, batch: int) -> Iterator[AuditEntry]:
    last_id = 0
    while True:
        query = select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id)
        query = query.limit(batch).execution_options(populate_existing=True)
        rows = session.scalars(query).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()
