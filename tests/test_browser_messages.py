"""Messages by choice and closures in a real Chromium: on a 360-pixel phone, with pages
that run no JavaScript, the status page names the channel, a small secondary control stops
messages after a confirmation and turns them back on, each page passing axe; the lobby board's own
script says "Tutup" and when the point opens next at 22.49 on an open weekday and on a
closure day, and lists the closure."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tracker.announcements import operations as announce
from tracker.models import Channel, Closure, utcnow
from tracker.places import pickup
from tracker.status import Status

pytestmark = pytest.mark.browser
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
POINT = "srg-dinas"
JAKARTA = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def phone(page: Any) -> Any:
    """A 360-pixel phone (JavaScript on, for axe; the pages run none: see the test)."""
    return page


def no_violations(page: Any) -> None:
    result = Axe().run(page, options=WCAG_AA)
    assert result.violations_count == 0, (page.url, result.generate_report())


def consents(session: Any, request: Any) -> bool:
    """Read, and end the transaction at once (on SQLite it would hold the app's lock)."""
    session.refresh(request)
    agreed = request.consent_notify
    session.commit()
    return agreed


def test_stop_messages_with_a_confirmation_and_turn_them_back_on(
    phone, live_server, make_request, session
) -> None:
    request = make_request(Status.READY, phone="081298765434")
    request.channel, request.consent_notify = Channel.WHATSAPP, True
    soon = utcnow().astimezone(JAKARTA).date() + dt.timedelta(days=2)
    request.pickup_point.closures.append(Closure(day=soon, reason="Rapat <dinas>"))
    session.commit()
    # The coming closure is listed on /pengumuman, which passes axe with it.
    phone.goto(f"{live_server}/pengumuman")
    expect(phone.get_by_text("Rapat <dinas>")).to_be_visible()
    no_violations(phone)
    phone.goto(f"{live_server}/s/{request.receipt}")
    assert phone.evaluate("document.scripts.length") == 0  # the control works without any
    expect(
        phone.get_by_text("Pesan dikirim lewat WhatsApp ke nomor berakhiran 34.")
    ).to_be_visible()
    expect(phone.get_by_text("Rapat <dinas>")).to_be_visible()  # with the opening hours
    stop = phone.get_by_role("button", name="Hentikan pesan")
    # A small secondary control: not the primary colour, not the page's width.
    box = stop.bounding_box()
    assert box is not None and box["width"] < 360 * 0.6, box
    colours = stop.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).color]")
    assert colours[0] == "rgb(255, 255, 255)", colours
    no_violations(phone)
    stop.click()
    expect(phone.get_by_role("heading", name="Hentikan pesan?")).to_be_visible()
    no_violations(phone)
    assert consents(session, request)  # asking changed nothing
    phone.get_by_role("button", name="Ya, hentikan pesan").click()
    phone.wait_for_url(re.compile(r".*/s/[^/]+\?berhenti=1$"))
    notice = phone.get_by_text("Anda tidak akan menerima pesan lagi tentang permohonan ini.")
    expect(notice).to_be_visible()
    assert notice.bounding_box()["y"] < 740  # at the top, in the first screen
    expect(phone.get_by_role("button", name="Hentikan pesan")).to_have_count(0)
    no_violations(phone)
    assert not consents(session, request)
    phone.get_by_role("button", name="Kirim pesan lagi").click()
    expect(phone.get_by_text("Pesan tentang permohonan ini akan dikirim lagi.")).to_be_visible()
    expect(phone.get_by_role("button", name="Hentikan pesan")).to_be_visible()
    assert consents(session, request)


def a_plain_weekday(point: Any, start: dt.date) -> dt.date:
    day = start
    while not (pickup.hours_on(point, day) and pickup.hours_on(point, day + dt.timedelta(1))):
        day += dt.timedelta(days=1)
    return day


def test_the_board_says_closed_and_when_it_opens_next(
    tv, live_server, make_request, session
) -> None:
    make_request(Status.READY, point=POINT)
    announce.publish(session, utcnow())  # (an empty ticker is a finding of its own for axe)
    session.commit()
    point = make_request.point(POINT)
    day = a_plain_weekday(point, dt.date(2027, 3, 8))
    next_opens = pickup.hours_on(point, day + dt.timedelta(days=1))[0][0]
    opens = pickup.hours_on(point, day)[0][0]
    hours = tv.locator("[data-role=hours]")
    status = tv.locator("[data-role=status]")
    # The server's clock is the board's (the page reads the offset from the Date header).
    with time_machine.travel(dt.datetime.combine(day, dt.time(22, 49), JAKARTA), tick=True):
        tv.goto(f"{live_server}/board/{POINT}?lang=en")
        expect(status).to_have_text(re.compile(r"\d\d:\d\d"))
        expect(hours).to_have_text(re.compile(rf"^Closed · opens again \w+ {next_opens:%H:%M}$"))
    # Control: in its hours the same board is open.
    middle = dt.datetime.combine(day, opens, JAKARTA) + dt.timedelta(minutes=30)
    with time_machine.travel(middle, tick=True):
        tv.goto(f"{live_server}/board/{POINT}?lang=en")
        expect(status).to_have_text(re.compile(r"\d\d:\d\d"))
        expect(hours).to_have_text(re.compile(r"^Open today: "))
        # A closure that day: the board turns to closed at its next poll, and lists it.
        point.closures.append(Closure(day=day, reason="Staff meeting"))
        session.commit()
        closed = re.compile(rf"^Closed · opens again \w+ {next_opens:%H:%M}$")
        expect(hours).to_have_text(closed, timeout=20_000)  # a poll or two later
        expect(tv.locator("[data-role=closures]")).to_contain_text("Staff meeting")
        no_violations(tv)
