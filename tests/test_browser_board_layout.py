"""The lobby board read from five metres, in a real Chromium at 1920x1080: a board of one
point shows pickup numbers at 96 px or more and every other text at 44 px or more; a board of
two to four points cuts no number, name or opening hours and overlaps nothing, with the
longest point names and the widest numbers; and the four-point board passes axe and is
pictured for the README."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import update

from tests.conftest import screenshot_path
from tracker.announcements import operations as announce
from tracker.models import PickupPoint, Request, utcnow
from tracker.status import Status

pytestmark = pytest.mark.browser
WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
FOUR = ["srg-dinas", "tng-mpp", "tgsel-mpp", "kabtng-cikupa-mall"]
OFFICE = {
    "srg-dinas": "36.73", "tng-mpp": "36.71", "tgsel-mpp": "36.74", "kabtng-cikupa-mall": "36.03",
}  # fmt: skip
# Longer than any demo point's name, as real ones are.
LONG_NAMES = [
    "Mal Pelayanan Publik Kabupaten Tangerang — Gerai Dukcapil",
    "Kantor Kelurahan Pamulang Barat — Loket Pelayanan Terpadu",
    "Disdukcapil Kota Tangerang Selatan (Gedung Pelayanan Terpadu)",
    "Gerai Dukcapil Citra Raya Mall — Lantai Dasar, Cikupa",
]
LONG_PERSON = "Tubagus Muhammad Jayadiningrat Firmansyah"
NAMES = ["Budi Santoso", "Siti Rahmawati", "Agus Salim", "Dewi Lestari", "Yusuf Hidayat"]

# Every element that shows text, with what is wrong with it: cut (its content is wider than
# its box, or it reaches out of its point's column or the screen), or overlapping another.
MEASURE = """() => {
  const shown = (e) => {
    if (e.closest('thead, .visually-hidden, [hidden], .ticker, noscript')) return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const problems = [];
  const boxes = [];
  for (const e of document.querySelectorAll('body *')) {
    if (!shown(e)) continue;
    const style = getComputedStyle(e);
    if (style.display !== 'inline' && e.scrollWidth > e.clientWidth + 1) {
      problems.push(['cut', e.className || e.tagName, e.textContent.trim().slice(0, 40),
                     e.scrollWidth, e.clientWidth]);
    }
    const own = Array.from(e.childNodes).some(
      (n) => n.nodeType === 3 && n.textContent.trim() !== '');
    if (!own) continue;
    const r = e.getBoundingClientRect();
    const column = e.closest('section.point, .board-side, .board-head, .board-foot');
    const limit = column ? column.getBoundingClientRect() : {left: 0, right: innerWidth};
    if (r.left < limit.left - 1 || r.right > limit.right + 1 || r.right > innerWidth) {
      problems.push(['outside', e.className || e.tagName, e.textContent.trim().slice(0, 40)]);
    }
    boxes.push([e, r]);
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, p] = boxes[i];
      const [b, q] = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 1 && h > 1) {
        problems.push(['overlap', a.textContent.trim().slice(0, 30),
                       b.textContent.trim().slice(0, 30)]);
      }
    }
  }
  return problems;
}"""

# Every text on screen with its computed size in CSS pixels, and whether it is a pickup number.
SIZES = """() => {
  const found = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('thead, .visually-hidden, [hidden], noscript')) continue;
    const own = Array.from(e.childNodes).some(
      (n) => n.nodeType === 3 && n.textContent.trim() !== '');
    const r = e.getBoundingClientRect();
    if (!own || r.width === 0 || r.height === 0) continue;
    found.push([e.textContent.trim().slice(0, 40), parseFloat(getComputedStyle(e).fontSize),
                !!e.closest('.number, .call-number')]);
  }
  return found;
}"""


def open_board(tv: Any, url: str, rows: int) -> None:
    tv.goto(url)
    expect(tv.locator("[data-role=status]")).to_have_text(re.compile(r"\d\d[.:]\d\d"))
    expect(tv.locator("tbody tr")).to_have_count(rows)
    tv.evaluate("document.fonts.ready")


def fill(make_request, session, codes: list[str], per_point: int, *, widest: bool) -> None:
    """Documents ready at each point; with ``widest``, the widest numbers a point may hand out
    (two letters and four digits) and the longest names, called to the longest counter."""
    serial = 9999
    for code in codes:
        for i in range(per_point):
            name = LONG_PERSON if widest else NAMES[i % len(NAMES)]
            request = make_request(Status.READY, point=code, office=OFFICE[code], name=name)
            if widest:
                session.execute(
                    update(Request)
                    .where(Request.id == request.id)
                    .values(pickup_number=f"MW-{serial}", counter="Gerai Dukcapil 12")
                )
                serial -= 1
    session.commit()


@pytest.mark.parametrize("count", [2, 3, 4])
def test_a_board_of_several_points_cuts_and_overlaps_nothing(
    tv, live_server, make_request, session, count
) -> None:
    codes = FOUR[:count]
    for code, name in zip(codes, LONG_NAMES, strict=False):
        session.execute(update(PickupPoint).where(PickupPoint.code == code).values(name=name))
    session.commit()
    fill(make_request, session, codes, 3, widest=True)
    session.execute(
        update(Request).where(Request.status == Status.READY).values(called_at=utcnow())
    )  # every one called to a counter: the calls column full
    session.commit()
    open_board(tv, f"{live_server}/board?points={','.join(codes)}", 3 * count)

    assert tv.evaluate(MEASURE) == []
    for code, name in zip(codes, LONG_NAMES, strict=False):
        point = tv.locator(f"section.point[data-code='{code}']")
        expect(point.locator("h2")).to_have_text(name)
        expect(point.locator("[data-role=hours]")).not_to_be_empty()
        for number in point.locator("td.number").all():
            assert re.fullmatch(r"MW-\d{4}", number.inner_text())
    assert tv.evaluate("document.documentElement.scrollWidth") <= 1920


def test_a_board_of_one_point_reads_from_five_metres(tv, live_server, make_request, session):
    fill(make_request, session, ["srg-dinas"], 5, widest=False)
    called = make_request(Status.READY, name="Hendra Gunawan", point="srg-dinas")
    called.counter, called.called_at = "Loket 2", utcnow()
    announce.publish(session, utcnow())
    session.commit()
    open_board(tv, f"{live_server}/board/srg-dinas", 6)
    expect(tv.locator("[data-role=calls] li")).to_have_count(1)
    expect(tv.locator("[data-role=ticker]")).to_contain_text("A-")

    sizes = tv.evaluate(SIZES)
    numbers = [size for _text, size, number in sizes if number]
    assert len(numbers) >= 6 and min(numbers) >= 96, numbers
    small = [(text, size) for text, size, number in sizes if not number and size < 44]
    assert small == []
    assert tv.evaluate(MEASURE) == []
    assert tv.locator("tbody tr:not([hidden])").count() >= 5  # a page still holds five


def test_a_four_point_board_passes_axe_and_is_pictured_for_the_readme(
    tv, live_server, make_request, session, tmp_path
) -> None:
    fill(make_request, session, FOUR, 4, widest=False)
    called = make_request(Status.READY, name="Hendra Gunawan", point="tng-mpp", office="36.71")
    called.counter, called.called_at = "Gerai Dukcapil 2", utcnow()
    announce.publish(session, utcnow())
    session.commit()
    open_board(tv, f"{live_server}/board?points={','.join(FOUR)}", 17)
    result = Axe().run(tv, options=WCAG_AA)
    assert result.violations_count == 0, result.generate_report()
    assert tv.evaluate(MEASURE) == []
    still = "Object.assign(document.querySelector('.ticker p').style, {animation: 'none', %s})"
    tv.evaluate(still % "paddingLeft: '0'")
    tv.screenshot(path=screenshot_path("board-four-points.png", tmp_path))


def test_no_row_is_cut_when_the_footer_grows_to_warn(app, tv, live_server, make_request, session):
    """The warning that the network is down takes two lines of 44 px: the list is paged again
    for the room it has left, without waiting for the next page turn."""
    app.config.update(BOARD_REFRESH_SECONDS=1, BOARD_CACHE_SECONDS=0, BOARD_PAGE_SECONDS=3600)
    fill(make_request, session, ["srg-dinas"], 12, widest=False)
    open_board(tv, f"{live_server}/board/srg-dinas", 12)
    # The head above the list made taller, so that the list has 10 px to spare below its rows
    # whatever the head holds today (hours, closures): the warning's two lines then leave
    # room for one row fewer.
    room, row = tv.evaluate(
        """() => [document.querySelector('[data-role=list]').clientHeight,
                  document.querySelector('tbody tr').getBoundingClientRect().height]"""
    )
    shown = tv.locator("tbody tr:not([hidden])").count()
    spare = room - shown * row
    tv.evaluate(
        "px => { document.querySelector('.point-head').style.paddingBottom = px + 'px'; }",
        max(0, spare - 10),
    )
    tv.wait_for_timeout(300)
    before = tv.locator("tbody tr:not([hidden])").count()
    assert before == shown
    tv.route("**/api/v1/points/**", lambda route: route.abort("internetdisconnected"))
    expect(tv.locator("body")).to_have_class(re.compile(r"\bstale\b"))
    tv.wait_for_timeout(300)
    cut = tv.evaluate(
        """() => {
          const list = document.querySelector('[data-role=list]').getBoundingClientRect();
          return Array.from(document.querySelectorAll('tbody tr:not([hidden])'))
            .filter((row) => row.getBoundingClientRect().bottom > list.bottom + 1).length;
        }"""
    )
    assert cut == 0 and tv.locator("tbody tr:not([hidden])").count() < before
