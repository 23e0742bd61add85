"""The public pages read well: the home page's example receipt passes its own check, what to
bring is told per service and right for each, the newest announcement of a point is the full
list of what waits there, the list of boards counts what waits at each point, and the feed
has a plain name."""

from __future__ import annotations

import datetime as dt
import html as markup
import re
import xml.etree.ElementTree as ET

import pytest

from tracker import create_app, receipts
from tracker.announcements import operations as announce
from tracker.announcements.queries import FEW, SHOWN
from tracker.models import utcnow
from tracker.status import Status
from tracker.web.formatters import mask_name

ATOM = "{http://www.w3.org/2005/Atom}"
# What a KTP-el collector is never asked for: the card they are collecting.
ASKS_FOR_A_KTP_EL = re.compile(r"KTP-el (asli|Anda)|your (original )?KTP-el", re.IGNORECASE)


def text_of(html: str) -> str:
    return markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))).strip()


def sections(html: str) -> list[str]:
    """The announcements of /pengumuman, newest first, as HTML."""
    return re.findall(r'<section class="announcement".*?</section>', html, re.S)


def what_to_bring(section: str) -> dict[str, str]:
    """Service name -> what to bring for it, as one announcement lists them."""
    listed = re.search(r'<dl class="bring">(.*?)</dl>', section, re.S)
    assert listed, "no list of what to bring per service"
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", listed.group(1), re.S)
    return {text_of(name): text_of(bring) for name, bring in pairs}


def rows(section: str) -> dict[str, bool]:
    """Pickup number -> whether the row is marked new, for one announcement."""
    found = re.findall(r'<tr( class="new")?><td><span class="number">([^<]+)</span>', section)
    return {number: bool(new) for new, number in found}


def test_the_home_pages_example_receipt_passes_its_own_check(client) -> None:
    page = text_of(client.get("/").get_data(as_text=True))
    example = re.search(r"(?:misalnya|for example) ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", page)
    assert example, page
    assert receipts.is_valid(receipts.parse(example.group(1)))
    assert example.group(1) == receipts.EXAMPLE
    english = text_of(client.get("/?lang=en").get_data(as_text=True))
    assert f"for example {receipts.EXAMPLE}" in english
    # The look-up takes it as a well-formed number: not found, never "mistyped".
    answer = client.get(f"/cek?no={receipts.EXAMPLE}")
    assert answer.status_code == 404 and "salah ketik" not in answer.get_data(as_text=True)


def test_what_to_bring_is_listed_per_service_and_right_for_each(
    client, make_request, session
) -> None:
    made = {
        code: make_request(Status.READY, point="srg-cipocok", service=code)
        for code in ("ktp-el", "kk", "kia", "akta-kelahiran")
    }
    alone = make_request(Status.READY, point="srg-kasemen", service="ktp-el")
    announce.publish(session, utcnow())
    session.commit()
    services = {code: made[code].service for code in made}

    for lang, name, bring in (("id", "name_id", "bring_id"), ("en", "name_en", "bring_en")):
        page = client.get(f"/pengumuman?titik=srg-cipocok&lang={lang}").get_data(as_text=True)
        [section] = sections(page)
        listed = what_to_bring(section)
        assert listed == {getattr(s, name): getattr(s, bring) for s in services.values()}
        assert len(set(listed.values())) == len(listed)  # each its own, not one paragraph

        page = client.get(f"/pengumuman?titik=srg-kasemen&lang={lang}").get_data(as_text=True)
        [section] = sections(page)
        after_table = text_of(section.split("</table>", 1)[1])
        assert getattr(alone.service, bring) in after_table
        assert not ASKS_FOR_A_KTP_EL.search(after_table), after_table
        status = text_of(client.get(f"/s/{alone.receipt}?lang={lang}").get_data(as_text=True))
        told = status.split("Yang perlu dibawa" if lang == "id" else "What to bring", 1)[1]
        assert getattr(alone.service, bring) in told
        assert not ASKS_FOR_A_KTP_EL.search(told[:300]), told[:300]
    for service in services.values():  # every other service still asks for an identity card
        if service.code != "ktp-el":
            assert "KTP-el asli" in service.bring_id and "KTP-el" in service.bring_en

    feed = ET.fromstring(client.get("/pengumuman.atom?titik=srg-cipocok").data)
    content = feed.find(f"{ATOM}entry/{ATOM}content").text
    for service in services.values():
        assert f"{service.name_id}: {service.bring_id}" in content.splitlines()
    [ktp_el] = [line for line in content.splitlines() if line.startswith("KTP-el: ")]
    assert not ASKS_FOR_A_KTP_EL.search(ktp_el) and "Bring the receipt and your" not in content
    board = client.get("/api/v1/points/srg-kasemen/board").get_json()
    assert not ASKS_FOR_A_KTP_EL.search(board["ticker"]["id"] + board["ticker"]["en"])


