from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tracker import receipts
from tracker.audit.trail import Actor
from tracker.config import DEFAULTS
from tracker.models import utcnow
from tracker.places import closures
from tracker.status import Status


def test_the_status_as_json_in_both_languages(client, make_request) -> None:
    request = make_request(Status.READY, point="srg-dinas", service="kia")
    answer = client.get(f"/api/v1/requests/{receipts.format_grouped(request.receipt)}")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"]["code"] == "ready"
    assert body["status"]["label"] == {"id": "Siap diambil", "en": "Ready for pickup"}
    assert body["service"]["code"] == "kia"
    assert body["service"]["target_working_days"] == 3
    assert body["applicant"] == {"masked_name": "B*** S******"}
    assert [step["status"] for step in body["timeline"]] == [
        "submitted",
        "verifying",
        "processing",
        "ready",
    ]
    assert body["timeline"][-1]["label"]["id"] == "Siap diambil"
    pickup = body["pickup"]
    assert pickup["point"]["code"] == "srg-dinas"
    assert pickup["pickup_number"] == request.pickup_number
    assert pickup["window"]["starts"] < pickup["window"]["ends"]
    assert {"weekday": 0, "opens": "08:00", "closes": "15:00"} in pickup["point"]["opening_hours"]
    assert pickup["bring"]["id"].startswith("Kutipan akta kelahiran")
    assert body["expected_ready_on"] == request.expected_on.isoformat()
    assert body["overdue"] is False


def test_no_pickup_details_before_ready(client, make_request) -> None:
    request = make_request(Status.PROCESSING)
    assert client.get(f"/api/v1/requests/{request.receipt}").get_json()["pickup"] is None


def test_errors_are_json_with_a_stable_code(client) -> None:
    mistyped = client.get("/api/v1/requests/AAAA-AAAA-AAAA")
    assert mistyped.status_code == 400
    assert mistyped.is_json
    assert mistyped.get_json()["error"]["code"] == "receipt_mistyped"
    assert mistyped.get_json()["error"]["message"]
    missing = client.get(f"/api/v1/requests/{receipts.generate()}")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    unknown = client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"


def test_error_messages_follow_the_language(client) -> None:
    english = client.get("/api/v1/requests/AAAA", headers={"Accept-Language": "en"})
    assert "12 characters" in english.get_json()["error"]["message"]
    indonesian = client.get("/api/v1/requests/AAAA")
    assert "12 karakter" in indonesian.get_json()["error"]["message"]


def test_the_json_says_whom_to_ask_where_the_point_is_and_when_it_is_shut(
    client, make_request, session
) -> None:
    """What the status page shows besides the status: the office's contacts, the point's
    place on the map and its closures of the coming days. The control: before the closure
    the list is empty."""
    request = make_request(Status.READY, point="srg-dinas")
    point = request.pickup_point
    point.office.phone, point.office.whatsapp = "(0254) 200123", "0812 3456 7890"
    point.latitude, point.longitude = -6.1203, 106.1503
    session.commit()
    address = f"/api/v1/requests/{request.receipt}"
    body = client.get(address).get_json()
    assert body["office"]["contact"]["phone"] == "(0254) 200123"
    assert body["office"]["contact"]["whatsapp"] == "0812 3456 7890"
    assert (body["pickup"]["point"]["latitude"], body["pickup"]["point"]["longitude"]) == (
        -6.1203,
        106.1503,
    )
    assert body["pickup"]["point"]["closures"] == []

    today = utcnow().astimezone(ZoneInfo(point.office.timezone)).date()
    shut = today + dt.timedelta(days=3)
    closures.close(
        session, point, shut, "Rapat kerja", actor=Actor("supervisor"), now=utcnow(),
        config=DEFAULTS,
    )  # fmt: skip
    session.commit()
    body = client.get(address).get_json()
    assert body["pickup"]["point"]["closures"] == [
        {"day": shut.isoformat(), "reason": "Rapat kerja"}
    ]
