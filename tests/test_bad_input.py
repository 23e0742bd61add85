"""Each bad input the probe of the running service found, answered as it should be: a 4xx
naming the field in the reader's language, nothing changed, never a 5xx. (The sweep in
test_sweep.py sends every class of them to every route; these name the cases.)"""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from wtforms import StringField, TextAreaField

from tests.factories import PASSWORD, csrf_token, sign_in, week
from tests.test_staff_work import intake, move, post
from tracker.announcements import operations as announce
from tracker.audit.trail import Actor
from tracker.config import DEFAULTS
from tracker.errors import MissingDetails
from tracker.models import (
    AuditEntry,
    Closure,
    Office,
    OpeningHours,
    PickupPoint,
    Request,
    Service,
    StatusEvent,
    utcnow,
)
from tracker.places import pickup
from tracker.requests import operations
from tracker.status import Status
from tracker.web import edge
from tracker.web.arguments import UndeclaredArgument, declare
from tracker.web.edge import CleanText, PersonName, QueryForm, Visible

ENGLISH = ["Not a valid", "Field cannot be longer", "Invalid Choice", "This field is required"]


@pytest.fixture
def boss(client: Any, make_account: Any) -> Any:
    """A client signed in as a supervisor of office 36.73 (Serang)."""
    account = make_account("supervisor")
    assert sign_in(client, account.username).status_code == 303
    return account


def counted(session: Any, what: Any) -> int:
    found = session.scalar(select(func.count()).select_from(what))
    session.rollback()
    return found


# --- Pickup points ---------------------------------------------------------------------------


# Each console form that edits what is stored and whose fields may be left empty: its whole
# post (as a browser sends it), one field it may not lack, and how to read that field back.
EDITS = {
    "counters": (
        "/staff/points/srg-dinas/counters",
        {"counters": "Loket 1, Loket 2"},
        "counters",
        lambda s: s.scalars(select(PickupPoint.counters).where(PickupPoint.code == "srg-dinas")),
    ),
    "location": (
        "/staff/points/srg-dinas/location",
        {"latitude": "-6.12", "longitude": "106.15"},
        "longitude",
        lambda s: s.scalars(select(PickupPoint.longitude).where(PickupPoint.code == "srg-dinas")),
    ),
    "office address": (
        "/staff/offices/36.73/details",
        {"name": "Disdukcapil Kota Serang", "kind": "dinas", "timezone": "Asia/Jakarta",
         "address": "Jl. Jenderal Sudirman No. 5"},
        "address",
        lambda s: s.scalars(select(Office.address).where(Office.code == "36.73")),
    ),
    "what to bring": (
        "/staff/services/kk",
        {"name_id": "Kartu Keluarga", "name_en": "Family card", "target_days": "7",
         "bring_id": "Formulir F-1.01.", "bring_en": "Form F-1.01.", "offered": "y"},
        "bring_en",
        lambda s: s.scalars(select(Service.bring_en).where(Service.code == "kk")),
    ),
}  # fmt: skip


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_that_leaves_a_field_out_blanks_nothing(client, make_account, session, edit):
    """A post made by hand, or cut short, that lacks a field is refused, naming it; the same
    field sent empty clears it, as a browser sends a field emptied."""
    path, whole, left_out, read = EDITS[edit]
    assert sign_in(client, make_account("admin").username).status_code == 303
    assert post(client, path, whole).status_code == 303
    before = read(session).one()
    session.rollback()
    assert before not in (None, "", [])
    cut = {name: typed for name, typed in whole.items() if name != left_out}
    answer = post(client, path, cut)
    assert answer.status_code == 400
    assert "tidak ikut terkirim: muat ulang halaman" in answer.get_data(as_text=True)
    assert read(session).one() == before
    session.rollback()
    # Control: sent empty, the field is cleared (the location by both of its fields).
    emptied = {**whole, left_out: ""}
    if edit == "location":
        emptied["latitude"] = ""
    assert post(client, path, emptied).status_code == 303
    assert read(session).one() in (None, "", [])
    session.rollback()


