"""Open311 GeoReport v2, the read side (``/open311/v2/``): every route in XML and JSON, the
open/closed rule, what a request shows and when, errors in the spec's shape, no personal
data, the look-up budget, XML that stays well formed, and a GeoReport client from PyPI
reading it over real HTTP."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests as http
from georeport import GeoReport
from sqlalchemy import select, update

from tests.factories import FACTORY
from tests.test_api_contract import fits
from tracker import create_app, receipts
from tracker.api import contract
from tracker.models import Office, PickupPoint, Service
from tracker.open311.documents import open_or_closed
from tracker.requests import operations
from tracker.status import ENDED, Status

V2 = "/open311/v2"
CLOSED = {Status.COLLECTED, Status.DELIVERED, Status.REJECTED, Status.CANCELLED}
NIK = "3673011203850001"
PHONE = "081234567890"
NAME = "Budi Santoso"


def as_xml(answer: Any) -> ET.Element:
    """The answer parsed as XML (which fails on a document that is not well formed)."""
    assert answer.mimetype == "application/xml", answer.mimetype
    assert answer.data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    return ET.fromstring(answer.data)


def one(client: Any, receipt: str, fmt: str = "json", **args: str) -> Any:
    return client.get(f"{V2}/requests/{receipt}.{fmt}", query_string=args)


def xml_fields(element: ET.Element) -> dict[str, str]:
    """An element's children, by name, as text ('' for an empty one)."""
    return {child.tag: child.text or "" for child in element}


def json_as_text(document: dict[str, Any]) -> dict[str, str]:
    """A JSON document's plain fields as XML writes them."""
    shown = {}
    for name, value in document.items():
        if isinstance(value, dict | list):
            continue
        shown[name] = (
            "" if value is None else str(value).lower() if value in (True, False) else str(value)
        )
    return shown


def test_discovery_in_both_formats(client) -> None:
    found = client.get(f"{V2}/discovery.json")
    fits(found, f"{V2}/discovery.json")
    endpoint = found.get_json()["endpoints"][0]
    assert endpoint["url"] == "https://cek.example.go.id/open311/v2"  # PUBLIC_BASE_URL's
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["application/xml", "application/json"]
    assert dt.datetime.fromisoformat(found.get_json()["changeset"]).utcoffset() is not None

    written = client.get(f"{V2}/discovery.xml")
    fits(written, f"{V2}/discovery.xml")
    root = as_xml(written)
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/url") == endpoint["url"]
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == endpoint[
        "formats"
    ]
    assert root.findtext("contact") == found.get_json()["contact"]


def test_services_in_both_formats_in_the_callers_language(client, session) -> None:
    services = session.scalars(select(Service).order_by(Service.code)).all()
    session.commit()
    found = client.get(f"{V2}/services.json")
    fits(found, f"{V2}/services.json")
    listed = found.get_json()
    assert [s["service_code"] for s in listed] == [s.code for s in services]
    assert [s["service_name"] for s in listed] == [s.name_id for s in services]
    assert "hari kerja" in listed[0]["description"]  # Indonesian first
    assert found.headers["Vary"] == "Accept-Language, Cookie"  # cached once per language

    english = client.get(f"{V2}/services.xml?lang=en")
    fits(english, f"{V2}/services.xml")
    root = as_xml(english)
    assert root.tag == "services"
    rows = root.findall("service")
    assert [r.findtext("service_name") for r in rows] == [s.name_en for s in services]
    # Control: the two languages' names differ, so the language was really chosen.
    assert [s.name_en for s in services] != [s.name_id for s in services]
    assert {r.findtext("metadata") for r in rows} == {"false"}


def test_a_request_in_both_formats_says_the_same(client, make_request) -> None:
    ready = make_request(Status.READY, point="srg-dinas")
    found = one(client, ready.receipt)
    fits(found, f"{V2}/requests/{{receipt}}.json")
    [document] = found.get_json()
    assert document["service_request_id"] == ready.receipt
    assert document["service_code"] == "ktp-el"
    assert document["agency_responsible"] == ready.office.name
    assert document["status_notes"].startswith("Siap diambil")

    written = one(client, receipts.format_grouped(ready.receipt).lower(), "xml")
    fits(written, f"{V2}/requests/{{receipt}}.xml")
    root = as_xml(written)
    assert root.tag == "service_requests"
    [request] = root.findall("request")
    assert xml_fields(request) == json_as_text(document)


