"""No personal data in any public answer: pages, JSON, headers, the receipt, the QR target, logs."""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.qr import decode_svg
from tracker import demo, receipts
from tracker.announcements import operations as announce
from tracker.models import TIMEZONES, Office, PickupPoint, Request, utcnow
from tracker.statistics import figures as statistics
from tracker.status import Status
from tracker.web.security import ReceiptMaskingFilter

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
        f"/s/{receipt}/qr.png",
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
            body = answer.data.decode("utf-8", "replace")  # the QR image too
            headers = str(answer.headers)
            for needle in needles:
                assert needle not in body, (path, needle)
                assert needle not in headers, (path, needle)
        target = decode_svg(client.get(f"/s/{request.receipt}/qr.svg").data)
        assert target == f"https://cek.example.go.id/s/{request.receipt}"


def test_logs_carry_neither_receipts_nor_personal_data(live_server, make_request, caplog) -> None:
    request = make_request(Status.READY, nik=PEOPLE[0][1], name=PEOPLE[0][0])
    caplog.set_level(logging.INFO)
    groups = receipts.format_grouped(request.receipt).split("-")
    # The number as people type it and browsers send it: with spaces (``+`` or ``%20``),
    # dots, a phone's en dash, a zero-width space copied from a chat.
    typed = [sep.join(groups) for sep in ("-", "+", "%20", ".", "%E2%80%93", "%2D")]
    typed.append("%E2%80%8B" + request.receipt)
    # And in shapes no group of four shows: full-width (as a phone's keyboard may give it),
    # six and six, a dot between every character, in pairs.
    number = request.receipt
    typed.append(quote("".join(chr(ord(c) + 0xFEE0) for c in number)))
    typed.append(f"{number[:6]}-{number[6:]}")
    typed.append(".".join(number))
    typed.append("%20".join(number[i : i + 2] for i in range(0, 12, 2)))
    for path in (
        f"/s/{request.receipt}",
        *(f"/cek?no={number}" for number in typed),
        f"/s/{typed[4]}",
        *(f"/api/v1/requests/{number}" for number in typed[-4:]),
        f"/api/v1/requests/{request.receipt.lower()}",
        "/cek?no=AAAA",
    ):
        assert fetch(live_server + path) < 500
    lines = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /s/R:" in lines  # the access log is there, with the number masked
    masked = re.findall(r"/cek\?no=\W*R:[0-9a-f]{6} ", lines)  # a zero-width space stays
    assert len(masked) == len(typed), lines
    for needle in (
        request.receipt,
        request.receipt.lower(),
        *typed,
        *forbidden(PEOPLE[0]),
    ):
        assert needle not in lines, needle