def test_counters_that_fail_validation_keep_the_stored_counters(client, boss, make_request):
    before = make_request.point("srg-dinas").counters
    assert before
    answer = post(client, "/staff/points/srg-dinas/counters", {"counters": "Loket\x00 1"})
    assert answer.status_code == 400
    assert "“Loket, dipisahkan dengan koma” berisi karakter kendali" in answer.get_data(
        as_text=True
    )
    assert make_request.point("srg-dinas").counters == before
    too_many = ", ".join(f"L{n}" for n in range(30))
    assert (
        post(client, "/staff/points/srg-dinas/counters", {"counters": too_many}).status_code == 400
    )
    assert make_request.point("srg-dinas").counters == before
    good = post(client, "/staff/points/srg-dinas/counters", {"counters": "A, B, A"})
    assert good.status_code == 303
    assert make_request.point("srg-dinas").counters == ["A", "B"]


def test_the_points_page_lists_a_mobile_service_visit(client, boss, make_request, session):
    office = make_request.office("36.73")
    starts = dt.datetime(2099, 6, 1, 2, 0, tzinfo=dt.UTC)  # ahead of any real clock
    pickup.schedule_visit(
        session, office, name="Desa Sukamaju", address="Balai desa",
        starts=starts, ends=starts + dt.timedelta(hours=4),
    )  # fmt: skip
    session.commit()
    page = client.get("/staff/points")
    assert page.status_code == 200
    assert "Desa Sukamaju" in page.get_data(as_text=True) and "13.00" in page.get_data(as_text=True)
    refused = post(client, "/staff/visits", {"name": "", "address": "x", "day": "2099-06-02"})
    assert refused.status_code == 400


def test_a_visit_name_with_a_control_character_is_refused(client, boss, session):
    before = counted(session, PickupPoint)
    data = {"name": "Desa\x0bSukajaya", "address": "Balai desa", "day": "2099-06-01",
            "opens": "09:00", "closes": "13:00"}  # fmt: skip
    answer = post(client, "/staff/visits", data)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "“Tempat yang dikunjungi” berisi karakter kendali" in body
    assert counted(session, PickupPoint) == before


def test_closures_in_year_1_or_9999_are_refused(client, boss, session):
    before = counted(session, Closure)
    for day in ("0001-01-01", "9999-12-31", "1999-12-31", "2100-01-01"):
        answer = post(client, "/staff/points/srg-dinas/closures", {"day": day, "reason": "Rapat"})
        assert answer.status_code == 400, day
        assert "harus tanggal antara 2000-01-01 dan 2099-12-31" in answer.get_data(as_text=True)
    assert counted(session, Closure) == before
    good = post(client, "/staff/points/srg-dinas/closures", {"day": "2099-12-31", "reason": "R"})
    assert good.status_code == 303 and counted(session, Closure) == before + 1


