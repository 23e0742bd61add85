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
together. A refusal or a failed sign-in must leave its row although the action rolls back:
``record_apart`` writes it in a short unit of work of its own, once the caller has discarded
what its request did (``tracker.db.discard``), so the two never wait on each other.

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

from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session

from tracker.db import unit_of_work
from tracker.models import AuditEntry

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


@dataclass(frozen=True)
class Actor:
    """Who does something, and from which address: a staff account's name (``-`` before
    signing in), or ``system`` for the scheduled jobs. Views make it from the signed-in
    account (``tracker.accounts.access.acting``) and pass it down; nothing here reads the
    request."""

    name: str
    address: str = ""


SYSTEM = Actor("system")


def record(
    session: Session,
    action: str,
    *,
    actor: Actor,
    at: dt.datetime,
    target: str = "",
    **details: Any,
) -> AuditEntry:
    """Append one row in the session's transaction (a writer's); the unit of work commits."""
    entry = AuditEntry(
        at=at,
        actor=actor.name,
        action=action,
        target=target,
        address=actor.address,
        details=details,
        details_digest=details_digest_of(details),
        previous=_tail(session),
    )
    entry.digest = digest_of(entry)
    session.info[_TAIL] = entry.digest
    session.add(entry)
    return entry


def record_apart(
    action: str, *, actor: Actor, at: dt.datetime, target: str = "", **details: Any
) -> None:
    """Write just this row in a unit of work of its own: for refusals and failed sign-ins,
    which leave a trace and change nothing else. The caller's unit must hold no write (it
    has discarded its work), or on SQLite the two would wait for each other."""
    with unit_of_work() as session:
        record(session, action, actor=actor, at=at, target=target, **details)


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
