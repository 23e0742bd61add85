"""A move of status and the messages it causes are one transaction: when writing it fails,
neither is left in the database, and the console answers a clean error page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests.factories import csrf_token
from tracker.db import make_engine
from tracker.models import AuditEntry, Channel, OutboxMessage, Request
from tracker.status import Status

Flushing = Callable[[Session], bool]


def writes_the_message(session: Session) -> bool:
    """The move's own flush: the new status and its outbox row."""
    return any(isinstance(row, OutboxMessage) for row in session.new)


def writes_the_audit_entry(session: Session) -> bool:
    """The flush of the commit, after the move's rows were already sent to the database."""
    return any(isinstance(row, AuditEntry) and row.action == "transition" for row in session.new)


@contextmanager
def failing_flush(app: Any, which: Flushing | None) -> Iterator[None]:
    """The app's writing sessions fail the flush ``which`` picks, after its statements ran,
    as a lost connection or a full disk would; ``None`` injects nothing (the control)."""

    def fail(session: Session, _context: Any) -> None:
        if which is not None and which(session):
            raise OperationalError("COMMIT", {}, Exception("disk I/O error (injected)"))

    writer = app.extensions["siapambil.db"]["writer"]
    event.listen(writer, "after_flush", fail)
    try:
        yield
    finally:
        event.remove(writer, "after_flush", fail)


def seen_from_elsewhere(database_url: str, request_id: int) -> tuple[Status, int]:
    """The request's status and its number of outbox rows, read on a connection of its own."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            status = connection.scalar(select(Request.status).where(Request.id == request_id))
            messages = connection.scalar(
                select(func.count()).where(OutboxMessage.request_id == request_id)
            )
    finally:
        engine.dispose()
    return Status(status), messages


@pytest.mark.parametrize(
    "which", [writes_the_message, writes_the_audit_entry, None], ids=["move", "commit", "control"]
)
def test_a_move_whose_commit_fails_leaves_neither_status_nor_message(
    app, client, operator, make_request, session, database_url, which
) -> None:
    request = make_request(Status.PROCESSING)
    request.consent_notify, request.channel = True, Channel.SMS
    session.commit()
    point = make_request.point("srg-cipocok")
    data = {"ready-to": "ready", "ready-version": str(request.version),
            "ready-point": str(point.id), "csrf_token": csrf_token(client, "/staff/")}  # fmt: skip
    with failing_flush(app, which):
        answer = client.post(f"/staff/r/{request.receipt}/move/ready", data=data)
    body = answer.get_data(as_text=True)
    if which is None:
        assert answer.status_code == 303
        assert seen_from_elsewhere(database_url, request.id) == (Status.READY, 1)
        return
    assert answer.status_code == 500
    assert "Terjadi gangguan" in body and "injected" not in body
    assert seen_from_elsewhere(database_url, request.id) == (Status.PROCESSING, 0)
    again = client.get(f"/staff/r/{request.receipt}")  # the console goes on as before
    assert again.status_code == 200
    assert seen_from_elsewhere(database_url, request.id) == (Status.PROCESSING, 0)
