"""Every page of the console, found from the URL map, checked against WCAG 2.1 AA with axe
in Chromium, as an admin (who may open every one)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.test_browser_staff import no_violations, sign_in
from tests.test_notify import MORNING_WIB, NOON_WIB, ready_with_sms
from tests.test_outbox_retry import die
from tracker.announcements import operations as announce
from tracker.models import Office, OutboxMessage
from tracker.status import Status

pytestmark = pytest.mark.browser

JSON_ONLY = {"staff.batch_check"}  # answers a script, not a reader


def console_pages(app: Any, values: dict[str, str]) -> list[str]:
    """Every GET page under /staff, its path arguments filled from ``values``."""
    pages = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or "GET" not in rule.methods:
            continue
        if rule.endpoint in JSON_ONLY or rule.endpoint == "staff.login":
            continue
        pages.append(rule.rule.replace("<", "{").replace(">", "}").format(**values))
    return sorted(pages)


def test_every_console_page_passes_axe(desk, app, live_server, make_account, make_request, session):
    ready = make_request(Status.READY)
    # A message given up on, so that the outbox page shows its list and its bulk button.
    ready_with_sms(make_request, session, MORNING_WIB)
    with app.app_context():
        announce.publish(session, NOON_WIB)
        session.commit()
    [given_up] = session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending"))
    session.commit()
    die(session, given_up, NOON_WIB)
    values = {"receipt": ready.receipt, "status": "ready", "code": ready.pickup_point.code,
              "username": "x", "office_code": "36.73",
              "service_code": ready.service.code}  # fmt: skip
    pages = console_pages(app, values)
    assert len(pages) >= 12 and f"/staff/r/{ready.receipt}" in pages
    admin = make_account("admin")
    session.commit()
    sign_in(desk, live_server, admin.username)
    for path in [*pages, f"/staff/handover?no={ready.receipt}", "/staff/search?q=Budi"]:
        desk.goto(live_server + path)
        if path == "/staff/outbox":  # the page with its list and its bulk button
            assert desk.get_by_role("button", name="Kirim ulang 1 pesan").count() == 1
        no_violations(desk)


def test_the_edit_forms_a_browser_posts_carry_every_field(
    desk, live_server, make_account, make_request, session
):
    """The edit forms refuse a post that lacks a field (``Sent``, and the hours form's own
    check): the pages must give a browser every one. Chromium submits each form of a point's
    and an office's page as shown, empty fields among them (the second period of each day,
    the location, a cleared WhatsApp), and each is saved."""
    point = make_request.point("srg-dinas")
    hours = [(h.weekday, h.opens, h.closes) for h in point.hours]
    counters = list(point.counters)
    assert hours and len(hours) < 14  # some of the 28 time fields are empty
    session.rollback()
    admin = make_account("admin")
    session.commit()
    sign_in(desk, live_server, admin.username)
    saved = desk.get_by_text("Tersimpan.")
    for button in ("Simpan jam buka", "Simpan loket", "Simpan lokasi"):
        desk.goto(f"{live_server}/staff/points/srg-dinas")
        desk.get_by_role("button", name=button).click()
        expect(saved).to_be_visible()
    desk.goto(f"{live_server}/staff/offices/36.73")
    desk.get_by_label("WhatsApp").fill("")
    desk.get_by_role("button", name="Simpan kontak").click()
    expect(saved).to_be_visible()
    point = make_request.point("srg-dinas")
    assert [(h.weekday, h.opens, h.closes) for h in point.hours] == hours
    assert point.counters == counters
    assert session.scalars(select(Office.whatsapp).where(Office.code == "36.73")).one() == ""
    session.rollback()
