"""The status page's step bar, needs-fix help, complaint links and delivery details in a real
Chromium on a 360-pixel phone, against WCAG 2.1 AA (axe); the needs-fix page's screenshot."""

from __future__ import annotations

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import screenshot_path
from tracker import demo
from tracker.models import Request, utcnow
from tracker.status import Status

pytestmark = pytest.mark.browser
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
S = Status


def test_the_needs_fix_page_on_a_phone(page, live_server, session, tmp_path) -> None:
    samples = demo.add_requests(session, 0, per_status=1, seed=11, now=utcnow())
    session.commit()
    number = samples[S.NEEDS_FIX][0]
    page.goto(f"{live_server}/s/{number}")
    current = page.locator(".steps [aria-current='step']")
    assert current.count() == 1 and "Perlu perbaikan" in current.inner_text()
    assert current.is_visible()
    # a step to come is told apart by its outline and its words, not by colour alone
    todo = page.locator(".steps .step-todo").first
    assert todo.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    assert "(belum)" in todo.text_content()
    assert page.get_by_text("Bawa atau kirim paling lambat").is_visible()
    assert page.get_by_role("heading", name="Tempat membawa perbaikan").is_visible()
    assert page.get_by_role("link", name="Buka di aplikasi peta").first.is_visible()
    assert not page.locator(".overdue").count()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=screenshot_path("status-needs-fix.png", tmp_path), full_page=True)
    result = Axe().run(page, options=WCAG_AA)
    assert result.violations_count == 0, result.generate_report()


@pytest.mark.parametrize("status", [S.VERIFYING, S.DELIVERING, S.REJECTED, S.PROCESSING])
def test_late_delivering_and_rejected_pages_meet_wcag_21_aa(
    page, live_server, make_request, session, status
) -> None:
    request = make_request(status)
    if status == S.VERIFYING:  # late
        stored = session.get(Request, request.id)
        stored.expected_on = utcnow().date() - dt.timedelta(days=5)
        session.commit()
    axe = Axe()
    page.goto(f"{live_server}/s/{request.receipt}")
    if status == S.VERIFYING:
        assert page.get_by_role("link", name="SP4N-LAPOR!").is_visible()
        assert page.get_by_role("link", name="Ombudsman Republik Indonesia").is_visible()
    elif status == S.DELIVERING:
        assert page.get_by_text("Pos Indonesia").is_visible()
    elif status == S.REJECTED:
        assert page.get_by_role("heading", name="Tempat mengajukan permohonan lagi").is_visible()
    for path in [f"/s/{request.receipt}", f"/s/{request.receipt}?lang=en"]:
        page.goto(live_server + path)
        assert page.locator(".steps [aria-current='step']").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
        result = axe.run(page, options=WCAG_AA)
        assert result.violations_count == 0, (path, result.generate_report())
