"""No personal data in any public answer: pages, JSON, headers, the receipt, the QR target, logs."""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request

import pytest

from tests.qr import decode_svg
from tracker import receipts
from tracker.status import Status

PEOPLE = [
    # name, NIK (woman: day of birth + 40), phone, e-mail, address, birth date
    (
        "Zulkarnaen Wiratmaja",
        "3673011503870004",
        "081298765432",
        "zul.wira@contoh.id",
        "Jl. Kenari Tujuh No. 17, RT 003/RW 005, Cipocok Jaya",
        (1987, 3, 15),
    ),
    (
        "Hj. Euis Nurjanah Sulastri",
        "3603125208910002",
        "+6285711223344",
        "euis.n@contoh.id",
        "Kp. Sukamanah RT 001/RW 002, Desa Sindangsari, Pasar Kemis",
        (1991, 8, 12),
    ),
]
MONTHS_ID = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]


def forbidden(person: tuple) -> list[str]:
    name, nik, phone, email, address, (y, m, d) = person
    digits = re.sub(r"\D", "", phone)
    local_phone = "0" + digits[2:] if digits.startswith("62") else digits
    words = [w for w in re.split(r"[\s.,/]+", name) if len(w) > 3]
    return [
        name,
        nik,
        nik[:6] + nik[6:12],
        phone,
        digits,
        local_phone,
        local_phone[1:],
        email,
        address,
        address.split(",")[0],
        *words,
        f"{y}-{m:02d}-{d:02d}",
        f"{d:02d}-{m:02d}-{y}",
        f"{d:02d}/{m:02d}/{y}",
        f"{d} {MONTHS_ID[m - 1]} {y}",
    ]


def fetch(url: str) -> int:
    """The HTTP status of a real GET over the network."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def public_answers(client, receipt: str):
    grouped = receipts.format_grouped(receipt)
    paths = [
        "/",
        f"/cek?no={grouped}",
        f"/cek?no={receipt.lower()}",
        f"/s/{receipt}",
        f"/s/{receipt}/receipt",
        f"/s/{receipt}/receipt?paper=80mm",
        f"/s/{receipt}/qr.svg",
        f"/api/v1/requests/{receipt}",
        f"/api/v1/requests/{grouped}",
        "/cek?no=AAAA",
        f"/s/{receipts.generate()}",
        "/missing",
    ]
    for path in paths:
        for language in ("id", "en"):
            answer = client.get(path, headers={"Accept-Language": language})
            assert answer.status_code < 500, path
            yield path, answer


@pytest.mark.parametrize("status", list(Status))
def test_no_personal_data_in_any_public_answer(client, make_request, status) -> None:
    people = [
        make_request(status, name=name, nik=nik, phone=phone, email=email, address=address)
        for name, nik, phone, email, address, _born in PEOPLE
    ]
    for person, request in zip(PEOPLE, people, strict=True):
        needles = forbidden(person)
        for path, answer in public_answers(client, request.receipt):
            body = answer.get_data(as_text=True)
            headers = str(answer.headers)
            for needle in needles:
                assert needle not in body, (path, needle)
                assert needle not in headers, (path, needle)
        target = decode_svg(client.get(f"/s/{request.receipt}/qr.svg").data)
        assert target == f"https://cek.example.go.id/s/{request.receipt}"


def test_logs_carry_neither_receipts_nor_personal_data(live_server, make_request, caplog) -> None:
    request = make_request(Status.READY, nik=PEOPLE[0][1], name=PEOPLE[0][0])
    caplog.set_level(logging.INFO)
    for path in (
        f"/s/{request.receipt}",
        f"/cek?no={receipts.format_grouped(request.receipt)}",
        f"/api/v1/requests/{request.receipt.lower()}",
        "/cek?no=AAAA",
    ):
        assert fetch(live_server + path) < 500
    lines = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /s/R:" in lines  # the access log is there, with the number masked
    for needle in (
        request.receipt,
        receipts.format_grouped(request.receipt),
        request.receipt.lower(),
        *forbidden(PEOPLE[0]),
    ):
        assert needle not in lines, needle
