"""The handover counter finds the document by what the collector brings (the receipt or its
QR's address, the pickup number, the NIK, the name), within the account's offices, and says
at once everything missing before a document can be marked collected."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.factories import csrf_token, sign_in
from tracker import receipts
from tracker.audit.search import keyed
from tracker.counter import queries as finding
from tracker.models import AuditEntry, CollectorKind
from tracker.requests.operations import Collector, collector_problems
from tracker.status import Status

EN = {"Accept-Language": "en"}
NIK_ELSEWHERE = "3602014507880002"


def counter(client: Any, typed: str, **args: Any) -> tuple[int, str]:
    answer = client.get("/staff/handover", query_string={"no": typed, **args}, headers=EN)
    return answer.status_code, answer.get_data(as_text=True)


def opened(page: str, request: Any) -> bool:
    """The page is the handover of ``request``: its facts and its "Mark collected" form."""
    return f"/staff/handover/{request.receipt}" in page and "Mark collected" in page


def searches(session: Any) -> list[AuditEntry]:
    session.expire_all()
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "search")))
    session.commit()
    return rows


def test_reading_what_was_typed() -> None:
    assert finding.read("m017") == finding.Typed(finding.PICKUP, "M-017")
    assert finding.read(" M - 17 ") == finding.Typed(finding.PICKUP, "M-017")
    assert finding.read("3673 0112 0385 0001") == finding.Typed(finding.NIK, "3673011203850001")
    assert finding.read("  Siti   RAHMA ") == finding.Typed(finding.NAME, "siti rahma")
    # A mistyped receipt number stays a receipt number, so that its error says why.
    assert finding.read("7KQ2-M9XA-4RTX").kind == finding.RECEIPT
    assert finding.read("https://cek.example.go.id/s/XXXX").kind == finding.RECEIPT


def test_a_scanned_status_address_opens_the_document(client, operator, make_request) -> None:
    ready = make_request(Status.READY)
    grouped = receipts.format_grouped(ready.receipt).lower()
    status, page = counter(client, f"https://cek.example.go.id/s/{grouped}")
    assert status == 200 and opened(page, ready)
    status, page = counter(client, f"HTTPS://CEK.EXAMPLE.GO.ID/s/{ready.receipt}?utm=qr")
    assert status == 200 and opened(page, ready)


def test_a_pickup_number_opens_the_waiting_document(client, operator, make_request) -> None:
    ready = make_request(Status.READY)
    number = ready.pickup_number  # e.g. A-001
    for typed in (number, number.lower(), number.replace("-", "").lower()):
        status, page = counter(client, typed)
        assert status == 200 and opened(page, ready), typed
        assert receipts.format_grouped(ready.receipt) in page


def test_an_nik_opens_the_document_and_is_audited_as_a_hash(
    app, client, operator, make_request, session
) -> None:
    ready = make_request(Status.READY, nik="3673015212900003")
    make_request(Status.READY, nik="3673011203850001")
    status, page = counter(client, "3673 0152 1290 0003")
    assert status == 200 and opened(page, ready)
    (row,) = searches(session)
    key = app.config["AUDIT_HMAC_KEY"]
    assert row.details == {
        "kind": "nik",
        "nik_hmac": keyed("nik", "3673015212900003", key),
        "found": 1,
    }
    assert "3673015212900003" not in str(row.details) + row.target


def test_a_name_lists_every_candidate(app, client, operator, make_request, session) -> None:
    first = make_request(Status.READY, name="Siti Rahmawati")
    second = make_request(Status.RETURNED, name="SITI RAHMAWATI PUTRI", service="kk")
    other = make_request(Status.READY, name="Budi Santoso")
    status, page = counter(client, "  siti   RAHMAWATI ")
    assert status == 200 and "Mark collected" not in page
    assert "2 documents match" in page
    for found in (first, second):
        assert f'href="/staff/handover?no={found.receipt}"' in page
        assert receipts.format_grouped(found.receipt) in page
        assert found.pickup_number in page and found.pickup_point.name in page
    assert "SITI RAHMAWATI PUTRI" in page and "Held at the main office" in page
    assert receipts.format_grouped(other.receipt) not in page
    (row,) = searches(session)
    key = app.config["AUDIT_HMAC_KEY"]
    assert row.details["name_hmac"] == keyed("name", "siti rahmawati", key)
    assert row.details["found"] == 2 and "siti" not in str(row.details).lower()
    # Spaces do not count either: the name typed as one word finds the same two.
    status, page = counter(client, "sitirahmawati")
    assert "2 documents match" in page
    # What waits comes first, before what was collected already.
    collected = make_request(Status.COLLECTED, name="Siti Rahmawati")
    page = counter(client, "Siti Rahmawati")[1]
    assert "3 documents match" in page
    assert page.index(second.receipt) < page.index(first.receipt) < page.index(collected.receipt)


def test_another_offices_document_is_not_found(client, make_account, make_request, session) -> None:
    away = make_request(Status.READY, office="36.02", nik=NIK_ELSEWHERE, name="Rangkas Wibowo")
    operator = make_account("operator")  # of 36.73
    assert sign_in(client, operator.username).status_code == 303
    grouped = receipts.format_grouped(away.receipt)
    status, page = counter(client, NIK_ELSEWHERE)
    assert status == 200 and grouped not in page
    assert f"No request in the offices you see has the NIK {NIK_ELSEWHERE}." in page
    status, page = counter(client, "rangkas wibowo")
    assert grouped not in page and "has a name containing “rangkas wibowo”" in page
    status, page = counter(client, away.pickup_number)
    assert grouped not in page
    assert f"has the pickup number {away.pickup_number}." in page
    assert [row.details["found"] for row in searches(session)] == [0, 0]
    # Control: the document's own office finds it by each of them.
    client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
    lebak = make_account("operator", office="36.02")
    assert sign_in(client, lebak.username).status_code == 303
    for typed in (NIK_ELSEWHERE, "Rangkas Wibowo", away.pickup_number):
        assert opened(counter(client, typed)[1], away), typed


def test_nothing_found_is_said_in_indonesian(client, operator) -> None:
    page = client.get("/staff/handover", query_string={"no": "Z-404"}).get_data(as_text=True)
    assert "nomor pengambilan Z-404" in page


def test_every_missing_check_is_shown_at_once(client, operator, make_request, session) -> None:
    ready = make_request(Status.READY)
    ready.representative_allowed = False
    session.commit()
    path = f"/staff/handover?no={ready.receipt}"
    data = {"version": ready.version, "collector": "representative", "relation": "Suami"}
    answer = client.post(
        f"/staff/handover/{ready.receipt}",
        data={**data, "csrf_token": csrf_token(client, path)},
        headers=EN,
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "4 things to do" in page
    for said in (
        "Check the collector&#39;s identity card first.",
        "The applicant did not allow a representative to collect this document.",
        "Write the representative&#39;s name and relation to the applicant.",
        "Check the power of attorney (surat kuasa) first.",
    ):
        assert page.count(said) == 1, said
    assert page.count('class="field-error"') == 4
    session.expire_all()
    assert ready.status == Status.READY


def test_collector_problems_lists_them_all(make_request) -> None:
    ready = make_request(Status.READY)
    nobody = Collector(CollectorKind.REPRESENTATIVE, id_checked=False)
    assert collector_problems(ready, nobody) == ["id_checked", "representative", "attorney"]
    checked = Collector(CollectorKind.SELF, id_checked=True)
    assert collector_problems(ready, checked) == []
    assert collector_problems(ready, None) == ["handover"]


def test_an_admin_finds_in_every_office_or_the_chosen_one(
    client, make_account, make_request
) -> None:
    here = make_request(Status.READY, nik=NIK_ELSEWHERE)
    away = make_request(Status.READY, office="36.02", nik=NIK_ELSEWHERE)
    admin = make_account("admin")
    assert sign_in(client, admin.username).status_code == 303
    status, page = counter(client, NIK_ELSEWHERE)
    assert "2 documents match" in page
    status, page = counter(client, NIK_ELSEWHERE, office=away.office_id)
    assert opened(page, away) and receipts.format_grouped(here.receipt) not in page
    # The search form keeps the chosen office for the next search (control: absent without).
    assert f'<input type="hidden" name="office" value="{away.office_id}">' in page
    assert 'name="office"' not in counter(client, NIK_ELSEWHERE)[1]