@pytest.mark.parametrize("status", list(Status))
def test_status_is_closed_once_the_request_has_ended_and_open_before(
    client, make_request, status
) -> None:
    made = make_request(status)
    [document] = one(client, made.receipt).get_json()
    assert document["status"] == ("closed" if status in CLOSED else "open")
    assert as_xml(one(client, made.receipt, "xml")).findtext("request/status") == (
        "closed" if status in CLOSED else "open"
    )


def test_the_closed_statuses_are_those_after_which_nothing_follows() -> None:
    assert {s for s in Status if open_or_closed(s) == "closed"} == CLOSED == ENDED
    # Control: a document that waits (ready, returned, delivering) is still open.
    assert {open_or_closed(s) for s in (Status.READY, Status.RETURNED, Status.DELIVERING)} == {
        "open"
    }


def test_the_address_is_the_pickup_points_once_ready_and_not_before(
    client, session, make_request
) -> None:
    session.execute(
        update(PickupPoint)
        .where(PickupPoint.code == "srg-dinas")
        .values(latitude=-6.1203, longitude=106.1503)
    )
    session.commit()
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == "srg-dinas")).one()
    address = point.address
    session.commit()
    ready = make_request(Status.READY, point="srg-dinas")
    working = make_request(Status.PROCESSING, nik="3673011203850002")

    [shown] = one(client, ready.receipt).get_json()
    assert shown["address"] == address
    assert (shown["lat"], shown["long"]) == (-6.1203, 106.1503)
    assert shown["service_notice"]  # what to bring
    assert shown["expected_datetime"] is None  # no longer expected: it is there
    request = as_xml(one(client, ready.receipt, "xml")).find("request")
    assert request is not None and request.findtext("address") == address
    assert float(request.findtext("lat") or "nan") == -6.1203

    # Control: before it is ready there is no address (the citizen's is never shown).
    [before] = one(client, working.receipt).get_json()
    assert (before["address"], before["lat"], before["long"]) == (None, None, None)
    assert before["service_notice"] is None
    assert before["expected_datetime"] is not None
    request = as_xml(one(client, working.receipt, "xml")).find("request")
    assert request is not None and request.findtext("address") == ""


def test_the_history_is_in_notes_only_with_extensions(client, make_request) -> None:
    fixed = make_request(Status.NEEDS_FIX)
    path = f"{V2}/requests/{{receipt}}.json"
    for args in ({}, {"extensions": "false"}):
        plain = one(client, fixed.receipt, **args)
        fits(plain, path)
        assert "notes" not in plain.get_json()[0]
        assert "extended_attributes" not in plain.get_json()[0]
        assert as_xml(one(client, fixed.receipt, "xml", **args)).find("request/notes") is None

    extended = one(client, fixed.receipt, extensions="true")
    fits(extended, path)
    [document] = extended.get_json()
    notes = document["notes"]
    assert len(notes) == len(fixed.events) == 3  # submitted, verifying, needs fix
    assert [n["summary"] for n in notes] == ["Diterima", "Sedang diverifikasi", "Perlu perbaikan"]
    assert notes[-1]["description"] == "Foto kopi KK kurang jelas; bawa KK asli."
    assert document["extended_attributes"]["status_code"] == "needs_fix"
    written = as_xml(one(client, fixed.receipt, "xml", extensions="TRUE"))
    assert [n.findtext("summary") for n in written.findall("request/notes/note")] == [
        n["summary"] for n in notes
    ]


