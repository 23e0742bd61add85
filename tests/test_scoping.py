"""Office scoping, walked: every console page that lists or searches, as an operator and as
a supervisor of each of two offices, shows nothing that identifies the other office's
requests, points, closures, messages or accounts.

The pages are found in the URL map (every GET under ``/staff`` without a path argument, and
the queue of every status), each also with ``?office=`` naming the other office where the
view reads it, plus search by a name and an NIK that both offices' requests share and by
every receipt number of both. Each office has requests in every status (old enough to be
overdue when still open), its pickup points and a mobile-service visit, a closure, a dead
message, and accounts, and what identifies each of them is its own: 85 answers per account
with today's eleven statuses. An admin walks the same pages and sees both offices: the
control that shows the check can fail, as does a query run without the limit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import sign_in
from tracker import receipts
from tracker.accounts import scope
from tracker.models import (
    Channel,
    Closure,
    Office,
    OutboxMessage,
    OutboxStatus,
    PickupPoint,
    Request,
    StaffAccount,
    utcnow,
)
from tracker.places import pickup
from tracker.status import Status
from tracker.web.arguments import declaration, field_names

HOME, AWAY = "36.73", "36.02"
TOKENS = {HOME: "Ratnasari", AWAY: "Purnamawati"}  # in every name an office's rows carry
SHARED_NAME = "Wibowo"  # every applicant of both offices has it
SHARED_NIK = "3673011203850001"  # one person who applied at both offices
OPERATOR, SUPERVISOR, ADMIN = "operator", "supervisor", "admin"
LONG_AGO = dt.timedelta(days=60)


def username(role: str, office: str) -> str:
    return f"{role}-{TOKENS[office].lower()}"


@pytest.fixture
def world(make_request: Any, make_account: Any, session: Session) -> dict[str, int]:
    """Both offices, each with a request in every status, a visit, a closure, a dead message
    and an operator and a supervisor; an admin at HOME. Returns each office's id."""
    now = utcnow()
    ids = {}
    for code, token in TOKENS.items():
        made = {
            status: make_request(
                status, office=code, name=f"{token} {SHARED_NAME}", nik=SHARED_NIK,
                at=now - LONG_AGO,
            )
            for status in Status
        }  # fmt: skip
        office = make_request.office(code)
        starts = now + dt.timedelta(days=2)
        pickup.schedule_visit(
            session, office, name=f"Balai Warga {token}", address=f"Jl. {token} No. 1",
            starts=starts, ends=starts + dt.timedelta(hours=4),
        )  # fmt: skip
        office.points[0].closures.append(Closure(day=dt.date(2031, 2, 3), reason=f"Rapat {token}"))
        ready = made[Status.READY]
        session.add(
            OutboxMessage(
                request_id=ready.id, office_id=office.id, event="ready", channel=Channel.SMS,
                idempotency_key=f"dead-{code}", recipient="081234567890", body="",
                status=OutboxStatus.DEAD, attempts=8, last_error=f"gateway refused {token}",
            )
        )  # fmt: skip
        session.commit()
        for role in (OPERATOR, SUPERVISOR):
            make_account(role, office=code, username=username(role, code))
        ids[code] = office.id
    make_account(ADMIN, office=HOME, username=username(ADMIN, HOME))
    return ids


def identifying(session: Session, office_id: int) -> set[str]:
    """Every text that names one of the office's rows: receipt numbers (as stored and as
    printed), applicants, points (name, code, address), closures, messages' errors, account
    names, and the office's own name."""

    def texts(model: Any, *columns: Any) -> set[str]:
        rows = session.execute(select(*columns).where(model.office_id == office_id))
        return {str(value) for row in rows for value in row if value}

    numbers = texts(Request, Request.receipt)
    found = numbers | {receipts.format_grouped(n) for n in numbers}
    found |= texts(Request, Request.applicant_name)
    found |= texts(PickupPoint, PickupPoint.name, PickupPoint.code, PickupPoint.address)
    found |= texts(OutboxMessage, OutboxMessage.last_error)
    found |= texts(StaffAccount, StaffAccount.username)
    closures = select(Closure.reason).join(PickupPoint).where(PickupPoint.office_id == office_id)
    found |= set(session.scalars(closures))
    found.add(session.get(Office, office_id).name)
    session.rollback()
    return found


def listed(session: Session, office_id: int, role: str) -> set[str]:
    """What the lists must show of the office to an account that may see it: every receipt
    number, and to a supervisor also the visit, the dead message and every account."""
    found = set(session.scalars(select(Request.receipt).where(Request.office_id == office_id)))
    if role != OPERATOR:  # points, messages and accounts are for supervisors
        token = TOKENS[session.get(Office, office_id).code]
        found |= {f"Balai Warga {token}", f"gateway refused {token}"}
        found |= set(
            session.scalars(
                select(StaffAccount.username).where(StaffAccount.office_id == office_id)
            )
        )
    session.rollback()
    return found


# The lists only admins see (whole-deployment settings): every other role is refused them.
ADMINS_ONLY = {"/staff/leave-days", "/staff/services", "/staff/new-point", "/staff/new-service"}


