"""The lobby board in a real Chromium at 1920x1080: a document marked ready in the console
appears without a reload, a cut network shows the stale marker and the board recovers by
itself, long lists turn pages, calls are spoken, and the page passes axe. The screenshot in
the README is taken here."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.conftest import screenshot_path
from tests.factories import csrf_token
from tracker.announcements import operations as announce
from tracker.models import utcnow
from tracker.status import Status

pytestmark = pytest.mark.browser
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
POINT = "srg-dinas"
API = "**/api/v1/points/**"
NAMES = [
    "Budi Santoso", "Siti Rahmawati", "Agus Salim", "Dewi Lestari", "Yusuf Hidayat",
    "Rina Marlina", "Hendra Gunawan", "Nur Aini", "Joko Susilo", "Maya Sari",
    "Fajar Nugroho", "Lina Marlina", "Eko Prasetyo", "Wati Suryani",
]  # fmt: skip


def open_board(tv: Any, url: str) -> None:
    tv.goto(url)
    expect(tv.locator("[data-role=status]")).to_have_text(re.compile(r"\d\d[.:]\d\d"))
    tv.evaluate("window.notReloaded = true")


def move(client: Any, receipt: str, version: int, to: str, **fields: str) -> Any:
    data = {
        f"{to}-to": to,
        f"{to}-version": str(version),
        **{f"{to}-{k}": v for k, v in fields.items()},
    }
    data["csrf_token"] = csrf_token(client, f"/staff/r/{receipt}")
    return client.post(f"/staff/r/{receipt}/move/{to}", data=data)


def test_a_document_marked_ready_appears_within_ten_seconds(
    tv, live_server, client, operator, make_request, session
) -> None:
    """With the settings a TV runs on (a poll every 5 s, a 2 s cache per worker)."""
    make_request(Status.READY, name="Budi Santoso", point=POINT)
    waiting = make_request(Status.PROCESSING, name="Siti Rahmawati")
    point_id = make_request.point(POINT).id
    open_board(tv, f"{live_server}/board/{POINT}")
    expect(tv.locator("tbody tr")).to_have_count(1)

    marked = time.monotonic()
    assert (
        move(client, waiting.receipt, waiting.version, "ready", point=str(point_id)).status_code
        == 303
    )
    session.refresh(waiting)
    row = tv.locator("tbody tr", has=tv.locator("td.number", has_text=waiting.pickup_number))
    expect(row).to_be_visible(timeout=10_000)
    assert time.monotonic() - marked < 10
    expect(row).to_have_class("new")
    expect(row.locator("td.name")).to_contain_text("S*** R********")
    assert tv.evaluate("window.notReloaded") is True


def test_a_cut_network_shows_the_stale_marker_and_the_board_recovers(
    app, tv, live_server, make_request, session
) -> None:
    app.config.update(BOARD_REFRESH_SECONDS=1, BOARD_CACHE_SECONDS=0)
    first = make_request(Status.READY, name="Budi Santoso", point=POINT)
    open_board(tv, f"{live_server}/board/{POINT}")
    status = tv.locator("[data-role=status]")
    updated = status.inner_text()

    tv.route(API, lambda route: route.abort("internetdisconnected"))
    expect(tv.locator("body")).to_have_class(re.compile(r"\bstale\b"))
    expect(status).to_contain_text(re.search(r"\d\d[.:]\d\d", updated).group(0))
    assert status.inner_text() != updated  # it says the connection is gone, not "updated"
    expect(tv.locator("td.number", has_text=first.pickup_number)).to_be_visible()  # kept

    second = make_request(Status.READY, name="Dewi Lestari", point=POINT)
    session.commit()
    tv.unroute(API)
    expect(tv.locator("body")).not_to_have_class(re.compile(r"\bstale\b"))
    expect(tv.locator("td.number", has_text=second.pickup_number)).to_be_visible()
    assert tv.evaluate("window.notReloaded") is True


def test_long_lists_turn_pages(app, tv, live_server, make_request) -> None:
    app.config.update(BOARD_PAGE_SECONDS=1)
    for name in NAMES * 2:
        make_request(Status.READY, name=name, point=POINT)
    open_board(tv, f"{live_server}/board/{POINT}")
    page_line = tv.locator("[data-role=page]")
    expect(page_line).to_have_text(re.compile(r"1\D+[3-9]"))
    expect(page_line).to_have_text(re.compile(r"2\D+[3-9]"))
    shown = tv.locator("tbody tr:not([hidden])")
    assert 5 <= shown.count() < len(NAMES) * 2


def test_a_call_to_a_counter_is_shown_and_spoken(
    app, tv, live_server, client, operator, make_request
) -> None:
    app.config.update(BOARD_REFRESH_SECONDS=1, BOARD_CACHE_SECONDS=0)
    document = make_request(Status.READY, name="Budi Santoso", point=POINT)
    counter = make_request.point(POINT).counters[1]
    # What the board asks the browser's speech synthesis to say is written down here.
    tv.add_init_script(
        "window.spoken = [];"
        "window.speechSynthesis.speak = function (u) { window.spoken.push([u.text, u.lang]); };"
    )
    open_board(tv, f"{live_server}/board/{POINT}?suara=1")
    tv.get_by_role("button").click()
    data = {
        "counter": counter,
        "version": str(document.version),
        "csrf_token": csrf_token(client, f"/staff/handover?no={document.receipt}"),
    }
    assert client.post(f"/staff/call/{document.receipt}", data=data).status_code == 303

    calls = tv.locator("[data-role=calls] li")
    expect(calls).to_have_count(1)
    expect(calls.first).to_contain_text(document.pickup_number)
    expect(calls.first).to_contain_text(counter)
    tv.wait_for_function("window.spoken.length >= 2")
    text, language = tv.evaluate("window.spoken[1]")
    digits = " ".join(document.pickup_number.split("-")[1])
    assert language == "id-ID" and digits in text and counter in text


def test_the_board_passes_axe_and_is_pictured_for_the_readme(
    app, tv, live_server, make_request, session, tmp_path
) -> None:
    for name in NAMES[:9]:
        make_request(Status.READY, name=name, point=POINT)
    called = make_request(Status.READY, name="Hendra Gunawan", point=POINT)
    called.counter, called.called_at = make_request.point(POINT).counters[1], called.updated_at
    announce.publish(session, utcnow())
    session.commit()
    axe = Axe()
    for path in ("/board", f"/board/{POINT}", f"/board?points={POINT},srg-cipocok"):
        open_board(tv, live_server + path) if path != "/board" else tv.goto(live_server + path)
        result = axe.run(tv, options=WCAG_AA)
        assert result.violations_count == 0, (path, result.generate_report())
    open_board(tv, f"{live_server}/board/{POINT}")
    expect(tv.locator("[data-role=ticker]")).to_contain_text("A-")
    still = "Object.assign(document.querySelector('.ticker p').style, {animation: 'none', %s})"
    tv.evaluate(still % "paddingLeft: '0'")
    tv.screenshot(path=screenshot_path("board.png", tmp_path))


def test_a_board_with_nothing_announced_yet_passes_axe(tv, live_server, make_request) -> None:
    """The ticker is empty before a point's first announcement: it is still a named region,
    not a bare element carrying a label."""
    make_request(Status.READY, point=POINT)  # ready, not yet announced: the ticker is empty
    open_board(tv, f"{live_server}/board/{POINT}")
    assert tv.locator("[data-role=ticker]").inner_text() == ""
    result = Axe().run(tv, options=WCAG_AA)
    assert result.violations_count == 0, result.generate_report()