def test_datetimes_carry_the_offset_of_the_offices_zone(client, session, make_request) -> None:
    made = make_request(Status.PROCESSING)
    submitted = made.created_at
    [wib] = one(client, made.receipt).get_json()
    assert wib["requested_datetime"].endswith("+07:00")
    assert dt.datetime.fromisoformat(wib["requested_datetime"]) == submitted.replace(microsecond=0)
    assert wib["expected_datetime"].endswith("T00:00:00+07:00")
    assert wib["expected_datetime"].startswith(made.expected_on.isoformat())
    # Control: the same request, its office moved to WIT, says +09:00 for the same instants.
    session.execute(update(Office).where(Office.code == "36.73").values(timezone="Asia/Jayapura"))
    session.commit()
    [wit] = one(client, made.receipt).get_json()
    assert wit["requested_datetime"].endswith("+09:00")
    assert dt.datetime.fromisoformat(wit["requested_datetime"]) == dt.datetime.fromisoformat(
        wib["requested_datetime"]
    )
    assert (
        as_xml(one(client, made.receipt, "xml"))
        .findtext("request/updated_datetime", "")
        .endswith("+09:00")
    )


def error_of(answer: Any, fmt: str) -> tuple[int, str]:
    """(code, description) of an error answer, checked against the spec's shape."""
    if fmt == "json":
        assert answer.mimetype == "application/json"
        body = answer.get_json()
        assert contract.problems("Open311Errors", body) == []
        [error] = body
        return error["code"], error["description"]
    root = as_xml(answer)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert [c.tag for c in root[0]] == ["code", "description"]
    return int(root.findtext("error/code") or 0), root.findtext("error/description") or ""


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_are_the_specs_array_in_the_format_asked(client, make_request, fmt) -> None:
    made = make_request(Status.PROCESSING)
    unknown = receipts.generate()
    cases = {
        f"{V2}/requests/AAAA.{fmt}": (400, "12"),  # too short: a typo
        f"{V2}/requests/{unknown}.{fmt}": (404, "Tidak ada permohonan"),
        f"{V2}/requests.{fmt}": (400, "“service_request_id”"),  # no list without numbers
        f"{V2}/requests.{fmt}?service_request_id=": (400, "“service_request_id”"),
        f"{V2}/requests.{fmt}?service_request_id={made.receipt}&extensions=ya": (
            400,
            "“extensions”",
        ),
        f"{V2}/no-such-thing.{fmt}": (404, "tidak ada"),
    }
    for path, (code, words) in cases.items():
        answer = client.get(path)
        assert answer.status_code == code, path
        assert error_of(answer, fmt)[0] == code
        assert words in error_of(answer, fmt)[1], (path, error_of(answer, fmt))
    # Nothing is created through Open311 (a request is registered at a counter): a POST is
    # told so in the spec's shape, with the methods that are allowed.
    refused = client.post(f"{V2}/requests.{fmt}", json={"service_code": "ktp-el"})
    assert refused.status_code == 405 and "GET" in refused.headers["Allow"]
    assert error_of(refused, fmt)[0] == 405
    for path in (f"{V2}/requests/AAAA.{fmt}", f"{V2}/requests/{unknown}.{fmt}"):
        fits(client.get(path), f"{V2}/requests/{{receipt}}.{fmt}")
    fits(client.get(f"{V2}/requests.{fmt}"), f"{V2}/requests.{fmt}")
    # Control: the same addresses with a good number answer.
    assert one(client, made.receipt, fmt).status_code == 200
    assert client.get(f"{V2}/requests.{fmt}?service_request_id={made.receipt}").status_code == 200


def test_a_mistyped_receipt_is_told_as_mistyped_not_as_unknown(client, make_request) -> None:
    made = make_request(Status.PROCESSING)
    last = made.receipt[-1]
    typo = made.receipt[:-1] + ("0" if last != "0" else "1")  # the check character fits no more
    assert not receipts.is_valid(typo)
    answer = one(client, typo)
    assert answer.status_code == 400
    assert "salah ketik" in error_of(answer, "json")[1]
    listed = client.get(f"{V2}/requests.xml?service_request_id={made.receipt},{typo}")
    assert listed.status_code == 400
    assert typo in error_of(listed, "xml")[1]  # which of the numbers: the caller typed it
    # Control: the number as printed, in any case, with dashes, is found.
    assert one(client, receipts.format_grouped(made.receipt).lower()).status_code == 200