def lists_and_searches(app: Flask) -> list[tuple[str, str, bool]]:
    """(path, endpoint, whether it reads ``?office=``) for every GET of the console without a
    path argument, and for the queue of every status."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "GET" not in (rule.methods or ()):
            continue
        if rule.arguments and rule.arguments != {"status"}:
            continue
        declared = declaration(app.view_functions[rule.endpoint])
        chooses = bool(declared and declared.query and "office" in field_names(declared.query))
        if rule.arguments:
            for status in Status:
                found.append((rule.build({"status": status.value})[1], rule.endpoint, chooses))
        else:
            found.append((rule.rule, rule.endpoint, chooses))
    return sorted(found)


def walk(app: Flask, client: Any, session: Session, other_id: int) -> dict[str, Any]:
    """Every list and search as the signed-in account: the path asked -> the answer."""
    numbers = list(session.scalars(select(Request.receipt)))
    session.rollback()
    paths = []
    for path, endpoint, chooses in lists_and_searches(app):
        paths.append(path)
        if chooses:
            paths.append(f"{path}?office={other_id}")
        if endpoint == "staff.search":
            # typed in lower case, so that the page repeating the query is told apart from
            # a result showing the number
            for typed in [SHARED_NAME, SHARED_NIK, *(n.lower() for n in numbers)]:
                paths.append(f"{path}?q={typed}")
                paths.append(f"{path}?q={typed}&office={other_id}")
    return {path: client.get(path) for path in paths}


def text_of(answer: Any) -> str:
    return answer.get_data(as_text=True) + answer.headers.get("Location", "")


def test_the_walk_covers_every_list(app: Flask) -> None:
    walked = {endpoint for _path, endpoint, _chooses in lists_and_searches(app)}
    assert {"staff.home", "staff.queue", "staff.overdue", "staff.search", "staff.points",
            "staff.accounts_page", "staff.outbox_page"} <= walked  # fmt: skip
    assert len([p for p, e, _ in lists_and_searches(app) if e == "staff.queue"]) == len(Status)


@pytest.mark.parametrize("role", [OPERATOR, SUPERVISOR])
@pytest.mark.parametrize("office", [HOME, AWAY])
def test_no_page_shows_the_other_offices_rows(
    app: Flask, client: Any, session: Session, world: dict[str, int], role: str, office: str
) -> None:
    other = AWAY if office == HOME else HOME
    assert sign_in(client, username(role, office)).status_code == 303
    foreign = identifying(session, world[other])
    pages = walk(app, client, session, world[other])
    for path, answer in pages.items():
        assert answer.status_code in (200, 303, 403), path
        assert role == OPERATOR or answer.status_code != 403 or path in ADMINS_ONLY, path
        shown = sorted(text for text in foreign if text in text_of(answer))
        assert not shown, f"{path} as {role} of {office} shows {shown}"
    # and the walk is not empty: the account's own rows are there to be seen
    seen = "".join(text_of(answer) for answer in pages.values())
    assert {text for text in listed(session, world[office], role) if text not in seen} == set()


def test_an_admin_sees_both_offices_and_the_check_catches_it(
    app: Flask, client: Any, session: Session, world: dict[str, int]
) -> None:
    """The control: the same walk as an admin shows both offices' rows, and the check the
    test above makes finds them."""
    assert sign_in(client, username(ADMIN, HOME)).status_code == 303
    pages = walk(app, client, session, world[AWAY])
    seen = "".join(text_of(answer) for answer in pages.values())
    for code in (HOME, AWAY):
        assert {text for text in listed(session, world[code], ADMIN) if text not in seen} == set()
    foreign = identifying(session, world[AWAY])
    caught = [path for path, answer in pages.items() if any(t in text_of(answer) for t in foreign)]
    assert {"/staff/accounts", "/staff/outbox", "/staff/points", "/staff/queue/ready"} <= set(
        caught
    )


def test_an_unscoped_query_returns_the_other_offices_rows(
    session: Session, world: dict[str, int]
) -> None:
    """Without the limit a query reads every office; with it, only what the account sees,
    and only an admin's choice of office counts."""

    def account(role: str, office: str) -> StaffAccount:
        return session.scalars(
            select(StaffAccount).where(StaffAccount.username == username(role, office))
        ).one()

    def offices(query: Any) -> set[int]:
        return set(session.scalars(query))

    everything = select(Request.office_id)
    assert offices(everything) == {world[HOME], world[AWAY]}
    for role in (OPERATOR, SUPERVISOR):
        home = account(role, HOME)
        assert offices(scope.limit(everything, home, Request.office_id)) == {world[HOME]}
        chose_away = scope.limit(everything, home, Request.office_id, chosen=world[AWAY])
        assert offices(chose_away) == {world[HOME]}  # only an admin may choose
        assert scope.sees(home, world[HOME]) and not scope.sees(home, world[AWAY])
        assert not scope.is_admin(home)
    admin = account(ADMIN, HOME)
    assert scope.is_admin(admin) and scope.sees(admin, world[AWAY])
    assert offices(scope.limit(everything, admin, Request.office_id)) == {world[HOME], world[AWAY]}
    chosen = scope.Scope(admin, chosen=world[AWAY])
    assert chosen.office_id == world[AWAY]
    assert offices(chosen.limit(everything, Request.office_id)) == {world[AWAY]}