def test_a_missing_field_is_named(client, boss, session) -> None:
    answer = post(client, "/staff/visits", {"name": "\u200b", "address": "", "opens": "09:00"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "“Tempat yang dikunjungi” tidak berisi satu pun karakter yang terlihat." in body
    for label in ("Alamat", "Tanggal", "Sampai"):
        assert f"“{label}” wajib diisi." in body, label
    assert 'aria-required="true"' in body or " required" in body


def test_an_empty_hours_form_keeps_the_opening_hours(client, boss, session):
    before = counted(session, OpeningHours)
    assert before > 0
    empty = post(client, "/staff/points/srg-dinas/hours", week())
    assert empty.status_code == 400
    assert "Isi paling sedikit satu jam buka." in empty.get_data(as_text=True)
    half = post(client, "/staff/points/srg-dinas/hours", week(d0_p0_opens="08:00"))
    assert half.status_code == 400
    assert counted(session, OpeningHours) == before


def test_an_hours_post_that_lacks_fields_keeps_the_opening_hours(client, boss, session):
    """A post made by hand or cut short, with one period and none of the other fields, would
    leave the point that one period; it is refused. Control: the same period with every other
    field sent empty, as a browser sends it, is saved as the point's only period."""

    def periods() -> list[tuple]:
        found = session.execute(
            select(OpeningHours.weekday, OpeningHours.opens, OpeningHours.closes)
            .join(PickupPoint, PickupPoint.id == OpeningHours.point_id)
            .where(PickupPoint.code == "srg-dinas")
            .order_by(OpeningHours.weekday, OpeningHours.opens)
        ).all()
        session.rollback()
        return [tuple(row) for row in found]

    before = periods()
    assert len(before) > 1
    one = {"d0_p0_opens": "08:00", "d0_p0_closes": "12:00"}
    cut = post(client, "/staff/points/srg-dinas/hours", one)
    assert cut.status_code == 400
    assert "Tidak semua jam buka ikut terkirim" in cut.get_data(as_text=True)
    assert periods() == before
    assert post(client, "/staff/points/srg-dinas/hours", week(**one)).status_code == 303
    assert periods() == [(0, dt.time(8), dt.time(12))]


def test_a_batch_made_ready_at_a_point_without_opening_hours_is_refused(
    client, operator, make_request, session
):
    point = make_request.point("srg-cipocok")
    pickup.set_hours(point, [])
    session.commit()
    request = make_request(Status.PROCESSING)
    data = {"receipts": request.receipt, "to": "ready", "point": str(point.id)}
    answer = post(client, "/staff/batch", data, "/staff/batch")
    assert answer.status_code == 400
    assert "tidak buka dalam beberapa minggu ke depan" in answer.get_data(as_text=True)
    session.refresh(request)
    assert request.status == Status.PROCESSING


# --- Feeds and public pages ------------------------------------------------------------------


def test_control_characters_stored_before_validation_keep_the_feed_well_formed(
    client, make_request, session
):
    """Rows written before the edge refused control characters: a point's name, and an
    applicant's name whose word starts with one (the masked name keeps that character)."""
    point = make_request.point("srg-cipocok")
    point.name = "Kecamatan\x01 Cipocok\x0c Jaya"
    session.commit()
    make_request(Status.READY, point="srg-cipocok", name="\x02Budi \x1bSantoso")
    announce.publish(session, dt.datetime(2099, 6, 1, 2, 0, tzinfo=dt.UTC))
    session.commit()
    feed = client.get("/pengumuman.atom")
    assert feed.status_code == 200
    root = ET.fromstring(feed.data)
    assert "Kecamatan Cipocok Jaya" in ET.tostring(root, encoding="unicode")


def test_a_script_in_a_note_is_escaped_on_the_public_page(client, operator, make_request):
    request = make_request(Status.VERIFYING)
    note = "<script>alert(1)</script> Bawa KK asli."
    assert move(client, request, "needs_fix", public_note=note).status_code == 303
    page = client.get(f"/s/{request.receipt}").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


# --- Staff input ----------------------------------------------------------------------------


def test_a_reason_of_zero_width_characters_is_no_reason(client, operator, make_request, session):
    request = make_request(Status.VERIFYING)
    answer = move(client, request, "needs_fix", public_note="\u200b\u200c\u2060\u200e")
    assert answer.status_code == 400
    assert "tidak berisi satu pun karakter yang terlihat" in answer.get_data(as_text=True)
    session.refresh(request)
    assert request.status == Status.VERIFYING
    with pytest.raises(MissingDetails):  # the workflow itself, for callers other than forms
        operations.move(
            session,
            request,
            Status.NEEDS_FIX,
            actor=Actor("t"),
            public_note="\u200b\ufeff",
            now=utcnow(),
            config=DEFAULTS,
        )
    session.rollback()


def test_an_emoji_in_a_note_is_stored_as_sent_and_nothing_else_changes(
    client, operator, make_request, session
):
    request = make_request(Status.VERIFYING)
    note = "Foto KK buram 🙏 — bawa yang asli (ZWJ: 👨\u200d👩\u200d👧)"
    events = counted(session, StatusEvent)
    answer = move(client, request, "needs_fix", public_note=note)
    assert answer.status_code == 303
    session.refresh(request)
    assert request.status == Status.NEEDS_FIX and request.events[-1].public_note == note
    assert counted(session, StatusEvent) == events + 1
    assert note in client.get(f"/s/{request.receipt}").get_data(as_text=True)


def test_an_applicant_name_with_a_control_character_is_refused(
    client, operator, make_request, session
):
    service = make_request.service("kk")
    before = counted(session, Request)
    for name in ("\x01Siti Rahmawati", "Siti\x00", "Siti 2", "Siti_Rahma", "Dr. Siti", "A" * 61):
        answer = intake(client, service.id, applicant_name=name)
        assert answer.status_code == 400, name
        body = answer.get_data(as_text=True)
        assert "“Nama lengkap pemohon”" in body, name
    assert counted(session, Request) == before
    assert intake(client, service.id, applicant_name="Ma'ruf Amin").status_code == 303


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("Budi Santoso", True),
        ("Ma'ruf Amin", True),
        ("  Siti   Nur  ", True),
        ("A" * 60, True),
        ("A" * 61, False),
        ("Budi2", False),
        ("Budi-Santoso", False),
        ("Dr. Budi", False),
        ("Budi ' Santoso", False),
        ("Zoë", False),
        ("'Budi", False),
    ],
)
def test_applicant_names_follow_permendagri_73_2022(app: Flask, name: str, valid: bool) -> None:
    class Named(QueryForm):
        name = StringField("Nama", [PersonName()])

    with app.test_request_context():
        assert Named(data={"name": name}).validate() is valid


