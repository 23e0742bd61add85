"""Moving a pile of requests at once: a scanned or pasted list is checked line by line, then
moved in one transaction, all or nothing. A receipt scanned twice is not a problem: the
repeat is dropped, with a note. A document whose citizen chose another pickup point than the
batch's waits for a choice: its own point, or the batch's."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker import receipts
from tracker.accounts import scope
from tracker.audit.trail import Actor
from tracker.errors import MissingDetails, ReceiptMistyped
from tracker.models import PickupPoint, Request, StaffAccount
from tracker.requests import operations
from tracker.requests.operations import Placement
from tracker.requests.workflow import TRANSITIONS
from tracker.status import Status

# Moves a batch may make: none of them needs a reason the citizen reads.
BATCH_MOVES = (Status.VERIFYING, Status.PROCESSING, Status.READY)
OK, MISTYPED, NOT_FOUND, OTHER_OFFICE, NOT_ALLOWED, REPEATED = (
    "ok",
    "mistyped",
    "not_found",
    "other_office",
    "not_allowed",
    "repeated",
)
CHUNK = 500


@dataclass
class Line:
    """One scanned or typed line and what it would do."""

    typed: str
    state: str
    receipt: str = ""
    status: Status | None = None
    # The point the citizen chose, when a batch made ready would send the document elsewhere.
    own_point: PickupPoint | None = None

    @property
    def ok(self) -> bool:
        return self.state == OK

    @property
    def dropped(self) -> bool:
        """A repeat of a line above: left out, and told, but it stops nothing."""
        return self.state == REPEATED

    @property
    def blocks(self) -> bool:
        return not (self.ok or self.dropped)


# What separates numbers in a list pasted from a chat, a letter or a spreadsheet's row: first
# the marks that never stand inside a number, then spaces too (a number may be typed in groups).
_LIST_SEPARATORS = (re.compile(r"[,;\t]+"), re.compile(r"[,;\s]+"))


def lines_of(text: str) -> list[str]:
    """The numbers in a scanned or pasted pile: one per line, as a scanner sends them; a line
    that is not one number but several, separated by commas, semicolons, tabs or spaces, gives
    each. A line that is neither stays whole, to be shown as mistyped."""
    found: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            found.extend(_numbers_in(line))
    return found


def _numbers_in(line: str) -> list[str]:
    # Split first: a line of two QR addresses reads as its first number whole. No one number
    # splits into parts that are all numbers (each part would be a whole number's length).
    for separators in _LIST_SEPARATORS:
        parts = [part.strip() for part in separators.split(line) if part.strip()]
        if len(parts) > 1 and all(map(_reads, parts)):
            return parts
    return [line]


def _reads(text: str) -> bool:
    try:
        receipts.parse(text)
    except ReceiptMistyped:
        return False
    return True


def check(
    session: Session,
    account: StaffAccount,
    typed: list[str],
    to: Status,
    point: PickupPoint | None = None,
) -> list[Line]:
    """Each line's state for moving to ``to`` (at ``point``), one query per few hundred lines."""
    parsed: list[Line] = []
    for text in typed:
        try:
            parsed.append(Line(text[:80], OK, receipts.parse(text)))
        except ReceiptMistyped:
            parsed.append(Line(text[:80], MISTYPED))
    found = _load(session, [line.receipt for line in parsed if line.receipt])
    seen: set[str] = set()
    for line in parsed:
        if line.state != OK:
            continue
        request = found.get(line.receipt)
        line.state = _state(account, request, to, point, line.receipt in seen)
        line.status = request.status if request is not None else None
        if line.ok and request is not None and to == Status.READY and point is not None:
            line.own_point = _elsewhere(request, point)
        seen.add(line.receipt)
    return parsed


def _elsewhere(request: Request, point: PickupPoint) -> PickupPoint | None:
    """The point the citizen chose at intake, when it is not ``point``."""
    chosen = request.preferred_point
    return chosen if chosen is not None and chosen.id != point.id else None


def undecided(lines: list[Line], keep: Mapping[str, bool]) -> list[Line]:
    """The lines whose citizen chose another point and for which no choice was made."""
    return [line for line in lines if line.own_point is not None and line.receipt not in keep]


def _state(
    account: StaffAccount,
    request: Request | None,
    to: Status,
    point: PickupPoint | None,
    repeated: bool,
) -> str:
    if request is None:
        return NOT_FOUND
    if not scope.sees(account, request.office_id):
        return OTHER_OFFICE
    if point is not None and point.office_id != request.office_id:
        return OTHER_OFFICE
    if repeated:
        return REPEATED
    if all(move.to != to for move in TRANSITIONS[request.status]):
        return NOT_ALLOWED
    return OK


def moved(session: Session, numbers: list[str]) -> list[Request]:
    """The requests a batch moved, in the order they were scanned (the printed list)."""
    found = _load(session, numbers)
    return [found[number] for number in numbers if number in found]


def _load(session: Session, numbers: list[str]) -> dict[str, Request]:
    found: dict[str, Request] = {}
    for start in range(0, len(numbers), CHUNK):
        chunk = numbers[start : start + CHUNK]
        query = (
            select(Request).where(Request.receipt.in_(chunk)).options(selectinload(Request.events))
        )
        found.update((r.receipt, r) for r in session.scalars(query))
    return found


def move(
    session: Session,
    account: StaffAccount,
    typed: list[str],
    to: Status,
    *,
    actor: Actor,
    now: dt.datetime,
    config: Mapping[str, Any],
    point: PickupPoint | None = None,
    keep: Mapping[str, bool] | None = None,
) -> list[Line]:
    """Check the lines again and, when none of them blocks and every document whose citizen
    chose another point has a choice in ``keep`` (receipt -> True: its own point, False: the
    batch's), move them all in the caller's unit of work, each through ``move`` (ready ones
    with one block of pickup numbers per point); repeats are dropped. Returns the lines;
    nothing moves if one blocks or a choice is missing."""
    if to == Status.READY and point is None:
        raise MissingDetails(missing="point", to=to)
    keep = keep or {}
    lines = check(session, account, typed, to, point)
    if not lines or any(line.blocks for line in lines) or undecided(lines, keep):
        return lines
    moving = [line for line in lines if line.ok]
    requests = _load(session, [line.receipt for line in moving])
    placements: list[Placement | None] = [None] * len(moving)
    if to == Status.READY and point is not None:
        placements = _placements(session, moving, point, keep, now, config)
    for line, placement in zip(moving, placements, strict=True):
        operations.move(
            session, requests[line.receipt], to, actor=actor, now=now, config=config,
            placement=placement, flush=False, batch=True,
        )  # fmt: skip
    operations.flush_moves(session)
    return lines


def _placements(
    session: Session,
    moving: list[Line],
    point: PickupPoint,
    keep: Mapping[str, bool],
    now: dt.datetime,
    config: Mapping[str, Any],
) -> list[Placement | None]:
    """Where each line's document waits: the batch's point, or the citizen's own where the
    choice says so; one block of pickup numbers per point, in the order scanned."""
    targets = [
        line.own_point if line.own_point is not None and keep.get(line.receipt) else point
        for line in moving
    ]
    blocks: dict[int, list[Placement]] = {}
    for target in {t.id: t for t in targets}.values():
        count = sum(t.id == target.id for t in targets)
        blocks[target.id] = list(operations.ready_placements(session, target, count, now, config))
    return [blocks[target.id].pop(0) for target in targets]
