"""The public pages on a 360-pixel phone in a real Chromium: none scrolls sideways (a wide
table scrolls inside its own box), the charts' labels are 12 CSS pixels or more as drawn (on
wider screens too), and the pages pass axe there."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe

from tracker import demo
from tracker.announcements import operations as announce
from tracker.announcements.queries import SHOWN
from tracker.models import TIMEZONES, utcnow
from tracker.statistics import figures as statistics
from tracker.status import Status

pytestmark = pytest.mark.browser
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
# Every chart text on screen, with its size in CSS pixels as drawn: its computed size times
# the scale of its SVG's viewBox (a rotated label's too).
LABELS = """() => Array.from(document.querySelectorAll('figure.chart svg text'))
  .filter((t) => t.getBoundingClientRect().width > 0)
  .map((t) => {
    const m = t.getScreenCTM();
    return [t.textContent, parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b)];
  })"""


@pytest.fixture
def filled(session) -> dict[Status, str]:
    """Demo requests of every status, their statistics rolled up and their announcements."""
    now = utcnow()
    samples = demo.add_requests(session, 600, per_status=1, seed=7, now=now)
    for zone in TIMEZONES:
        statistics.roll_up(session, zone, now.astimezone(ZoneInfo(zone)).date(), full=True)
    announce.publish(session, now)
    session.commit()
    return {status: numbers[0] for status, numbers in samples.items()}


def test_public_pages_fit_a_phone_and_their_chart_labels_are_readable(
    page, live_server, filled
) -> None:
    paths = [
        "/",
        f"/s/{filled[Status.READY]}",
        f"/s/{filled[Status.PROCESSING]}",
        f"/s/{filled[Status.NEEDS_FIX]}?lang=en",
        "/pengumuman",
        "/pengumuman?lang=en",
        "/board",
        "/statistik",
        "/statistik?lang=en&minggu=52",
        "/statistik?kantor=36.73&minggu=4",
    ]
    axe = Axe()
    for path in paths:
        page.goto(live_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
        if path.startswith("/statistik"):
            labels = page.evaluate(LABELS)
            assert len(labels) >= 20, path
            small = [(text, round(size, 1)) for text, size in labels if size < 12]
            assert small == [], path
        if path in ("/pengumuman", "/board", "/statistik"):
            result = axe.run(page, options=WCAG_AA)
            assert result.violations_count == 0, (path, result.generate_report())
    page.goto(live_server + "/pengumuman")
    assert page.locator("table.list").count() > 0  # there was something to lay out
    for width in (640, 1024, 1280):  # and the wide charts, one or two to a row, as well
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server + "/statistik")
        sizes = [size for _text, size in page.evaluate(LABELS)]
        assert len(sizes) >= 20 and min(sizes) >= 12, (width, min(sizes))


def test_a_long_list_of_announcements_is_paged_on_a_phone(page, live_server, make_request, session):
    """A point with more waiting than a page: each page of its list fits a phone, passes axe,
    and its pager is reached by keyboard. Control: the page of a point with two waiting has
    no pager."""
    for _ in range(SHOWN + 5):
        make_request(Status.READY, point="srg-cipocok")
    for _ in range(2):
        make_request(Status.READY, point="srg-kasemen")
    announce.publish(session, utcnow())
    session.commit()
    axe = Axe()
    page.goto(live_server + "/pengumuman?titik=srg-cipocok")
    for number, listed in ((1, SHOWN), (2, 5)):
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, number
        result = axe.run(page, options=WCAG_AA)
        assert result.violations_count == 0, (number, result.generate_report())
        assert page.locator("table.list tbody tr").count() == listed, number
        if number == 1:
            onward = page.locator(".pager a[href*='hal=2']")
            onward.focus()
            page.keyboard.press("Enter")
            page.wait_for_url("**hal=2**")
    back = page.locator(".pager a[href*='hal=1']")
    assert back.count() == 1 and page.locator(".pager a[href*='hal=3']").count() == 0
    page.goto(live_server + "/pengumuman?titik=srg-kasemen")
    assert page.locator("table.list tbody tr").count() == 2
    assert page.locator(".pager").count() == 0
