from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import quote

import pytest
import qrcode
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.qr import decode_svg
from tracker import receipts
from tracker.models import Request
from tracker.status import Status


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def one_char_changed(number: str) -> list[str]:
    return [
        number[:i] + other + number[i + 1 :]
        for i in range(len(number))
        for other in "0A9Z"
        if other != number[i]
    ]


def test_the_form_is_in_indonesian_by_default(client) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="id">' in html
    assert "Nomor tanda terima" in html
    assert 'action="/cek"' in html and 'method="get"' in html


def test_a_typed_number_shows_its_status(client, make_request) -> None:
    request = make_request(Status.PROCESSING, name="Siti Rahmawati")
    typed = receipts.format_grouped(request.receipt).lower().replace("-", " ")
    page = client.get("/cek", query_string={"no": typed})
    assert page.status_code == 200
    text = visible_text(page.get_data(as_text=True))
    assert "Sedang diproses" in text
    assert "S*** R********" in text
    assert "KTP-el" in text
    assert "Target waktu layanan 3 hari kerja" in text


@pytest.mark.parametrize("how", ["cek", "status", "api"])
def test_one_character_changed_is_mistyped_never_not_found(client, make_request, how) -> None:
    request = make_request(Status.READY)
    for typo in one_char_changed(request.receipt):
        if how == "cek":
            page = client.get("/cek", query_string={"no": typo})
            assert page.status_code == 400
            assert "salah ketik" in page.get_data(as_text=True)
        elif how == "status":
            assert client.get(f"/s/{typo}").status_code == 400
        else:
            answer = client.get(f"/api/v1/requests/{typo}")
            assert answer.status_code == 400
            assert answer.get_json()["error"]["code"] == "receipt_mistyped"


def test_not_found_says_the_same_words_whatever_the_number(client) -> None:
    texts = set()
    for number in (receipts.generate(), receipts.generate()):
        page = client.get("/cek", query_string={"no": number})
        assert page.status_code == 404
        texts.add(visible_text(page.get_data(as_text=True)).replace(number, "NUMBER"))
    assert len(texts) == 1
    assert "Tidak ada permohonan dengan nomor tanda terima ini" in texts.pop()
    assert client.get(f"/s/{receipts.generate()}").status_code == 404


def test_the_ready_page_says_where_when_and_what_to_bring(client, make_request) -> None:
    request = make_request(Status.READY, point="srg-cipocok", service="kk")
    html = client.get(f"/s/{request.receipt}").get_data(as_text=True)
    text = visible_text(html)
    assert "Siap diambil" in text
    assert "Kantor Kecamatan Cipocok Jaya" in text
    assert "Jl. Bhayangkara No. 12" in text
    assert request.pickup_number in text and re.fullmatch(r"C-\d{3}", request.pickup_number)
    assert "Senin–Kamis: 08.00–14.00" in text
    assert "Jumat: 08.00–11.00" in text
    assert "Kartu Keluarga lama" in text  # what to bring for this service
    assert "WIB" in text


def test_dates_are_in_indonesian_in_the_office_time_zone(client, make_request, session) -> None:
    from tracker.models import Office

    office = session.query(Office).filter_by(code="36.73").one()
    office.timezone = "Asia/Jayapura"
    session.commit()
    submitted = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)  # Tuesday 08.30 in Jayapura
    request = make_request(Status.SUBMITTED, at=submitted)
    text = visible_text(client.get(f"/s/{request.receipt}").get_data(as_text=True))
    assert "Selasa, 1 Desember 2026, 08.30 WIT" in text
    # three working days after Tuesday 1 December 2026
    assert "Perkiraan selesai Jumat, 4 Desember 2026" in text


def test_overdue_is_said_plainly(client, make_request, session) -> None:
    request = make_request(Status.VERIFYING)
    stored = session.get(Request, request.id)
    stored.expected_on = dt.date.today() - dt.timedelta(days=3)
    session.commit()
    text = visible_text(client.get(f"/s/{request.receipt}").get_data(as_text=True))
    assert "Terlambat" in text


def test_needs_fix_shows_the_reason(client, make_request) -> None:
    request = make_request(Status.NEEDS_FIX)
    text = visible_text(client.get(f"/s/{request.receipt}").get_data(as_text=True))
    assert "Perlu perbaikan" in text
    assert "Catatan dari kantor: Foto kopi KK kurang jelas" in text


