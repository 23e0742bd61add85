"""Progress and honesty on the status page: the step bar, the office's usual time beside the
legal target, whom to ask and where to complain when late, map links, the courier of a
delivery, where to apply again after a rejection; and the console pages where supervisors
keep their office's contacts and their points' coordinates."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from lxml import html
from sqlalchemy import func, select

from tests.factories import csrf_token, sign_in
from tests.test_lookup import visible_text
from tracker.intake.checks import is_office_phone
from tracker.models import AuditEntry, DailyFigure, Office, PickupPoint, Request, utcnow
from tracker.places.workdays import add_working_days
from tracker.status import Status
from tracker.web.formatters import format_day

S = Status
JAKARTA = ZoneInfo("Asia/Jakarta")


def page_of(client, receipt: str) -> str:
    answer = client.get(f"/s/{receipt}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def steps(page: str) -> list[tuple[str, str, bool]]:
    """The step bar as (name, state, current)."""
    tree = html.fromstring(page)
    return [
        (
            li.find_class("step-name")[0].text_content().strip(),
            li.get("class").split("step-")[-1],
            li.get("aria-current") == "step",
        )
        for li in tree.xpath("//div[@class='steps']//li")
    ]


def test_the_step_bar_shows_the_path_done_current_and_to_come(client, make_request) -> None:
    fixing = make_request(S.NEEDS_FIX)
    assert steps(page_of(client, fixing.receipt)) == [
        ("Diterima", "done", False),
        ("Sedang diverifikasi", "done", False),
        ("Perlu perbaikan", "current", True),
        ("Diperiksa ulang", "todo", False),  # verified again, not the same words twice
        ("Sedang diproses", "todo", False),
        ("Siap diambil", "todo", False),
        ("Sudah diambil", "todo", False),
    ]
    delivering = make_request(S.DELIVERING)
    assert [(n, s) for n, s, _ in steps(page_of(client, delivering.receipt))] == [
        ("Diterima", "done"),
        ("Sedang diverifikasi", "done"),
        ("Sedang diproses", "done"),
        ("Siap diambil", "done"),
        ("Sedang diantar", "current"),
        ("Sudah diantar", "todo"),
    ]
    rejected = make_request(S.REJECTED)
    assert [(n, s) for n, s, _ in steps(page_of(client, rejected.receipt))] == [
        ("Diterima", "done"),
        ("Sedang diverifikasi", "done"),
        ("Ditolak", "current"),
    ]
    # each state is said in words too, not by colour alone
    assert "(belum)" in visible_text(page_of(client, fixing.receipt))


def recent_figures(session, request: Request, durations: list[int]) -> None:
    """Daily figures of the request's office and service over the last weeks: one day per
    finished document, each with the given duration."""
    today = utcnow().astimezone(JAKARTA).date()
    for n, days in enumerate(durations):
        histogram = [0] * (days + 1)
        histogram[days] = 1
        session.add(
            DailyFigure(
                office_id=request.office_id,
                service_id=request.service_id,
                day=today - dt.timedelta(days=n + 1),
                finished=1,
                within_target=int(days <= 3),
                durations=histogram,
            )
        )
    session.commit()


@pytest.mark.parametrize("finished", [19, 20])
def test_the_usual_time_shows_from_twenty_finished(client, make_request, session, finished) -> None:
    request = make_request(S.PROCESSING)
    # half in 2 working days, nearly all within 4, one or two in 9
    durations = [2] * 10 + [4] * 8 + [9] * (finished - 18)
    recent_figures(session, request, durations)
    old = session.get(Request, request.id)
    old_day = DailyFigure(  # older than 12 weeks: not counted
        office_id=old.office_id, service_id=old.service_id, finished=5, within_target=5,
        day=utcnow().astimezone(JAKARTA).date() - dt.timedelta(weeks=13), durations=[0, 5],
    )  # fmt: skip
    session.add(old_day)
    session.commit()
    text = visible_text(page_of(client, request.receipt))
    assert "Target waktu layanan 3 hari kerja" in text  # the legal target, always
    if finished < 20:
        assert "Biasanya di kantor ini" not in text
        return
    start = request.created_at.astimezone(JAKARTA).date()
    first, last = add_working_days(start, 2), add_working_days(start, 4)
    assert (
        f"Biasanya di kantor ini antara {format_day(first, 'id')} dan {format_day(last, 'id')}"
        in text
    )
    assert "2–4 hari kerja" in text


@pytest.mark.parametrize("seconds", [300, 0])
def test_the_usual_time_is_kept_a_while_in_each_worker(
    app, client, make_request, session, seconds
) -> None:
    """The office's usual time changes when the statistics roll up (once a day) and costs as
    much to read as the rest of a JSON answer, so each worker keeps it ``STATS_CACHE_SECONDS``
    per office, service and day: figures added meanwhile show after that, on the status page
    and the typed look-up alike. Control (0): they show at once."""
    app.config["STATS_CACHE_SECONDS"] = seconds
    request = make_request(S.PROCESSING)
    recent_figures(session, request, [2] * 20)
    assert "2–2 hari kerja" in visible_text(page_of(client, request.receipt))
    today = utcnow().astimezone(JAKARTA).date()
    for n in range(21, 61):  # forty more days, each a document that took 9 working days
        session.add(
            DailyFigure(
                office_id=request.office_id, service_id=request.service_id,
                day=today - dt.timedelta(days=n), finished=1, within_target=0,
                durations=[0] * 9 + [1],
            )
        )  # fmt: skip
    session.commit()
    shown = visible_text(page_of(client, request.receipt))
    assert ("2–2 hari kerja" if seconds else "9–9 hari kerja") in shown, shown
    typed = visible_text(client.get(f"/cek?no={request.receipt}").get_data(as_text=True))
    assert ("2–2 hari kerja" if seconds else "9–9 hari kerja") in typed, typed


def late(make_request, session, status: Status = S.VERIFYING) -> Request:
    request = make_request(status)
    stored = session.get(Request, request.id)
    stored.expected_on = utcnow().astimezone(JAKARTA).date() - dt.timedelta(days=3)
    session.commit()
    return request


def test_a_late_request_shows_the_office_contact_and_where_to_complain(
    client, make_request, session
) -> None:
    page = page_of(client, late(make_request, session).receipt)
    text = visible_text(page)
    assert "Terlambat" in text
    assert "Hubungi Disdukcapil Kota Serang" in text
    assert 'href="tel:0254200101"' in page
    assert 'href="https://wa.me/6281100003673"' in page
    assert 'href="mailto:dukcapil.serang@contoh.go.id"' in page
    assert 'href="https://www.lapor.go.id/"' in page
    assert 'href="https://ombudsman.go.id/"' in page
    on_time = make_request(S.VERIFYING)
    assert "lapor.go.id" not in page_of(client, on_time.receipt)


def test_pickup_places_link_to_a_map(client, make_request) -> None:
    request = make_request(S.READY, point="srg-cipocok")  # the demo puts it at -6.142, 106.177
    page = page_of(client, request.receipt)
    assert 'href="geo:-6.142000,106.177000"' in page
    osm = "https://www.openstreetmap.org/?mlat=-6.142000&amp;mlon=106.177000#map=18/-6.142000/106.177000"
    assert f'href="{osm}"' in page


def test_out_for_delivery_names_the_courier_tracking_and_date(client, make_request) -> None:
    request = make_request(S.DELIVERING)
    text = visible_text(page_of(client, request.receipt))
    assert "Kurir Pos Indonesia" in text
    assert "Nomor resi P123" in text
    assert "Dikirim pada" in text


def test_rejected_says_where_to_apply_again(client, make_request) -> None:
    request = make_request(S.REJECTED)
    text = visible_text(page_of(client, request.receipt))
    assert "Tempat mengajukan permohonan lagi" in text
    assert "Jl. Jenderal Sudirman No. 5, Sumurpecung, Serang" in text
    assert "Senin–Kamis: 08.00–15.00" in text
    assert "081100003673" in text


# --- The console: the office's contacts and the points' coordinates ----------------------


def post(client, path: str, data: dict[str, str]):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/staff/")})


def contacts(session, code: str) -> tuple[str, str, str]:
    office = session.scalars(select(Office).where(Office.code == code)).one()
    found = (office.phone, office.whatsapp, office.email)
    session.rollback()
    return found


NEW = {"phone": "(0254) 218 000", "whatsapp": "+62 812-1111-2222", "email": "layanan@contoh.go.id"}


def test_a_supervisor_keeps_their_own_office_contacts_and_no_other(
    client, make_account, session
) -> None:
    supervisor = make_account("supervisor", office="36.73")
    assert sign_in(client, supervisor.username).status_code == 303
    lebak = contacts(session, "36.02")
    assert post(client, "/staff/offices/36.73/contact", NEW).status_code == 303
    assert contacts(session, "36.73") == ("(0254) 218 000", "081211112222", "layanan@contoh.go.id")
    audited = session.scalar(
        select(func.count()).where(
            AuditEntry.action == "office_contact", AuditEntry.target == "36.73"
        )
    )
    assert audited == 1
    assert post(client, "/staff/offices/36.02/contact", NEW).status_code == 403
    assert client.get("/staff/offices/36.02").status_code == 403
    assert contacts(session, "36.02") == lebak
    session.rollback()


def test_an_admin_keeps_any_office_contacts(client, make_account, session) -> None:
    admin = make_account("admin", office="36.73")
    assert sign_in(client, admin.username).status_code == 303
    assert post(client, "/staff/offices/36.02/contact", NEW).status_code == 303
    assert contacts(session, "36.02")[1] == "081211112222"


@pytest.mark.parametrize(
    ("field", "typed", "said"),
    [
        ("phone", "call us", "“Telepon” harus berupa nomor telepon"),
        ("phone", "29-11-2026", "“Telepon” harus berupa nomor telepon di Indonesia"),
        ("phone", "2026-11-29", "“Telepon” harus berupa nomor telepon di Indonesia"),
        ("phone", "+1 202 555 0100", "“Telepon” harus berupa nomor telepon di Indonesia"),
        ("whatsapp", "0254 200101", "“WhatsApp” harus berupa nomor ponsel"),
        ("email", "dukcapil@", "Alamat email ini tidak valid"),
    ],
)
def test_bad_contacts_are_refused_naming_the_field(
    client, make_account, session, field, typed, said
) -> None:
    before = contacts(session, "36.73")
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    answer = post(client, "/staff/offices/36.73/contact", {**NEW, field: typed})
    assert answer.status_code == 400
    assert said in visible_text(answer.get_data(as_text=True))
    assert contacts(session, "36.73") == before


@pytest.mark.parametrize(
    ("typed", "telephone"),
    [
        ("(0254) 200-123", True),
        ("021-5701 2345", True),
        ("+62 21 5701 2345", True),
        ("+62 (0)21 5701 2345", True),
        ("62 21 5701 2345", True),
        ("0800-1-234567", True),  # toll-free
        ("0812 3456 7890", True),
        ("1500 537", True),
        ("14045", True),
        ("112", True),
        ("29-11-2026", False),  # dates in the telephone's place
        ("2026-11-29", False),
        ("29.11.2026", False),
        ("1-11-2026", False),
        ("29/11/2026", False),
        ("+1 202 555 0100", False),  # another country's
        ("+62", False),
        ("0254", False),
        ("12345678", False),
        ("call us", False),
    ],
)
def test_an_office_telephone_is_a_number_in_indonesia(typed, telephone) -> None:
    assert is_office_phone(typed) is telephone


@pytest.mark.parametrize(
    "typed",
    [
        "1500 537",  # Dukcapil's call centre
        "+62 (0)254 200-123",
        "021-5701 2345",
        "14045",
        "",  # cleared: a browser sends the field empty
    ],
)
def test_an_office_phone_is_kept_as_typed(client, make_account, session, typed) -> None:
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    answer = post(client, "/staff/offices/36.73/contact", {**NEW, "phone": typed})
    assert answer.status_code == 303
    assert contacts(session, "36.73")[0] == typed


@pytest.mark.parametrize("left_out", ["phone", "whatsapp", "email"])
def test_a_post_that_leaves_a_contact_out_changes_nothing(
    client, make_account, session, left_out
) -> None:
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    assert post(client, "/staff/offices/36.73/contact", NEW).status_code == 303
    before = contacts(session, "36.73")
    assert all(before)
    cut = {name: typed for name, typed in NEW.items() if name != left_out}
    answer = post(client, "/staff/offices/36.73/contact", cut)
    assert answer.status_code == 400
    label = {"phone": "Telepon", "whatsapp": "WhatsApp", "email": "Email"}[left_out]
    said = visible_text(answer.get_data(as_text=True))
    assert f"“{label}” tidak ikut terkirim" in said, said
    assert contacts(session, "36.73") == before
    # Control: the same field sent empty is a field cleared.
    assert post(client, "/staff/offices/36.73/contact", {**cut, left_out: ""}).status_code == 303
    index = list(NEW).index(left_out)
    assert contacts(session, "36.73")[index] == ""


def location(session, code: str) -> tuple[float | None, float | None]:
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == code)).one()
    found = (point.latitude, point.longitude)
    session.rollback()
    return found


@pytest.mark.parametrize(
    ("latitude", "longitude", "said"),
    [
        ("91", "106.1", "“Lintang” harus berupa angka dari -90 sampai 90"),
        ("-6.1", "180.5", "“Bujur” harus berupa angka dari -180 sampai 180"),
        ("utara", "106.1", "“Lintang” harus berupa angka"),
        ("nan", "106.1", "“Lintang” harus berupa angka"),
        ("-6.1", "", "Isi lintang dan bujur sekaligus, atau kosongkan keduanya."),
    ],
)
def test_point_coordinates_are_checked(
    client, make_account, session, latitude, longitude, said
) -> None:
    before = location(session, "srg-kasemen")
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    data = {"latitude": latitude, "longitude": longitude}
    answer = post(client, "/staff/points/srg-kasemen/location", data)
    assert answer.status_code == 400
    assert said in visible_text(answer.get_data(as_text=True))
    assert location(session, "srg-kasemen") == before


def test_point_coordinates_are_saved_or_cleared(client, make_account, session) -> None:
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    data = {"latitude": "-6,0612", "longitude": " 106.1648 "}
    assert post(client, "/staff/points/srg-kasemen/location", data).status_code == 303
    assert location(session, "srg-kasemen") == (-6.0612, 106.1648)
    page = client.get("/staff/points/srg-kasemen").get_data(as_text=True)
    assert re.search(r'name="latitude"[^>]*value="-6.0612"', page)
    empty = {"latitude": "", "longitude": ""}
    assert post(client, "/staff/points/srg-kasemen/location", empty).status_code == 303
    assert location(session, "srg-kasemen") == (None, None)
