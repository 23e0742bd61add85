"""The counter's day in a real Chromium, by keyboard where a counter works by keyboard:
sign in; intake and its printed receipt; a scanned batch of 20 marked ready; handover to a
representative; sign out, after which the old cookie opens nothing. Console pages are
checked against WCAG 2.1 AA with axe."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import screenshot_path
from tests.factories import PASSWORD
from tests.test_browser import WCAG_AA
from tracker import receipts
from tracker.models import Handover, Request
from tracker.status import Status

pytestmark = pytest.mark.browser


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/staff/login")
    expect(page.locator("#username")).to_be_focused()  # autofocus (no eval: the CSP forbids it)
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/staff/")


def no_violations(page: Any) -> None:
    result = Axe().run(page, options=WCAG_AA)
    assert result.violations_count == 0, result.generate_report()


def test_a_day_at_the_counter(desk, browser, live_server, make_account, make_request, session):
    page = desk
    account = make_account("operator")
    pile = [make_request(Status.PROCESSING) for _ in range(20)]
    waiting = make_request(Status.READY)

    sign_in(page, live_server, account.username)
    assert account.username in page.locator(".signout").inner_text()
    no_violations(page)

    # Intake, then the printable receipt opens at once.
    page.goto(live_server + "/staff/intake")
    no_violations(page)
    page.select_option("#service", label="Kartu Keluarga")
    page.fill("#applicant_name", "Siti Rahmawati")
    page.fill("#nik", "3673015212900003")
    page.fill("#phone", "0812 3456 7890")
    page.check("#consent_notify")
    page.locator("form.intake button[type=submit]").press("Enter")
    page.wait_for_url("**/staff/r/*/receipt")
    receipt = page.url.split("/r/")[1].split("/")[0]
    assert receipts.format_grouped(receipt) in page.locator(".receipt-number").inner_text()
    assert page.locator("img.receipt-qr").evaluate("i => i.naturalWidth") > 0
    no_violations(page)  # the counter's receipt page, in the console
    assert page.evaluate("document.activeElement.hasAttribute('data-print')")  # Enter prints
    page.emulate_media(media="print")
    assert page.locator(".paper").is_hidden() and page.locator(".actions").is_hidden()
    assert page.locator(".staff-header").is_hidden()
    page.emulate_media(media="screen")

    # A pile of 20 finished documents scanned (the scanner types the QR's address + Enter).
    page.goto(live_server + "/staff/batch")
    no_violations(page)
    page.select_option("#point", label="Disdukcapil Kota Serang")
    scan = page.locator("#scan")
    for request in pile:
        scan.type(receipts.status_url("https://cek.example.go.id", request.receipt))
        scan.press("Enter")
    page.locator("#scanned li.line-ok").nth(19).wait_for()
    scan.type(waiting.receipt)  # already ready: cannot be marked ready again
    scan.press("Enter")
    page.locator("#scanned li.line-not_allowed").wait_for()
    scan.type(pile[0].receipt)  # scanned twice: the repeat is dropped, with a note
    scan.press("Enter")
    page.locator("#scanned li.line-repeated").wait_for()
    assert page.locator("#scanned li.line-ok").count() == 20
    assert page.locator("#receipts").input_value().split().count(pile[0].receipt) == 1
    no_violations(page)
    page.locator("#batch button[type=submit]").click()
    page.wait_for_url(live_server + "/staff/batch")
    assert "20" in page.locator(".notice").first.inner_text()
    assert page.locator("table.batch-done tbody tr").count() == 20  # the list to print
    no_violations(page)
    session.expire_all()
    assert {r.status for r in pile} == {Status.READY}
    numbers = {r.pickup_number for r in pile}
    assert len(numbers) == 20
    session.commit()  # ends the test's read: SQLite's lock is the live server's again

    # Handover to a representative, typed by keyboard.
    first = pile[0]
    page.goto(live_server + "/staff/handover")
    # The field takes focus by itself (autofocus), which Chromium may apply a moment after
    # the load event: type only once it has it, or the first keys go nowhere.
    expect(page.locator("#no")).to_be_focused()
    page.keyboard.type(receipts.format_grouped(first.receipt))
    expect(page.locator("#no")).to_have_value(receipts.format_grouped(first.receipt))
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/handover?no=*")
    expect(page.locator(".pickup-number")).to_contain_text(first.pickup_number)
    no_violations(page)
    page.select_option("#counter", "Loket 2")  # called to a counter: the lobby board shows it
    page.locator("form.call button").click()
    page.wait_for_url("**/staff/handover?no=*")
    assert "Loket 2" in page.locator(".notice").inner_text()
    page.check("#collector-1")
    page.check("#id_checked")
    page.fill("#collector_name", "Ahmad Fauzi")
    page.fill("#relation", "Suami")
    page.check("#attorney_checked")
    page.locator(".handover button.primary").click()
    page.wait_for_url(live_server + "/staff/handover")
    session.expire_all()
    assert first.status == Status.COLLECTED
    handover = session.scalars(select(Handover).where(Handover.request_id == first.id)).one()
    assert (handover.kind.value, handover.collector_name) == ("representative", "Ahmad Fauzi")
    session.commit()

    # Sign out; the cookie taken before no longer opens the console.
    copied = page.context.cookies()
    page.locator(".signout button").click()
    page.wait_for_url("**/staff/login")
    thief = browser.new_context()
    thief.add_cookies(copied)
    stolen = thief.new_page()
    stolen.goto(live_server + "/staff/")
    assert "/staff/login" in stolen.url
    thief.close()
    assert session.scalars(select(Request).where(Request.receipt == receipt)).one()


def test_intake_fits_a_counter_screen(browser, live_server, make_account, session, tmp_path):
    """The common case (one applicant, WhatsApp, pickup at this office) at 1366×768: every
    field and the save button on the screen without scrolling, each radio beside its label,
    and the receipt page after it."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server, make_account("operator").username)
        page.goto(live_server + "/staff/intake")
        save = page.locator("form.intake button[type=submit]")
        box = save.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 768, box
        for option in page.locator(".radios .option").all():
            radio = option.locator("input").bounding_box()
            label = option.locator("label").bounding_box()
            assert (
                radio
                and label
                and abs((radio["y"] + radio["height"] / 2) - (label["y"] + label["height"] / 2))
                < label["height"] / 2
            ), option.inner_text()
        assert "Diantar ke alamat" in page.locator("form.intake").inner_text()
        page.select_option("#service", label="Kartu Keluarga")
        page.fill("#applicant_name", "Siti Rahmawati")
        page.fill("#nik", "3673015212900003")
        page.fill("#phone", "0812 3456 7890")
        page.check("#consent_notify")
        assert page.evaluate("window.scrollY") == 0
        page.screenshot(path=screenshot_path("intake.png", tmp_path))
        save.click()
        page.wait_for_url("**/staff/r/*/receipt")
        assert page.locator("[data-print]").is_visible()
        no_violations(page)
    finally:
        context.close()


