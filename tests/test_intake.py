"""Intake at the pace of a queue: no service chosen for the clerk, every error at once, and
the services in the reader's language."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from tests.factories import csrf_token, sign_in
from tracker.models import Request, Service


def intake(client: Any, **fields: str) -> Any:
    data = {"csrf_token": csrf_token(client, "/staff/intake"), "consent_notify": "y",
            "channel": "whatsapp", "handover": "pickup", **fields}  # fmt: skip
    return client.post("/staff/intake", data=data)


def first_service_option(page: str) -> tuple[str, str]:
    """The value and label of the service list's first option: what the browser shows."""
    select = re.search(r'<select[^>]*id="service".*?</select>', page, re.S)
    assert select is not None
    first = re.search(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)<', select[0])
    assert first is not None
    return first[1], first[2]


def test_no_service_is_chosen_for_the_clerk(client, operator) -> None:
    page = client.get("/staff/intake").get_data(as_text=True)
    assert first_service_option(page) == ("", "Pilih layanan")
    chosen = re.findall(r'<option selected value="([^"]*)"', page)
    assert chosen == [""]  # the placeholder, not a service


def test_a_missing_service_is_named_and_nothing_is_registered(client, operator, session) -> None:
    before = session.scalar(select(func.count()).select_from(Request))
    answer = intake(client, applicant_name="Siti Rahmawati", nik="3673015505900002",
                    phone="081234567890")  # fmt: skip
    session.rollback()
    assert answer.status_code == 400
    assert "“Layanan” wajib diisi." in answer.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Request)) == before
    # Control: with the service chosen the same intake is saved.
    kk = session.scalars(select(Service).where(Service.code == "kk")).one()
    saved = intake(client, service=str(kk.id), applicant_name="Siti Rahmawati",
                   nik="3673015505900002", phone="081234567890")  # fmt: skip
    assert saved.status_code == 303


def test_every_error_comes_at_once(client, operator, session) -> None:
    kk = session.scalars(select(Service).where(Service.code == "kk")).one()
    answer = intake(client, service=str(kk.id), applicant_name="Siti Rahmawati",
                    nik="12345", phone="0812", email="not-an-address")  # fmt: skip
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    for message in (
        "Alamat email ini tidak valid.",  # the field's own check
        "NIK terdiri dari 16 digit.",  # the intake's NIK check
        "Ketik nomor ponsel, misalnya 0812 3456 7890.",  # the intake's phone check
    ):
        assert message in page, message


def test_services_are_named_in_the_readers_language(client, operator, session) -> None:
    kk = session.scalars(select(Service).where(Service.code == "kk")).one()
    english = client.get("/staff/intake?lang=en").get_data(as_text=True)
    assert f">{kk.name_en}<" in english and f">{kk.name_id}<" not in english
    # Control: in Indonesian, the Indonesian name.
    indonesian = client.get("/staff/intake?lang=id").get_data(as_text=True)
    assert f">{kk.name_id}<" in indonesian


def test_saving_lands_on_the_counters_receipt_page(client, operator, session) -> None:
    kk = session.scalars(select(Service).where(Service.code == "kk")).one()
    saved = intake(client, service=str(kk.id), applicant_name="Siti Rahmawati",
                   nik="3673015505900002", phone="081234567890")  # fmt: skip
    assert saved.status_code == 303 and saved.location.endswith("/receipt")
    page = client.get(saved.location).get_data(as_text=True)
    assert "data-print" in page and "Cetak tanda terima" in page  # a print button
    assert 'href="/staff/intake">Pemohon berikutnya</a>' in page  # and the next applicant
    assert "/staff/logout" in page  # still in the console
    assert 'class="receipt-number"' in page  # and the receipt itself


def test_the_desk_keeps_the_paper_it_chose(app, client, operator, make_request) -> None:
    request = make_request()
    receipt_page = f"/staff/r/{request.receipt}/receipt"
    assert "print-a5.css" in client.get(receipt_page).get_data(as_text=True)
    assert "print-80mm.css" in client.get(receipt_page + "?paper=80mm").get_data(as_text=True)
    assert "print-80mm.css" in client.get(receipt_page).get_data(as_text=True)  # kept
    # Control: another desk (another browser) still prints on A5.
    other = app.test_client()
    assert sign_in(other, operator.username).status_code == 303
    assert "print-a5.css" in other.get(receipt_page).get_data(as_text=True)