def test_text_keeps_format_characters_inside_visible_text(app: Flask) -> None:
    class Noted(QueryForm):
        note = TextAreaField("Catatan", [CleanText(multiline=True), Visible()])
        line = StringField("Baris", [CleanText()])

    def valid(note: str, line: str = "ok") -> bool:
        from werkzeug.datastructures import MultiDict

        return Noted(MultiDict({"note": note, "line": line})).validate()

    with app.test_request_context():
        assert valid("Ma\u200druf \u200fعلي\u200e ok")  # joiners and direction marks inside
        assert valid("baris satu\r\nbaris\tdua")  # line breaks and tabs in a multi-line field
        assert not valid("\u200b\u200d\u200e")  # nothing visible
        assert not valid("   ")
        assert not valid("a\x00b") and not valid("a\x85b") and not valid("a\x7fb")
        assert not valid("ok", line="a\tb") and not valid("ok", line="a\nb")
    assert edge.visible("x\u200b") and not edge.visible("\u3164\u2800\u00ad")


# --- Query arguments ------------------------------------------------------------------------


def test_very_large_integers_in_query_arguments_are_refused(client, make_account, session) -> None:
    admin = make_account("admin")
    assert sign_in(client, admin.username).status_code == 303
    for path in (
        f"/staff/queue/processing?page={2**63}",
        f"/staff/overdue?page={10**20}",
        f"/staff/?office={2**63}",
        f"/staff/search?q=x&office={10**20}",
        f"/staff/batch/check?no=x&point={2**63}",
        "/staff/queue/processing?page=-1",
    ):
        answer = client.get(path)
        assert answer.status_code == 400, path
        assert "harus bilangan bulat dari" in answer.get_data(as_text=True)
    assert client.post(f"/staff/outbox/{2**63}/retry").status_code == 404


def test_a_period_of_unicode_digits_is_refused_not_a_500(client) -> None:
    """``"²".isdigit()`` is true, but ``int("²")`` fails."""
    answer = client.get("/statistik.json?minggu=%C2%B2")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_query"


