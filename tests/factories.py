"""Factories that make data through the product's own domain functions."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker.accounts import operations as accounts
from tracker.audit.trail import Actor
from tracker.demo import PATHS
from tracker.intake import operations as intake
from tracker.models import (
    CollectorKind,
    Office,
    PickupPoint,
    Request,
    Role,
    Service,
    StaffAccount,
    utcnow,
)
from tracker.places.forms import HoursForm
from tracker.requests import operations
from tracker.requests.operations import Collector, Courier
from tracker.status import Status

FACTORY = Actor("factory")
NOTES = {
    Status.NEEDS_FIX: "Foto kopi KK kurang jelas; bawa KK asli.",
    Status.REJECTED: "Data terdaftar di kabupaten lain.",
    Status.CANCELLED: "Dibatalkan atas permintaan pemohon.",
}


class RequestFactory:
    """``factory(status=..., **fields)`` -> a committed Request in that status, every step
    taken at ``at`` (the real clock, read once, unless a test chooses its instant)."""

    def __init__(self, app: Flask, session: Session) -> None:
        self.app = app
        self.session = session

    def _one(self, query: Any) -> Any:
        """One row, with the transaction ended at once: the test's session is a writer, and
        on SQLite an open transaction would hold the lock the app's requests need."""
        found = self.session.scalars(query).one()
        self.session.commit()
        return found

    def office(self, code: str) -> Office:
        return self._one(select(Office).where(Office.code == code))

    def service(self, code: str) -> Service:
        return self._one(select(Service).where(Service.code == code))

    def point(self, code: str) -> PickupPoint:
        return self._one(select(PickupPoint).where(PickupPoint.code == code))

    def __call__(
        self,
        status: Status = Status.SUBMITTED,
        *,
        office: str = "36.73",
        service: str = "ktp-el",
        name: str = "Budi Santoso",
        nik: str | None = "3673011203850001",
        phone: str | None = "081234567890",
        email: str | None = None,
        address: str | None = None,
        point: str | None = None,
        at: dt.datetime | None = None,
    ) -> Request:
        at = at or utcnow()
        the_office = self.office(office)
        request = intake.register(
            self.session,
            office=the_office,
            service=self.service(service),
            applicant_name=name,
            nik=nik,
            phone=phone,
            email=email,
            address=address,
            actor=FACTORY,
            now=at,
        )
        for step in PATHS[status][1:]:
            self.move(request, step, point=point, at=at)
        self.session.commit()
        return request

    def move(
        self,
        request: Request,
        to: Status,
        *,
        point: str | None = None,
        at: dt.datetime | None = None,
        **kw: Any,
    ) -> None:
        """One step of the workflow, as staff would make it (a collection as a handover of the
        document to the applicant, unless ``collector`` says who)."""
        at = at or utcnow()
        the_point = None
        if to == Status.READY:
            the_point = self.point(point) if point else request.office.points[0]
        handover: dict[str, Any] = {}
        if to == Status.COLLECTED and "collector" not in kw:
            handover["collector"] = Collector(CollectorKind.SELF, id_checked=True)
        elif to == Status.DELIVERING and "courier" not in kw:
            handover["courier"] = Courier("Pos Indonesia", "P123")
        operations.move(
            self.session,
            request,
            to,
            actor=FACTORY,
            now=at,
            config=self.app.config,
            public_note=NOTES.get(to, ""),
            point=the_point,
            **handover,
            **kw,
        )


PASSWORD = "kopi-tubruk-pagi-7"


class AccountFactory:
    """``factory(role, office="36.73")`` -> a committed StaffAccount whose password is
    ``PASSWORD``."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.made = 0

    def __call__(
        self, role: str = "operator", office: str = "36.73", username: str | None = None
    ) -> StaffAccount:
        self.made += 1
        the_office = self.session.scalars(select(Office).where(Office.code == office)).one()
        account = accounts.create(
            self.session,
            username=username or f"{role}{self.made}-{office.replace('.', '')}",
            password=PASSWORD,
            office=the_office,
            role=Role(role),
        )
        self.session.commit()
        return account


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def week(**periods: str) -> dict[str, str]:
    """A point's opening-hours form as a browser posts it: every field, those not given
    empty (``week(d0_p0_opens="08:00", d0_p0_closes="15:00")``)."""
    every = dict.fromkeys(HoursForm.every_field_name(), "")
    assert set(periods) <= set(every), set(periods) - set(every)
    return {**every, **periods}


def csrf_token(client: Any, path: str = "/staff/login") -> str:
    """The CSRF token a page of the console carries for this client's session."""
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def sign_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post(
        "/staff/login", data={"username": username, "password": password, "csrf_token": token}
    )


def wait_until_blocked(app: Flask, what: str) -> bool:
    """Wait until another connection's statement waits on a lock that a test's open
    transaction holds, and say whether the database is PostgreSQL. There the wait is seen in
    ``pg_stat_activity`` (so a test of a race proves the race happened: ``what`` names the
    statement that never waited, if it did not); on SQLite, whose writers wait for each
    other at their first statement, a moment is given for it to get there."""
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        time.sleep(0.3)
        return False
    # Not a writer's session: its transaction would take the calendar's lock, and queue
    # behind a change of the calendar that waits on the test's (tracker.places.leave).
    engine = app.extensions["siapambil.db"]["engine"]
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 10
    while True:
        with engine.connect() as watcher:
            waiting = bool(watcher.scalar(query))
        if waiting:
            return True
        assert time.monotonic() < deadline, f"{what} never waited on the lock"
        time.sleep(0.05)


def while_held(app: Flask, held: Session, act: Any, what: str) -> tuple[Any, bool]:
    """Run ``act()`` in a thread while ``held`` (a writer's session with a row flushed, not
    committed) holds its lock, commit ``held`` once ``act`` waits on it, and give back what
    ``act`` returned (or raised) and whether the database is PostgreSQL: a race between two
    writers, played in a known order."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(act())
        except Exception as error:  # noqa: BLE001 - the outcome is what the test checks
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    on_postgres = wait_until_blocked(app, what)
    held.commit()
    held.close()
    thread.join(timeout=60)
    [result] = outcome
    return result, on_postgres
