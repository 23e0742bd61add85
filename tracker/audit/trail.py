"""The audit trail: every staff action as an append-only row, chained by SHA-256.

Each row's ``digest`` covers its own fields, the ``details_digest`` of its details (SHA-256
of their canonical JSON) and the ``previous`` row's digest, so changing or removing a row
breaks the chain at that row or the one after; ``check`` finds the first row that no longer
fits. Because the chain covers the details only through their digest, retention can replace
a row's details by ``{"redacted": true}`` (``redact``) and the chain still holds; a row's
details are checked against its ``details_digest`` wherever they were not redacted.

Removing rows from the end leaves a shorter chain that fits. ``head`` gives the pair (last
digest, row count) that an operator keeps elsewhere; ``check`` with that pair's count tells
whether the trail still reaches it (``Verdict.cut``).

Rows are written in the caller's transaction, so an action and its record stand or fall
together. Refusals and failed sign-ins roll back whatever the request did and commit only
their own row (``record_apart``).

Chaining needs one writer at a time: SQLite's ``BEGIN IMMEDIATE`` gives that already, and
on PostgreSQL a transaction-level advisory lock is taken before the last digest is read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from tracker.db import get_session
from tracker.models import AuditEntry, utcnow

GENESIS = "0" * 64
LOCK_KEY = 0x5A_A0D1  # the advisory lock that serialises audit writers on PostgreSQL
_TAIL = "audit_tail"
REDACTED: dict[str, Any] = {"redacted": True}


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def details_digest_of(details: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(details)).hexdigest()


def _canonical(entry: AuditEntry) -> bytes:
    fields = {
        "at": entry.at.isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "address": entry.address,
        "details_digest": entry.details_digest,
        "previous": entry.previous,
    }
    return canonical_json(fields)


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
        details_digest=details_digest_of(details),
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


def redact(session: Session, targets: Iterable[str], now: dt.datetime) -> int:
    """Replace the details of every row about ``targets`` (receipt numbers) by ``REDACTED``;
    who did what, when and to which target stays, and so does the chain."""
    wanted = sorted(set(targets))
    changed = 0
    for start in range(0, len(wanted), 500):
        result = session.execute(
            update(AuditEntry)
            .where(AuditEntry.target.in_(wanted[start : start + 500]))
            .where(AuditEntry.redacted_at.is_(None))
            .values(details=REDACTED, redacted_at=now)
            .execution_options(synchronize_session=False)
        )
        changed += result.rowcount
    return changed


def fits(entry: AuditEntry, previous: str) -> bool:
    """Whether ``entry`` follows ``previous`` and its digest and details are its own."""
    if entry.previous != previous or digest_of(entry) != entry.digest:
        return False
    if entry.redacted_at is not None:
        return entry.details == REDACTED
    return details_digest_of(entry.details) == entry.details_digest


@dataclass(frozen=True)
class Verdict:
    """What a walk along the chain found: the first row that does not fit (None when all
    do), the last digest that fitted, how many rows fitted, and the digest of row number
    ``expected_count`` when the walk was asked for one."""

    broken: AuditEntry | None
    head: str
    count: int
    at_expected: str | None = None

    def cut(self, digest: str, count: int) -> str | None:
        """Why a trail whose head was once (``digest``, ``count``) no longer reaches it."""
        if self.count < count:
            return (
                f"the trail has {self.count} rows, fewer than the {count} it had at "
                f"{digest}: rows were removed from its end"
            )
        if self.at_expected != digest:
            return (
                f"row number {count} no longer has the digest {digest}: the trail was cut "
                "there and written again"
            )
        return None


def check(session: Session, expected_count: int | None = None, batch: int = 5000) -> Verdict:
    """Walk the chain in id order; stop at the first row that no longer fits."""
    previous, count = GENESIS, 0
    at_expected = GENESIS if expected_count == 0 else None
    for entry in _in_order(session, batch):
        if not fits(entry, previous):
            return Verdict(entry, previous, count, at_expected)
        previous, count = entry.digest, count + 1
        if count == expected_count:
            at_expected = previous
    return Verdict(None, previous, count, at_expected)


def verify(session: Session, batch: int = 5000) -> AuditEntry | None:
    """The first row that no longer fits the chain, or None when every row does."""
    return check(session, batch=batch).broken


def head(session: Session) -> tuple[str, int]:
    """The last row's digest and the number of rows, without walking the chain."""
    count = session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    last = session.scalar(select(AuditEntry.digest).order_by(AuditEntry.id.desc()).limit(1))
    return last or GENESIS, count


def parse_expectation(text: str) -> tuple[str, int]:
    """``DIGEST:COUNT`` as ``audit verify`` prints it; ValueError when it is not that."""
    digest, _, count = text.strip().partition(":")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
        raise ValueError("the digest must be 64 hexadecimal characters")
    if not count.isdigit():
        raise ValueError("the count after the colon must be a whole number")
    return digest.lower(), int(count)


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