def test_what_people_typed_leaves_no_trace_in_a_logged_request_line() -> None:
    """Where a request line carries what someone typed, the log keeps a receipt number's tag,
    or ``-``: a NIK or a name searched for in the console, a mistyped number, the sign-in's
    way back to a request. Control: what nobody typed (an office's code, a board's path)
    stays as it was."""
    masking = ReceiptMaskingFilter("key")
    number = receipts.generate()
    grouped = receipts.format_grouped(number)

    def logged(line: str) -> str:
        record = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, line, None, None)
        masking.filter(record)
        return record.getMessage()

    tag = logged(f'"GET /s/{number} HTTP/1.1"').split("/s/")[1].split()[0]
    assert re.fullmatch(r"R:[0-9a-f]{6}", tag)
    for line, shown in (
        ('"GET /staff/search?q=3673232701855732&office=1 HTTP/1.1"', "q=-&office=1"),
        ('"GET /staff/search?q=Siti+Rahmawati HTTP/1.1"', "q=- "),
        (f'"GET /staff/handover?no={number[:6]}-{number[6:]} HTTP/1.1"', f"no={tag} "),
        (f'"GET /staff/login?next=%2Fstaff%2Fr%2F{number} HTTP/1.1"', "next=- "),
        (f'"GET /open311/v2/requests.json?service_request_id={number},{grouped.lower()},X1 '
         'HTTP/1.1"', f"service_request_id={tag},{tag},- "),
        (f'"POST /api/v1/requests/{".".join(number)}/transitions HTTP/1.1"',
         f"/api/v1/requests/{tag}/transitions"),
        ('"POST /api/v1/requests/ext:SIAK-2026-0001/transitions HTTP/1.1"',
         "/api/v1/requests/-/transitions"),
        (f"Exception on /staff/r/{number.lower()}/move/ready [POST]", f"/staff/r/{tag}/move"),
        (f"sent https://cek.example.go.id/s/{number}?lang=en", f"/s/{tag}?lang=en"),
    ):  # fmt: skip
        masked = logged(line)
        assert shown in masked, (line, masked)
        for secret in ("3673232701855732", "Siti", "Rahmawati", number, number.lower(), "SIAK"):
            assert secret not in masked, (line, masked)
    for untouched in (
        '"GET /statistik?kantor=36.73&minggu=12 HTTP/1.1"',
        '"GET /board/srg-dinas HTTP/1.1"',
        '"GET /docs/s/guide HTTP/1.1"',
        '"GET /api/v1/points/srg-dinas/board HTTP/1.1"',
    ):
        assert logged(untouched) == untouched


def demo_answers(client, session):
    """Every board, statistics and announcement answer there is for the demo data."""
    points = list(session.scalars(select(PickupPoint.code)))
    offices = list(session.scalars(select(Office.code)))
    session.rollback()
    paths = ["/board", "/api/v1/points", f"/board?points={','.join(points[:4])}"]
    for code in points:
        paths += [
            f"/board/{code}",
            f"/api/v1/points/{code}/board",
            f"/pengumuman?titik={code}",
            f"/pengumuman.atom?titik={code}",
            f"/api/v1/announcements?point={code}",
        ]
    paths += ["/pengumuman", "/pengumuman.atom", "/api/v1/announcements"]
    for suffix in ("", ".csv", ".json"):
        paths.append(f"/statistik{suffix}")
        paths += [f"/statistik{suffix}?kantor={code}&minggu=52" for code in offices]
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, path
        yield path, answer.get_data(as_text=True) + str(answer.headers)


def test_no_personal_data_on_boards_statistics_or_announcements(client, session) -> None:
    """The demo, announced and rolled up as the jobs do, read through every public answer
    about many requests at once: no NIK, phone number, e-mail, full name or receipt number."""
    now = utcnow()
    demo.add_requests(session, 400, per_status=3, seed=5, now=now)
    announce.publish(session, now)
    for zone in TIMEZONES:
        announce.digest(session, zone, now)
        statistics.roll_up(session, zone, now.astimezone(ZoneInfo(zone)).date())
    session.commit()
    people = session.execute(
        select(Request.receipt, Request.nik, Request.phone, Request.email, Request.applicant_name)
    ).all()
    session.rollback()
    receipt_numbers = {row.receipt for row in people}
    niks = {row.nik for row in people if row.nik}
    phones = {re.sub(r"\D", "", row.phone)[-9:] for row in people if row.phone}
    emails = {row.email for row in people if row.email}
    names = {row.applicant_name for row in people}
    assert len(receipt_numbers) > 400 and niks and phones and emails
    for path, body in demo_answers(client, session):
        tokens = set(re.findall(r"[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{4}", body))
        assert not {t.replace("-", "") for t in tokens} & receipt_numbers, path
        assert not set(re.findall(r"\d{16}", body)) & niks, path
        numbers = {re.sub(r"\D", "", n)[-9:] for n in re.findall(r"\+?\d[\d .-]{7,}\d", body)}
        assert not numbers & phones, path
        assert not [e for e in emails if e in body], path
        assert not [n for n in names if n in body], path
