"""The rehearsal's look into the database, run on a host of the rehearsal with the app's
settings in the environment; each command prints JSON.

- ``prepare``: the office with the most documents to move, real receipts to look up,
  well-formed receipts that are on no request, the pickup points, and the documents the
  staff may mark ready (processing) or hand over (ready, window open).
- ``waiting``: how many messages still wait to be sent (held, pending, sending).
- ``verify DATA CHANGES FAULTS RECORD...``: what the rehearsal must find afterwards; one
  line per problem under ``problems`` (none: it passed). Webhook deliveries count as
  messages (their ``webhook-id`` is their key), and each must have verified at the receiver.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker import create_app, receipts
from tracker.db import unit_of_work
from tracker.models import (
    Announcement,
    AnnouncementItem,
    Office,
    OutboxMessage,
    OutboxStatus,
    PickupPoint,
    Request,
)
from tracker.models.publishing import AnnouncementKind
from tracker.status import Status

LOOKUPS = 2000
UNKNOWN = 200
WAITING = (OutboxStatus.HELD, OutboxStatus.PENDING, OutboxStatus.SENDING)
# A message whose first copy arrived this close to a fault may come again: its dispatcher
# could not record the send before the fault (the claim is taken up again later).
IN_FLIGHT_SECONDS = 10.0


def prepare(session: Session, now: dt.datetime) -> dict[str, Any]:
    to_move = (
        select(Request.office_id, func.count())
        .where(Request.status.in_((Status.PROCESSING, Status.READY)))
        .group_by(Request.office_id)
        .order_by(func.count().desc())
    )
    office_id = session.execute(to_move).first()[0]
    office = session.get(Office, office_id)
    known = session.scalars(select(Request.receipt).order_by(func.random()).limit(LOOKUPS)).all()
    taken = set(session.scalars(select(Request.receipt)).all())
    unknown = set()
    while len(unknown) < UNKNOWN:
        number = receipts.generate()
        if number not in taken:
            unknown.add(number)
    ours = select(Request.receipt).where(Request.office_id == office_id)
    processing = session.scalars(
        ours.where(Request.status == Status.PROCESSING, Request.wants_delivery.is_(False))
    ).all()
    ready = session.scalars(
        ours.where(
            Request.status == Status.READY,
            Request.window_starts <= now,
            Request.window_ends > now + dt.timedelta(days=1),
        )
    ).all()
    return {
        "office": office.code,
        "known": list(known),
        "unknown": sorted(unknown),
        "points": session.scalars(select(PickupPoint.code).order_by(PickupPoint.id)).all(),
        "processing": random.sample(list(processing), len(processing)),
        "ready": random.sample(list(ready), len(ready)),
    }


def waiting(session: Session) -> dict[str, Any]:
    count = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status.in_(WAITING))
    )
    return {"waiting": count}


def verify(session: Session, changes: Path, faults: Path, records: list[Path]) -> dict[str, Any]:
    problems: list[str] = []
    moved = _accepted_changes(changes)
    problems += _changes_kept(session, moved)
    problems += _messages_arrived(session, json.loads(faults.read_text()), records)
    problems += _announced_once(session, moved.get("ready", []))
    deliveries, unsigned = _webhooks_signed(records)
    problems += unsigned
    if moved.get("ready") and not deliveries:
        problems.append("documents were marked ready, yet no webhook delivery arrived")
    return {
        "changes": {k: len(v) for k, v in moved.items()},
        "webhooks": deliveries,
        "problems": problems,
    }


def _webhooks_signed(records: list[Path]) -> tuple[int, list[str]]:
    """How many webhook deliveries arrived, and one problem per delivery whose signature the
    receiver could not verify with the secret ``webhook add`` printed."""
    deliveries, problems = 0, []
    for record in records:
        if record.exists():
            for line in record.read_text(encoding="utf-8").splitlines():
                seen = json.loads(line)
                if seen.get("signed") is None:
                    continue
                deliveries += 1
                if not seen["signed"]:
                    problems.append(f"webhook delivery {seen['key']} did not verify")
    return deliveries, problems


def _accepted_changes(changes: Path) -> dict[str, list[str]]:
    moved: dict[str, list[str]] = defaultdict(list)
    if changes.exists():
        for line in changes.read_text(encoding="utf-8").splitlines():
            change = json.loads(line)
            moved[change["kind"]].extend(change["receipts"])
    return moved


def _changes_kept(session: Session, moved: dict[str, list[str]]) -> list[str]:
    """Each document a staff change was answered for has at least that status (a ready one
    may since have been collected)."""
    allowed = {"ready": {Status.READY, Status.COLLECTED}, "collected": {Status.COLLECTED}}
    problems = []
    for kind, numbers in moved.items():
        found = dict(
            session.execute(
                select(Request.receipt, Request.status).where(Request.receipt.in_(numbers))
            ).all()
        )
        for number in numbers:
            if found.get(number) not in allowed[kind]:
                problems.append(f"{kind} {number} was answered but is {found.get(number)}")
    return problems


def _messages_arrived(
    session: Session, faults: list[list[float]], records: list[Path]
) -> list[str]:
    """Every message not cancelled was sent and arrived; a key came at most twice, and twice
    only when its first copy came during a fault."""
    arrivals: dict[str, list[float]] = defaultdict(list)
    for record in records:
        if record.exists():
            for line in record.read_text(encoding="utf-8").splitlines():
                seen = json.loads(line)
                arrivals[seen["key"]].append(seen["at"])
    rows = session.execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.status).where(
            OutboxMessage.status != OutboxStatus.CANCELLED
        )
    ).all()
    problems = []
    states = Counter(status.value for _key, status in rows)
    if states.get("sent", 0) != len(rows):
        problems.append(f"messages not all sent: {dict(states)}")
    for key, status in rows:
        times = sorted(arrivals.get(key, []))
        if status == OutboxStatus.SENT and not times:
            problems.append(f"message {key} is sent but never arrived")
        if len(times) > 2:
            problems.append(f"message {key} arrived {len(times)} times")
        if len(times) == 2 and not _during(times[0], faults):
            problems.append(f"message {key} arrived twice, the first time outside any fault")
    return problems


def _during(moment: float, faults: list[list[float]]) -> bool:
    return any(
        start - IN_FLIGHT_SECONDS <= moment <= end + IN_FLIGHT_SECONDS for start, end in faults
    )


def _announced_once(session: Session, numbers: list[str]) -> list[str]:
    """Each document the staff marked ready is in one batch announcement, exactly once."""
    items = Counter(
        session.scalars(
            select(Request.receipt)
            .join(AnnouncementItem, AnnouncementItem.request_id == Request.id)
            .join(Announcement, Announcement.id == AnnouncementItem.announcement_id)
            .where(Request.receipt.in_(numbers), Announcement.kind == AnnouncementKind.BATCH)
        ).all()
    )
    return [
        f"ready {number} is in {items.get(number, 0)} batch announcements"
        for number in numbers
        if items.get(number, 0) != 1
    ]


def main(argv: list[str]) -> None:
    app = create_app()
    now = dt.datetime.now(dt.UTC)
    with app.app_context(), unit_of_work(app) as session:
        if argv[0] == "prepare":
            answer = prepare(session, now)
        elif argv[0] == "waiting":
            answer = waiting(session)
        else:
            changes, faults, *records = (Path(arg) for arg in argv[1:])
            answer = verify(session, changes, faults, records)
    print(json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1:])