def test_english_by_switch_and_by_accept_language(client, make_request) -> None:
    request = make_request(Status.READY)
    by_header = client.get(f"/s/{request.receipt}", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in by_header.get_data(as_text=True)
    assert "Ready for pickup" in by_header.get_data(as_text=True)
    switched = client.get(f"/s/{request.receipt}?lang=en")
    assert "Ready for pickup" in switched.get_data(as_text=True)
    assert "lang=en" in switched.headers["Set-Cookie"]
    remembered = client.get(f"/s/{request.receipt}")
    assert "Ready for pickup" in remembered.get_data(as_text=True)
    back = client.get(f"/s/{request.receipt}?lang=id").get_data(as_text=True)
    assert "Siap diambil" in back


def test_the_qr_code_decodes_to_the_status_page(client, make_request, app) -> None:
    request = make_request()
    answer = client.get(f"/s/{request.receipt}/qr.svg")
    assert answer.status_code == 200
    assert answer.mimetype == "image/svg+xml"
    assert "max-age" in answer.headers["Cache-Control"]
    assert decode_svg(answer.data) == f"https://cek.example.go.id/s/{request.receipt}"
    again = client.get(
        f"/s/{request.receipt}/qr.svg", headers={"If-None-Match": answer.headers["ETag"]}
    )
    assert again.status_code == 304


def test_the_qr_file_is_the_status_pages_drawing_with_its_fixed_mask(client, make_request) -> None:
    """The file anyone may ask for costs what the page's code costs: the same drawing, with the
    fixed mask, not ``qrcode``'s search of the best of eight (7.5 ms a code). Control: another
    mask gives another drawing of the same address."""
    request = make_request()
    svg = client.get(f"/s/{request.receipt}/qr.svg").get_data(as_text=True)
    page = client.get(f"/s/{request.receipt}").get_data(as_text=True)
    path = re.search(r'<path d="([^"]+)"', svg).group(1)
    assert f'<path d="{path}"' in page
    url = f"https://cek.example.go.id/s/{request.receipt}"
    drawn = {
        (x, int(y))
        for x1, y, x2 in re.findall(r"M(\d+),(\d+)H(\d+)V", path)
        for x in range(int(x1), int(x2))
    }

    def dark(mask: int) -> set[tuple[int, int]]:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                             mask_pattern=mask)  # fmt: skip
        code.add_data(url)
        code.make(fit=True)
        return {
            (x, y) for y, row in enumerate(code.get_matrix()) for x, cell in enumerate(row) if cell
        }

    assert drawn == dark(receipts.QR_INLINE_MASK)
    assert drawn != dark((receipts.QR_INLINE_MASK + 1) % 8)


def test_the_qr_png_is_the_same_code_for_what_cannot_take_an_svg(client, make_request) -> None:
    """A messaging app's image or a printer's own software takes a PNG: it decodes to the
    status page, is black and white at ``QR_PNG_SCALE`` pixels a module, and is module for
    module the SVG's code (control: a module of the SVG's that is light is light here too,
    and the codes of two receipts differ)."""
    request, other = make_request(), make_request()
    answer = client.get(f"/s/{request.receipt}/qr.png")
    assert answer.status_code == 200 and answer.mimetype == "image/png"
    assert "immutable" in answer.headers["Cache-Control"]
    image = Image.open(io.BytesIO(answer.data))
    assert image.mode == "1"
    [found] = zxingcpp.read_barcodes(image)
    assert found.text == f"https://cek.example.go.id/s/{request.receipt}"
    svg = client.get(f"/s/{request.receipt}/qr.svg").get_data(as_text=True)
    side = int(re.search(r'viewBox="0 0 (\d+)', svg).group(1))
    assert image.size == (side * receipts.QR_PNG_SCALE,) * 2
    path = re.search(r'<path d="([^"]+)"', svg).group(1)
    drawn = {
        (x, int(y))
        for x1, y, x2 in re.findall(r"M(\d+),(\d+)H(\d+)V", path)
        for x in range(int(x1), int(x2))
    }
    scale = receipts.QR_PNG_SCALE
    dark = {
        (x, y)
        for y in range(side)
        for x in range(side)
        if not image.getpixel((x * scale + scale // 2, y * scale + scale // 2))
    }
    assert dark == drawn and 0 < len(dark) < side * side
    assert client.get(f"/s/{other.receipt}/qr.png").data != answer.data
    again = client.get(
        f"/s/{request.receipt}/qr.png", headers={"If-None-Match": answer.headers["ETag"]}
    )
    assert again.status_code == 304


def test_a_mistyped_qr_is_not_found(client) -> None:
    assert client.get("/s/AAAAAAAAAAAA/qr.svg").status_code == 404
    assert client.get("/s/AAAAAAAAAAAA/qr.png").status_code == 404


def test_the_receipt_prints_number_qr_and_dates(client, make_request) -> None:
    request = make_request(service="akta-kelahiran")
    html = client.get(f"/s/{request.receipt}/receipt?paper=58mm").get_data(as_text=True)
    assert receipts.format_grouped(request.receipt) in html
    assert f"/s/{request.receipt}/qr.svg" in html
    assert "print-58mm.css" in html
    assert "Akta Kelahiran" in html
    assert "Perkiraan selesai" in html
    assert "https://cek.example.go.id/" in html


def test_nothing_is_loaded_from_outside(client, make_request) -> None:
    """No script, style, image or frame from another site (links the citizen may follow, to a
    map or a complaint service, load nothing by themselves)."""
    request = make_request(Status.READY)
    for path in ["/", f"/s/{request.receipt}", f"/s/{request.receipt}/receipt"]:
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r'src="(https?:)?//', html), path
        assert not re.search(r'<link[^>]*href="(https?:)?//', html), path


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=60))
def test_any_input_gets_an_answer_never_a_server_error(client, typed: str) -> None:
    """The client holds no state between examples, so sharing the fixture is sound."""
    assert client.get("/cek", query_string={"no": typed}).status_code in (200, 400, 404)
    path = quote(typed, safe="")
    for url in (f"/s/{path}", f"/api/v1/requests/{path}", f"/s/{path}/receipt"):
        assert client.get(url).status_code in (200, 400, 404, 308), url