def test_the_handover_finds_by_name_and_says_everything_missing(
    desk, live_server, make_account, make_request, session
):
    page = desk
    account = make_account("operator")
    first = make_request(Status.READY, name="Siti Rahmawati")
    second = make_request(Status.READY, name="Siti Rahmawati Putri", service="kk")
    session.commit()
    sign_in(page, live_server, account.username)
    page.goto(live_server + "/staff/handover")
    expect(page.locator("#no")).to_be_focused()
    page.keyboard.type("siti rahmawati")
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/handover?no=*")
    rows = page.locator("table.candidates tbody tr")
    expect(rows).to_have_count(2)
    no_violations(page)
    page.get_by_role("link", name=receipts.format_grouped(second.receipt)).click()
    expect(page.locator(".pickup-number")).to_contain_text(second.pickup_number)
    page.check("#collector-1")  # a representative, with nothing checked or written
    page.locator(".handover button.primary").click()
    expect(page.locator(".field-error")).to_have_count(4)
    no_violations(page)
    session.expire_all()
    assert (first.status, second.status) == (Status.READY, Status.READY)
    session.commit()


def test_a_scanned_document_chosen_for_another_point_is_asked_about(
    desk, live_server, make_account, make_request, session
):
    page = desk
    account = make_account("operator")
    own = make_request.point("srg-kasemen")
    asked, plain = make_request(Status.PROCESSING), make_request(Status.PROCESSING)
    asked.preferred_point_id = own.id
    session.commit()
    sign_in(page, live_server, account.username)
    page.goto(live_server + "/staff/batch")
    page.select_option("#point", label="Disdukcapil Kota Serang")
    scan = page.locator("#scan")
    for request in (asked, plain):
        scan.type(request.receipt)
        scan.press("Enter")
    page.locator("#scanned li.line-ok").wait_for()
    warned = page.locator("#scanned li.line-elsewhere")
    assert own.name in warned.inner_text()  # warned at once, and still in the batch
    assert page.locator("#receipts").input_value().split() == [asked.receipt, plain.receipt]
    page.locator("#batch button.primary").click()
    page.locator("#elsewhere").wait_for()  # nothing moved yet: the page asks
    no_violations(page)
    page.select_option(f"#choice-{asked.receipt}", value=f"{asked.receipt}:own")
    page.locator("#batch button.primary").click()
    page.locator("table.batch-done").wait_for()
    session.expire_all()
    assert asked.pickup_point_id == own.id and plain.pickup_point_id != own.id
    session.commit()


