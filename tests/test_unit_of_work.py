"""The unit of work: one commit point per request, command and job run; operations only
flush; a view chooses once whether it writes."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask, abort
from sqlalchemy import func, select

from tests.factories import csrf_token, sign_in
from tracker import db
from tracker.audit.trail import SYSTEM
from tracker.audit.trail import record as audit_record
from tracker.config import DEFAULTS
from tracker.db import ReadOnlyUnit, get_session, writes
from tracker.models import AuditEntry, Request, utcnow
from tracker.places import pickup
from tracker.requests import lifecycle
from tracker.status import Status

ROOT = Path(__file__).resolve().parent.parent


def commits_and_rollbacks(folder: str) -> dict[str, list[str]]:
    """Every call of ``.commit()`` or ``.rollback()`` in the package, per file."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("commit", "rollback")
            ):
                where = str(path.relative_to(ROOT))
                found.setdefault(where, []).append(f"{node.func.attr}:{node.lineno}")
    return found


def test_only_the_unit_of_work_commits_or_rolls_back() -> None:
    found = {**commits_and_rollbacks("tracker"), **commits_and_rollbacks("jobs")}
    assert set(found) == {"tracker/db.py"}, found
    # Control: the walk finds the calls that are there.
    assert len(found["tracker/db.py"]) >= 4


def _audit_rows(session: Any) -> int:
    count = session.scalar(select(func.count()).select_from(AuditEntry))
    session.rollback()
    return count


@pytest.fixture
def unit_app(app: Flask) -> Flask:
    """The app with four small views that write one audit row each and answer differently."""

    def write_row() -> None:
        audit_record(get_session(), "unit_test", actor=SYSTEM, at=utcnow())
        get_session().flush()

    def ok() -> tuple[str, int]:
        write_row()
        return "ok", 200

    def refused() -> tuple[str, int]:
        write_row()
        return "no", 400

    def raises() -> str:
        write_row()
        abort(409)

    @writes
    def reads_but_marked() -> str:
        write_row()
        return "ok"

    def reads_then_writes() -> str:
        get_session().scalar(select(func.count()).select_from(Request))
        get_session(write=True)
        return "unreachable"

    for view, methods in (
        (ok, ["POST"]),
        (refused, ["POST"]),
        (raises, ["POST"]),
        (reads_but_marked, ["GET"]),
        (reads_then_writes, ["GET"]),
    ):
        app.add_url_rule(f"/unit/{view.__name__}", view.__name__, view, methods=methods)
    db.wrap_views(app)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def test_a_view_that_succeeds_commits_and_one_that_refuses_or_raises_changes_nothing(
    unit_app: Flask, session: Any
) -> None:
    client = unit_app.test_client()
    before = _audit_rows(session)
    assert client.post("/unit/refused").status_code == 400
    assert client.post("/unit/raises").status_code == 409
    assert _audit_rows(session) == before
    # Control: the same write in a view that succeeds is committed.
    assert client.post("/unit/ok").status_code == 200
    assert _audit_rows(session) == before + 1


def test_a_reading_view_cannot_switch_to_writing(
    unit_app: Flask, session: Any, caplog: Any
) -> None:
    client = unit_app.test_client()
    assert client.get("/unit/reads_then_writes").status_code == 500
    raised = [r.exc_info[0] for r in caplog.records if r.exc_info]
    assert raised == [ReadOnlyUnit]
    # Control: a GET view marked @writes writes, and its row is committed.
    before = _audit_rows(session)
    assert client.get("/unit/reads_but_marked").status_code == 200
    assert _audit_rows(session) == before + 1


def test_a_document_returned_by_hand_and_one_returned_at_night_get_the_same_window(
    app, client, make_account, make_request, session
) -> None:
    """The same thing, the same rule: back at the office's main point for
    ``RETURN_KEEP_OPEN_DAYS`` opening days, whoever returns it."""
    now = dt.datetime(2027, 3, 3, 2, 0, tzinfo=dt.UTC)  # Wednesday 09.00 WIB
    by_hand = make_request(Status.READY, at=now - dt.timedelta(days=1))
    at_night = make_request(Status.READY, at=now - dt.timedelta(days=40))
    with time_machine.travel(now, tick=False):
        assert sign_in(client, make_account("operator").username).status_code == 303
        data = {"returned-to": "returned", "returned-version": str(by_hand.version),
                "csrf_token": csrf_token(client, "/staff/")}  # fmt: skip
        answer = client.post(f"/staff/r/{by_hand.receipt}/move/returned", data=data)
    assert answer.status_code == 303
    assert lifecycle.expire(session, app.config, now) == 1
    session.commit()
    session.expire_all()
    assert by_hand.status == at_night.status == Status.RETURNED
    windows = [(r.pickup_point_id, r.window_starts, r.window_ends) for r in (by_hand, at_night)]
    assert windows[0] == windows[1]
    main = pickup.main_point(session, by_hand.office_id)
    kept = pickup.next_window(main, now, DEFAULTS["RETURN_KEEP_OPEN_DAYS"])
    assert windows[0] == (main.id, kept.starts, kept.ends)
    # Control: the pickup window's length would be a different window.
    short = pickup.next_window(main, now, DEFAULTS["PICKUP_WINDOW_DAYS"])
    assert (short.starts, short.ends) != (kept.starts, kept.ends)
    session.rollback()