def test_the_newest_announcement_lists_everything_that_waits_at_its_point(
    client, make_request, session
) -> None:
    now = utcnow()
    first = make_request(Status.READY, point="srg-cipocok", name="Siti Rahmawati")
    gone = make_request(Status.READY, point="srg-cipocok", name="Agus Salim")
    elsewhere = make_request(Status.READY, point="srg-dinas", name="Dewi Lestari")
    announce.publish(session, now)
    session.commit()
    later = make_request(Status.READY, point="srg-cipocok", name="Rina Marlina")
    make_request.move(gone, Status.COLLECTED)
    announce.publish(session, now + dt.timedelta(minutes=5))
    session.commit()
    not_yet = make_request(Status.READY, point="srg-cipocok", name="Joko Susilo")

    html = client.get("/pengumuman?titik=srg-cipocok").get_data(as_text=True)
    newest, older = sections(html)
    # The newest reads as the full list: what it added (marked new) and what still waits
    # from before; not what was collected since, nor what is not announced yet.
    assert rows(newest) == {first.pickup_number: False, later.pickup_number: True}
    assert "2 dokumen" in text_of(newest) and mask_name("Siti Rahmawati") in newest
    # The older one still says what it announced then.
    assert rows(older) == {first.pickup_number: False, gone.pickup_number: False}
    for person in (first, gone, later, not_yet):
        assert person.receipt not in html and person.applicant_name not in html
    everywhere = client.get("/pengumuman").get_data(as_text=True)
    [serang] = [s for s in sections(everywhere) if "Disdukcapil Kota Serang" in s]
    assert rows(serang) == {elsewhere.pickup_number: True}  # each point its own list


def test_a_point_with_more_waiting_than_a_page_is_listed_a_part_at_a_time(
    client, make_request, session
) -> None:
    """A delivery of blank cards can make thousands ready at one point at once, and every list
    of them is public: the page, the feed and the JSON carry a part, the count, and where the
    rest is; the point's own page goes through all of them. Control: a point with few
    waiting shows no part, no pager and no "more"."""
    pile = [make_request(Status.READY, point="srg-cipocok") for _ in range(SHOWN + 5)]
    few = [make_request(Status.READY, point="srg-kasemen") for _ in range(2)]
    announce.publish(session, utcnow())
    session.commit()
    everyone = {r.pickup_number for r in pile}

    first = client.get("/pengumuman?titik=srg-cipocok").get_data(as_text=True)
    [newest] = sections(first)
    assert len(rows(newest)) == SHOWN and f"{SHOWN + 5} dokumen" in text_of(newest)
    assert f"Dokumen 1 sampai {SHOWN} dari {SHOWN + 5}" in text_of(newest)
    assert "hal=2" in newest and "hal=0" not in newest
    second = client.get("/pengumuman?titik=srg-cipocok&hal=2").get_data(as_text=True)
    [rest] = sections(second)
    assert set(rows(rest)) | set(rows(newest)) == everyone
    assert not set(rows(rest)) & set(rows(newest)) and len(rows(rest)) == 5
    assert "hal=1" in rest and "hal=3" not in rest
    past = client.get("/pengumuman?titik=srg-cipocok&hal=3")
    assert past.status_code == 200 and "melewati akhir daftar" in past.get_data(as_text=True)

    everywhere = client.get("/pengumuman").get_data(as_text=True)
    [busy] = [x for x in sections(everywhere) if "srg-cipocok" in x]
    assert len(rows(busy)) == FEW and f"Lihat semua {SHOWN + 5} dokumen" in text_of(busy)
    [quiet] = [x for x in sections(everywhere) if set(rows(x)) == {r.pickup_number for r in few}]
    assert "Dokumen 1 sampai" not in quiet and "Lihat semua" not in quiet
    assert "hal=" not in quiet and "lainnya" not in quiet

    feed = ET.fromstring(client.get("/pengumuman.atom").data)
    atom = "{http://www.w3.org/2005/Atom}"
    contents = [e.findtext(f"{atom}content") for e in feed.iter(f"{atom}entry")]
    [long] = [c for c in contents if "… dan 5 dokumen lainnya:" in c]
    assert "titik=srg-cipocok" in long and sum(n in long for n in everyone) == SHOWN
    assert not any("lainnya" in c for c in contents if c is not long)

    listed = client.get("/api/v1/announcements").get_json()["announcements"]
    by_count = sorted((a["count"], len(a["items"])) for a in listed)
    assert by_count == [(2, 2), (SHOWN + 5, SHOWN)]


