"""The citizen's look-up in a real Chromium: typing a demo receipt, reading the status,
switching language, without JavaScript, on a 360-pixel phone, and against WCAG 2.1 AA (axe)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import screenshot_path
from tracker import demo, receipts
from tracker.models import utcnow
from tracker.status import Status

pytestmark = pytest.mark.browser
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def demo_receipts(session) -> dict[Status, str]:
    samples = demo.add_requests(session, 0, per_status=1, seed=11, now=utcnow())
    session.commit()
    return {status: numbers[0] for status, numbers in samples.items()}


@pytest.fixture
def no_js_page(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="id-ID", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_type_a_demo_receipt_read_the_status_and_switch_language(
    page, live_server, demo_receipts, tmp_path
) -> None:
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else outside.append(r.url))
    number = demo_receipts[Status.READY]
    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "id"
    sloppy = receipts.format_grouped(number).lower().replace("-", " ")
    page.get_by_label("Nomor tanda terima").fill(sloppy)
    page.get_by_role("button", name="Cek").click()
    page.wait_for_url("**/cek?no=*")
    status = page.locator("#now")
    assert "Siap diambil" in status.inner_text()
    assert page.get_by_text("Nomor pengambilan").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=screenshot_path("status.png", tmp_path), full_page=True)

    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Ready for pickup" in page.locator("#now").inner_text()
    page.goto(f"{live_server}/s/{demo_receipts[Status.PROCESSING]}")
    assert "Being processed" in page.locator("#now").inner_text()  # the choice is remembered
    assert outside == []


def test_a_typo_is_told_in_place_without_javascript(no_js_page, live_server, demo_receipts):
    number = demo_receipts[Status.PROCESSING]
    typo = number[:5] + ("0" if number[5] != "0" else "1") + number[6:]
    no_js_page.goto(live_server + "/")
    no_js_page.get_by_label("Nomor tanda terima").fill(typo)
    no_js_page.keyboard.press("Enter")
    no_js_page.wait_for_url("**/cek?no=*")
    alert = no_js_page.get_by_role("alert")
    assert "salah ketik" in alert.inner_text()
    assert no_js_page.get_by_label("Nomor tanda terima").input_value() == typo
    no_js_page.get_by_label("Nomor tanda terima").fill(number)
    no_js_page.keyboard.press("Enter")
    assert "Sedang diproses" in no_js_page.locator("#now").inner_text()


def test_the_keyboard_reaches_the_form_in_order(page, live_server) -> None:
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    order = []
    for _ in range(4):
        page.keyboard.press("Tab")
        order.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent")
        )
    assert order[:4] == ["SiapAmbil", "English", "no", "Cek"]


@pytest.mark.parametrize("status", [Status.READY, Status.NEEDS_FIX, Status.RETURNED])
def test_pages_meet_wcag_21_aa(page, live_server, demo_receipts, status) -> None:
    number = demo_receipts[status]
    axe = Axe()
    for path in [
        "/",
        f"/s/{number}",
        f"/s/{number}/receipt",
        "/cek?no=AAAA",
        f"/s/{number}?lang=en",
    ]:
        page.goto(live_server + path)
        result = axe.run(page, options=WCAG_AA)
        assert result.violations_count == 0, (path, result.generate_report())


def test_text_can_be_doubled_without_sideways_scrolling(page, live_server, demo_receipts) -> None:
    page.set_viewport_size({"width": 640, "height": 900})
    page.goto(f"{live_server}/s/{demo_receipts[Status.READY]}")
    page.evaluate("document.documentElement.style.fontSize = '225%'")
    assert page.evaluate("document.documentElement.scrollWidth") <= 640
    assert page.locator("#now").is_visible()


def test_the_receipt_fits_58mm_paper(page, live_server, demo_receipts) -> None:
    page.goto(f"{live_server}/s/{demo_receipts[Status.SUBMITTED]}/receipt?paper=58mm")
    page.emulate_media(media="print")
    # 58 mm paper is about 219 CSS pixels wide; its printable width is about 196.
    page.set_viewport_size({"width": 196, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 196
    assert page.locator(".receipt-qr").is_visible()