def at_the_batch_page(
    page: Any, base: str, make_account: Any, make_request: Any, session: Any
) -> list[Request]:
    """An operator signed in at the batch page, and three documents in processing."""
    account = make_account("operator")
    made = [make_request(Status.PROCESSING) for _ in range(3)]
    session.commit()
    sign_in(page, base, account.username)
    page.goto(base + "/staff/batch")
    return made


def test_scans_answered_out_of_order_are_listed_in_the_order_scanned(
    desk, live_server, make_account, make_request, session
):
    page = desk
    first, second, third = at_the_batch_page(page, live_server, make_account, make_request, session)
    held: list[Any] = []  # the first scan's check, answered only after the second's
    page.route(
        lambda url: "/staff/batch/check" in url and first.receipt in url,
        lambda route: held.append(route),
    )
    scan = page.locator("#scan")
    scan.type(first.receipt)
    scan.press("Enter")
    with page.expect_response(lambda response: second.receipt in response.url):
        scan.type(second.receipt)
        scan.press("Enter")
    assert len(held) == 1
    page.wait_for_timeout(200)  # the second's answer is in the page, and waits its turn
    held[0].continue_()
    expect(page.locator("#scanned li.line-ok")).to_have_count(2)
    assert page.locator("#receipts").input_value().split() == [first.receipt, second.receipt]
    # Control: an answer that comes in order is listed at once, after those before it.
    scan.type(third.receipt)
    scan.press("Enter")
    expect(page.locator("#scanned li.line-ok")).to_have_count(3)
    assert page.locator("#receipts").input_value().split() == [
        first.receipt,
        second.receipt,
        third.receipt,
    ]
    assert [line.split(" — ")[0] for line in page.locator("#scanned li").all_inner_texts()] == [
        third.receipt,
        second.receipt,
        first.receipt,
    ]  # newest on top


def test_a_scan_that_could_not_be_checked_goes_in_the_batch_to_be_checked_when_sent(
    desk, live_server, make_account, make_request, session
):
    """The line says "it will be checked when the batch is sent": so it is in the batch. A
    check that never arrives (the network) and one answered with an error both count.
    Control: a mistyped scan, which was checked, stays out."""
    page = desk
    lost, failed, fine = at_the_batch_page(page, live_server, make_account, make_request, session)
    page.select_option("#point", label="Disdukcapil Kota Serang")
    page.route(lambda url: lost.receipt in url, lambda route: route.abort())
    page.route(
        lambda url: failed.receipt in url,
        lambda route: route.fulfill(status=503, json={"error": "busy"}),
    )
    scan = page.locator("#scan")
    for typed in (lost.receipt, failed.receipt, "NOT-A-NUMBER", fine.receipt):
        scan.type(typed)
        scan.press("Enter")
    expect(page.locator("#scanned li")).to_have_count(4)
    unchecked = page.locator("#scanned li.line-error")
    expect(unchecked).to_have_count(2)
    assert "akan diperiksa saat daftar ini dikirim" in unchecked.first.inner_text()
    assert page.locator("#receipts").input_value().split() == [
        lost.receipt,
        failed.receipt,
        fine.receipt,
    ]
    page.unroute_all()
    page.locator("#batch button.primary").click()
    page.locator("table.batch-done").wait_for()
    session.expire_all()
    assert {r.status for r in (lost, failed, fine)} == {Status.READY}