def test_the_page_of_a_list_must_be_a_whole_number_from_1(client) -> None:
    for bad in ("0", "-1", "abc", "1.5"):
        answer = client.get(f"/pengumuman?titik=srg-cipocok&hal={bad}")
        assert answer.status_code == 400, bad
        assert "Halaman" in text_of(answer.get_data(as_text=True)), bad
    assert client.get("/pengumuman?titik=srg-cipocok&hal=1").status_code == 200


def test_the_list_of_boards_counts_what_waits_at_each_point(client, make_request) -> None:
    for name in ("Siti Rahmawati", "Agus Salim", "Dewi Lestari"):
        make_request(Status.READY, point="srg-cipocok", name=name)
    make_request(Status.RETURNED, name="Joko Susilo")  # kept at the main office
    make_request(Status.COLLECTED, point="srg-kasemen")  # waits no more

    html = client.get("/board").get_data(as_text=True)

    def counted(code: str) -> str:
        item = re.search(rf'href="/board/{code}".*?</li>', html, re.S)
        assert item, code
        return text_of(item.group(0))

    assert "3 dokumen siap diambil" in counted("srg-cipocok")
    assert "Belum ada yang siap" in counted("srg-kasemen")
    assert "1 disimpan setelah jadwalnya lewat" in counted("srg-dinas")
    english = client.get("/board?lang=en").get_data(as_text=True)
    assert "3 documents ready" in english and "1 kept after its window" in english


def test_the_feed_has_a_plain_name(client) -> None:
    page = text_of(client.get("/pengumuman").get_data(as_text=True))
    assert "Ikuti pengumuman ini" in page and "Umpan" not in page
    english = text_of(client.get("/pengumuman?lang=en").get_data(as_text=True))
    assert "Follow these announcements" in english and "Atom feed" not in english


# --- behind a proxy, under a path of an office's site -------------------------------------------

ADDRESSES = re.compile(r'(?:href|src|action|data-api|data-[a-z-]*url)="(/[^"]*)"')


@pytest.mark.parametrize("hops", [1, 0], ids=["trusted", "control"])
def test_under_a_path_every_address_the_pages_give_keeps_the_path(
    app_config, make_request, hops: int
) -> None:
    """Behind a proxy that serves the service under ``/siapambil`` (``X-Forwarded-Prefix``),
    every address a page links, loads, posts to or polls, and every redirect, starts with the
    path. The control: with no proxy trusted (``PROXY_FIX_HOPS`` 0) the header is ignored."""
    app = create_app({**app_config, "PROXY_FIX_HOPS": hops})
    ready = make_request(Status.READY)
    client = app.test_client()
    proxied = {"X-Forwarded-Prefix": "/siapambil", "X-Forwarded-For": "203.0.113.9"}
    prefix = "/siapambil" if hops else ""
    seen = 0
    for path in ("/", f"/s/{ready.receipt}", "/board/srg-dinas", "/pengumuman", "/statistik",
                 "/staff/login"):  # fmt: skip
        answer = client.get(path, headers=proxied)
        assert answer.status_code == 200, path
        addresses = ADDRESSES.findall(answer.get_data(as_text=True))
        assert addresses, path
        for address in addresses:
            assert address.startswith(prefix + "/") and not address.startswith(
                "/siapambil/siapambil"
            ), (path, address)
            if not hops:
                assert not address.startswith("/siapambil"), (path, address)
        seen += len(addresses)
    moved = client.get("/staff/", headers=proxied)  # not signed in: to the sign-in page
    assert moved.status_code in (302, 303)
    assert moved.headers["Location"].startswith(f"{prefix}/staff/login")
    assert seen > 20