def test_a_login_next_with_a_line_break_goes_to_the_console_home(client, make_account):
    account = make_account("operator")
    assert client.get("/staff/login?next=/staff/%0d%0aSet-Cookie:x=1").status_code == 200
    from tests.factories import PASSWORD, csrf_token

    data = {
        "username": account.username,
        "password": PASSWORD,
        "next": "/staff/queue\r\nSet-Cookie: x=1",
        "csrf_token": csrf_token(client),
    }
    answer = client.post("/staff/login", data=data)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/staff/" and "Set-Cookie: x" not in str(answer.headers)


def test_indonesian_pages_show_no_english_wtforms_messages(client, operator, make_request):
    service = make_request.service("kk")
    answer = intake(client, service.id, channel="fax", phone="0812" * 10, service="999999")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "Bukan pilihan yang sah." in body
    assert "Isian tidak boleh lebih dari 30 karakter." in body
    assert [text for text in ENGLISH if text in body] == []
    english = intake(client, service.id, channel="fax", phone="0812" * 10).get_data(as_text=True)
    assert "Not a valid choice" not in english  # the page is Indonesian unless asked
    client.get("/?lang=en")
    english = intake(client, service.id, channel="fax").get_data(as_text=True)
    assert "Not a valid choice." in english


def test_reading_an_undeclared_query_argument_fails_the_request(app: Flask) -> None:
    class Declared(QueryForm):
        seen = StringField("Seen")

    @app.get("/probe/declared")
    @declare(query=Declared)
    def declared() -> str:
        from flask import request

        return request.args.get("seen", "")

    @app.get("/probe/undeclared")
    @declare(query=Declared)
    def undeclared() -> str:
        from flask import request

        return request.args.get("hidden", "")

    client = app.test_client()
    assert client.get("/probe/declared?seen=ja").get_data(as_text=True) == "ja"
    assert client.get("/probe/undeclared?hidden=1").status_code == 500
    with app.test_request_context("/probe/undeclared?hidden=1"), pytest.raises(UndeclaredArgument):
        from flask import request

        request.args.get("hidden")


def test_every_wtforms_message_has_an_indonesian_translation() -> None:
    import wtforms
    from babel.messages.pofile import read_po

    from tests.test_i18n import CATALOGUE, msgid

    pot = Path(wtforms.__file__).parent / "locale" / "wtforms.pot"
    with pot.open("rb") as f:
        wanted = {msgid(m) for m in read_po(f) if m.id}
    with (CATALOGUE / "messages.po").open("rb") as f:
        translated = {msgid(m) for m in read_po(f) if m.id and all(m.string)}
    assert wanted and wanted - translated == set()


def test_a_refused_query_argument_is_named_in_the_readers_language(client) -> None:
    answer = client.get("/cek?no=" + "7" * 300)
    assert answer.status_code == 400
    assert "“Nomor tanda terima”: Isian tidak boleh lebih dari 200 karakter." in (
        answer.get_data(as_text=True)
    )
    english = client.get("/cek?lang=en&no=" + "7" * 300).get_data(as_text=True)
    assert "“Receipt number”: Field cannot be longer than 200 characters." in english


class _Line(QueryForm):
    line = StringField("Baris", [CleanText()])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_single_line_text_is_refused_exactly_when_it_holds_a_control_or_shows_nothing(
    text: str,
) -> None:
    from werkzeug.datastructures import MultiDict

    controls = any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\ufffe\uffff" for c in text)
    expected = not controls and (not text.strip() or edge.visible(text))
    assert _Line(MultiDict({"line": text})).validate() is expected


# --- A host header that names no host --------------------------------------------------------