def test_several_requests_by_number_unknown_ones_left_out(client, make_request) -> None:
    first = make_request(Status.READY)
    second = make_request(Status.COLLECTED, nik="3673011203850003")
    asked = f"{second.receipt}, {receipts.generate()},{receipts.format_grouped(first.receipt)}"
    found = client.get(f"{V2}/requests.json", query_string={"service_request_id": asked})
    fits(found, f"{V2}/requests.json")
    assert [(d["service_request_id"], d["status"]) for d in found.get_json()] == [
        (second.receipt, "closed"),
        (first.receipt, "open"),
    ]
    root = as_xml(client.get(f"{V2}/requests.xml", query_string={"service_request_id": asked}))
    assert [r.findtext("service_request_id") for r in root] == [second.receipt, first.receipt]
    too_many = ",".join(receipts.generate() for _ in range(11))
    answer = client.get(f"{V2}/requests.json", query_string={"service_request_id": too_many})
    assert answer.status_code == 400 and "10" in error_of(answer, "json")[1]
    # One request named twice, written two ways, is listed once.
    twice = f"{first.receipt},{receipts.format_grouped(first.receipt).lower()},{second.receipt}"
    found = client.get(f"{V2}/requests.json", query_string={"service_request_id": twice})
    assert [d["service_request_id"] for d in found.get_json()] == [first.receipt, second.receipt]


def test_no_personal_data_in_any_answer(client, session, make_request) -> None:
    made = make_request(
        Status.READY,
        name=NAME,
        nik=NIK,
        phone=PHONE,
        email="budi@example.id",
        address="Jl. Mawar 7",
    )
    make_request.move(made, Status.COLLECTED, internal_note=f"Diambil {NAME}, NIK {NIK}")
    session.commit()
    personal = [NIK, PHONE, NAME, "Budi", "Santoso", "B*** S******", "budi@example.id", "Mawar"]
    bodies = [
        one(client, made.receipt, fmt, extensions="true").get_data(as_text=True)
        for fmt in ("json", "xml")
    ]
    bodies.append(
        client.get(f"{V2}/requests.json?service_request_id={made.receipt}").get_data(as_text=True)
    )
    for body in bodies:
        assert made.receipt in body
        assert [p for p in personal if p in body] == []
    # Control: the same check finds them where they are: the status page shows the masked name.
    page = client.get(f"/s/{made.receipt}").get_data(as_text=True)
    assert [p for p in personal if p in page] == ["B*** S******"]


def test_staff_notes_never_show_and_hostile_text_keeps_the_xml_well_formed(
    app, client, session, make_request
) -> None:
    made = make_request(Status.VERIFYING)
    hostile = 'Bawa <KK> & "akta" ]]></description><x>\x01\x0b\x1f\ufffe selesai'
    operations.move(
        session, made, Status.NEEDS_FIX, actor=FACTORY, now=made.updated_at, config=app.config,
        public_note=hostile, internal_note="CATATAN-DALAM: jangan tampilkan",
    )  # fmt: skip
    session.execute(
        update(Office).where(Office.code == "36.73").values(name="Disdukcapil <Serang> & Co")
    )
    session.commit()
    for args in ({}, {"extensions": "true"}):
        root = as_xml(one(client, made.receipt, "xml", **args))  # parses: well formed
        request = root.find("request")
        assert request is not None
        assert (
            request.findtext("status_notes")
            == 'Perlu perbaikan: Bawa <KK> & "akta" ]]></description><x> selesai'
        )
        assert request.findtext("agency_responsible") == "Disdukcapil <Serang> & Co"
        listed = as_xml(client.get(f"{V2}/requests.xml?service_request_id={made.receipt}"))
        assert listed.findtext("request/status_notes") == request.findtext("status_notes")
    notes = as_xml(one(client, made.receipt, "xml", extensions="true")).findall(
        "request/notes/note"
    )
    assert notes[-1].findtext("description") == hostile.replace("\x01\x0b\x1f\ufffe", "")
    # JSON carries the note as written; the staff note shows in neither.
    [document] = one(client, made.receipt, extensions="true").get_json()
    assert document["notes"][-1]["description"] == hostile
    for fmt in ("json", "xml"):
        assert "CATATAN-DALAM" not in one(client, made.receipt, fmt, extensions="true").get_data(
            as_text=True
        )
    # Control: the raw text would not have been well formed XML.
    with pytest.raises(ET.ParseError):
        ET.fromstring(f"<a>{hostile}</a>")


