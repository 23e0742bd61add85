"""What the status page gives the citizen to show at the counter: the receipt number in groups,
the receipt's QR code drawn in the page (it opens this status page), and once the document
waits, its pickup number large. In the app, and read back from a real Chromium's screen."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image

from tests.qr import decode_svg
from tracker import receipts
from tracker.status import Status

BASE = "https://cek.example.go.id"


def show_section(html: str) -> str:
    found = re.search(r'<section class="show".*?</section>', html, re.S)
    assert found, "the status page has no section to show at the counter"
    return found.group(0)


@pytest.mark.parametrize("status", [Status.READY, Status.RETURNED])
def test_a_waiting_document_shows_receipt_qr_and_pickup_number(
    client, make_request, status
) -> None:
    request = make_request(status)
    html = client.get(f"/s/{request.receipt}").get_data(as_text=True)
    show = show_section(html)
    assert "Tunjukkan di loket" in show
    assert f'<strong class="show-receipt-number">{receipts.format_grouped(request.receipt)}' in show
    number = re.search(r'<p class="show-number">Nomor pengambilan <strong>([^<]+)</strong>', show)
    assert number and number.group(1) == request.pickup_number
    svg = re.search(r"<svg .*?</svg>", show, re.S)
    assert svg and 'aria-hidden="true"' in svg.group(0)
    assert decode_svg(svg.group(0).encode()) == f"{BASE}/s/{request.receipt}"
    assert 'role="img" aria-label="Kode QR' in show  # the QR is named for screen readers
    assert "<?xml" not in html


def test_an_open_request_shows_its_receipt_and_qr_but_no_pickup_number(
    client, make_request
) -> None:
    request = make_request(Status.PROCESSING)
    show = show_section(client.get(f"/s/{request.receipt}?lang=en").get_data(as_text=True))
    assert "Show this at the counter" in show
    assert receipts.format_grouped(request.receipt) in show
    assert 'class="show-number"' not in show
    svg = re.search(r"<svg .*?</svg>", show, re.S)
    assert svg and decode_svg(svg.group(0).encode()) == f"{BASE}/s/{request.receipt}"


@pytest.mark.browser
def test_the_phone_screen_shows_a_readable_qr_and_a_large_number(
    page, live_server, make_request
) -> None:
    request = make_request(Status.READY)
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live_server) else outside.append(r.url))
    page.goto(f"{live_server}/s/{request.receipt}")
    number = page.locator(".show-number strong")
    assert number.inner_text() == request.pickup_number
    assert float(number.evaluate("e => getComputedStyle(e).fontSize").removesuffix("px")) >= 48
    receipt = page.locator(".show-receipt-number").inner_text()
    assert receipt == receipts.format_grouped(request.receipt)
    shot = Image.open(io.BytesIO(page.locator(".show-qr").screenshot())).convert("L")
    read = zxingcpp.read_barcodes(shot)
    assert read and read[0].text == f"{BASE}/s/{request.receipt}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert outside == []