# Hosts werkzeug refuses before routing (an empty label, a label over 63 characters), and one
# outside TRUSTED_HOSTS: no address can be built for such a request, and error pages link.
REFUSED_HOSTS = ["a..b", "x" * 64 + ".go.id", "calo.example"]
NOT_UNDERSTOOD = "Permintaan tidak dapat dipahami."


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_host_that_names_no_host_is_a_400_in_the_readers_language(
    app: Flask, client, make_request, make_account, session, host: str
) -> None:
    app.config["TRUSTED_HOSTS"] = ["localhost"]
    receipt = make_request(Status.READY).receipt
    account = make_account("operator")
    reads = [
        (f"/s/{receipt}", NOT_UNDERSTOOD),
        ("/board/srg-dinas", NOT_UNDERSTOOD),
        ("/healthz", NOT_UNDERSTOOD),
        (f"/api/v1/requests/{receipt}", '"code":"bad_request"'),
        (f"/open311/v2/requests/{receipt}.xml", "<code>400</code>"),
    ]
    for path, words in reads:
        control = client.get(path, environ_overrides={"HTTP_HOST": "localhost"})
        assert control.status_code == 200, path  # the app serves this address
        answer = client.get(path, environ_overrides={"HTTP_HOST": host})
        assert answer.status_code == 400, (path, answer.status_code)
        assert words in answer.get_data(as_text=True), path
        assert answer.headers["X-Frame-Options"] == "DENY", path  # the hooks still ran
    # A sign-in under that host is refused before it is tried: nothing is recorded. The
    # control, under the app's own host, is tried and its failure recorded.
    form = {"username": account.username, "password": "not the password"}
    before = counted(session, AuditEntry)
    refused = client.post(
        "/staff/login",
        data={**form, "csrf_token": csrf_token(client)},
        environ_overrides={"HTTP_HOST": host},
    )
    assert refused.status_code == 400
    assert NOT_UNDERSTOOD in refused.get_data(as_text=True)
    assert counted(session, AuditEntry) == before
    tried = client.post(
        "/staff/login",
        data={**form, "csrf_token": csrf_token(client)},
        environ_overrides={"HTTP_HOST": "localhost"},
    )
    assert tried.status_code == 401
    assert counted(session, AuditEntry) == before + 1


# --- JSON posted to a console form -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ['"a"', "[1, 2]", "123", "null", '{"username": null, "password": 1}', "[" * 100_000,
     "CREDENTIALS"],
)  # fmt: skip
def test_json_posted_to_a_console_form_is_an_empty_form_refused_field_by_field(
    client, make_account, session, body: str
) -> None:
    """A form reads what a browser posts; a JSON body (with the CSRF token in its header, as
    Flask-WTF allows) is no form data at all, even one that names the fields."""
    account = make_account("operator")
    if body == "CREDENTIALS":
        body = json.dumps({"username": account.username, "password": PASSWORD})
    before = counted(session, AuditEntry)
    answer = client.post(
        "/staff/login",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "“Nama pengguna” wajib diisi." in page and "“Kata sandi” wajib diisi." in page
    assert counted(session, AuditEntry) == before  # no sign-in was tried
    signed_in = sign_in(client, account.username)  # the control: the same form, as a browser
    assert signed_in.status_code == 303


# --- A body over MAX_CONTENT_LENGTH -----------------------------------------------------------


def test_a_form_over_max_content_length_is_refused_413_in_the_readers_language(
    client, make_account, session
) -> None:
    account = make_account("operator")
    before = counted(session, AuditEntry)
    fields = {"username": account.username, "password": "x" * 1_100_000}
    for multipart in (False, True):
        data = {**fields, "csrf_token": csrf_token(client)}
        if multipart:
            data["note"] = (io.BytesIO(b"x" * 10), "a.txt")  # a file: the body goes multipart
        answer = client.post("/staff/login", data=data)
        assert answer.status_code == 413, multipart
        assert "Yang dikirim terlalu besar." in answer.get_data(as_text=True)
    assert counted(session, AuditEntry) == before  # no sign-in was tried
    tried = client.post(
        "/staff/login", data={**fields, "password": "not it", "csrf_token": csrf_token(client)}
    )
    assert tried.status_code == 401  # the control: a form within the limit is read and tried
    assert counted(session, AuditEntry) == before + 1