def limited(app_config: dict[str, Any], limit: str) -> Any:
    return create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
         "LOOKUP_RATE_LIMIT": limit}
    )  # fmt: skip


def test_the_look_up_budget_applies_and_is_shared_with_the_status_page(
    app_config, make_request
) -> None:
    made = make_request(Status.PROCESSING)
    strict = limited(app_config, "4 per hour")
    try:
        client = strict.test_client()
        # Under the budget, every kind of look-up answers (found, not found, mistyped).
        assert one(client, made.receipt).status_code == 200
        assert one(client, receipts.generate(), "xml").status_code == 404
        assert client.get(f"/s/{made.receipt}").status_code == 200  # the same budget
        assert one(client, "AAAA").status_code == 400
        over = one(client, made.receipt, "xml")
        assert over.status_code == 429
        assert error_of(over, "xml")[0] == 429
        assert over.headers["Retry-After"]
        fits(over, f"{V2}/requests/{{receipt}}.xml")
        assert client.get(f"/s/{made.receipt}").status_code == 429
        listed = client.get(f"{V2}/requests.json?service_request_id={made.receipt}")
        assert listed.status_code == 429
        fits(listed, f"{V2}/requests.json")
        # Discovery and services are no look-up: they still answer.
        assert client.get(f"{V2}/services.json").status_code == 200
    finally:
        strict.extensions["siapambil.db"]["engine"].dispose()


def test_a_list_counts_each_number_it_names(app_config, make_request) -> None:
    made = make_request(Status.PROCESSING)
    three = ",".join([made.receipt, receipts.generate(), receipts.generate()])
    strict = limited(app_config, "4 per hour")
    try:
        client = strict.test_client()
        assert client.get(f"{V2}/requests.xml?service_request_id={three}").status_code == 200
        assert one(client, made.receipt).status_code == 200  # the fourth look-up
        assert one(client, made.receipt).status_code == 429
    finally:
        strict.extensions["siapambil.db"]["engine"].dispose()
    # Control: one number costs one look-up: four single calls fit the same budget.
    loose = limited(app_config, "4 per hour")
    try:
        client = loose.test_client()
        assert [one(client, made.receipt).status_code for _ in range(5)] == [200] * 4 + [429]
    finally:
        loose.extensions["siapambil.db"]["engine"].dispose()


def test_a_georeport_client_from_pypi_reads_it_over_http(live_server, make_request) -> None:
    """georeport (PyPI) reads services and requests, in JSON and in XML, from the app served
    on loopback; it has no call for discovery, which plain HTTP reads."""
    ready = make_request(Status.READY, point="srg-dinas")
    done = make_request(Status.COLLECTED, nik="3673011203850004")
    root = live_server + V2
    discovery = http.get(f"{root}/discovery.json", timeout=10)
    assert discovery.status_code == 200
    assert discovery.json()["endpoints"][0]["url"].endswith(V2)
    assert ET.fromstring(http.get(f"{root}/discovery.xml", timeout=10).content).tag == "discovery"
    for fmt in ("json", "xml"):
        client = GeoReport(root, output_format=fmt)
        services = client.get_service_list()
        assert "ktp-el" in [s["service_code"] for s in services]
        shown = client.get_service_request(ready.receipt)
        assert shown["service_request_id"] == ready.receipt
        assert shown["status"] == "open"
        assert shown["address"]
        assert shown["requested_datetime"].endswith("+07:00")
        several = client.get_service_requests(service_request_id=f"{ready.receipt},{done.receipt}")
        assert [r["status"] for r in several] == ["open", "closed"]
    with pytest.raises(http.HTTPError) as refused:
        GeoReport(root).get_service_requests()  # a list without numbers
    assert refused.value.response.status_code == 400
