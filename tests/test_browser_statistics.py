"""The statistics page in a real Chromium: it passes axe with its charts inline under the
strict Content-Security-Policy, the charts have their tables, and the README's picture is
taken here."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import screenshot_path
from tracker import demo
from tracker.models import TIMEZONES, utcnow
from tracker.statistics import figures as statistics

pytestmark = pytest.mark.browser
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_the_statistics_page_passes_axe_and_is_pictured(
    browser, live_server, session, tmp_path
) -> None:
    now = utcnow()
    demo.add_requests(session, 1500, per_status=2, seed=3, now=now)
    for zone in TIMEZONES:
        statistics.roll_up(session, zone, now.astimezone(ZoneInfo(zone)).date(), full=True)
    session.commit()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        axe = Axe()
        for path in ("/statistik", "/statistik?kantor=36.73&minggu=26", "/statistik?lang=en"):
            page.goto(live_server + path)
            result = axe.run(page, options=WCAG_AA)
            assert result.violations_count == 0, (path, result.generate_report())
            sections = page.locator("section", has=page.locator("figure.chart svg[role=img]"))
            assert sections.count() >= 2
            for i in range(sections.count()):  # each section of charts has its table
                assert sections.nth(i).locator("table caption").count() == 1
        assert not refused, refused  # nothing on the page was blocked by the policy
        page.goto(live_server + "/statistik?lang=id")
        page.set_viewport_size({"width": 1280, "height": 1700})
        page.screenshot(path=screenshot_path("statistics.png", tmp_path))
    finally:
        context.close()
