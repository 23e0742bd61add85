"""Batches that do not block: a receipt scanned twice is dropped with a note."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import csrf_token
from tracker import receipts
from tracker.counter import batch
from tracker.status import Status


def send(client: Any, lines: list[str], to: str) -> Any:
    data = {"csrf_token": csrf_token(client, "/staff/batch"), "to": to,
            "receipts": "\n".join(lines)}  # fmt: skip
    return client.post("/staff/batch", data=data)


def test_a_receipt_scanned_twice_is_dropped_and_the_batch_moves(
    client, operator, make_request, session
) -> None:
    first, second = make_request(Status.VERIFYING), make_request(Status.VERIFYING)
    answer = send(client, [first.receipt, second.receipt, first.receipt.lower()], "processing")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "2 permohonan" in page and "1 pindaian berulang diabaikan." in page
    session.expire_all()
    assert {first.status, second.status} == {Status.PROCESSING}
    session.rollback()


def test_a_line_that_cannot_move_still_stops_the_batch(
    client, operator, make_request, session
) -> None:
    """Control: dropping repeats does not let a wrong line through."""
    fine, done = make_request(Status.VERIFYING), make_request(Status.COLLECTED)
    answer = send(client, [fine.receipt, fine.receipt, done.receipt], "processing")
    assert answer.status_code == 409
    session.expire_all()
    assert fine.status == Status.VERIFYING
    session.rollback()


def test_a_batch_made_ready_prints_each_receipt_with_its_pickup_number(
    client, operator, make_request, session
) -> None:
    pile = [make_request(Status.PROCESSING) for _ in range(3)]
    point = make_request.point("srg-cipocok")
    data = {"csrf_token": csrf_token(client, "/staff/batch"), "to": "ready",
            "point": str(point.id), "receipts": "\n".join(r.receipt for r in pile)}  # fmt: skip
    answer = client.post("/staff/batch", data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "data-print" in page
    session.expire_all()
    rows = re.findall(
        r'<td class="pickup-number">([^<]+)</td>\s*<td class="mono">([^<]+)</td>', page
    )
    assert rows == [(r.pickup_number, receipts.format_grouped(r.receipt)) for r in pile]
    labels = re.findall(r'<td class="label-text">([^<]+)</td>', page)
    assert [label.split(" · ")[:2] for label in labels] == [
        [r.pickup_number, point.name] for r in pile
    ]
    assert all("ambil paling lambat" in label for label in labels)
    session.rollback()


def ready_batch(client: Any, pile: list[Any], point: Any, **extra: Any) -> Any:
    data = {"csrf_token": csrf_token(client, "/staff/batch"), "to": "ready",
            "point": str(point.id), "receipts": "\n".join(r.receipt for r in pile)}  # fmt: skip
    return client.post("/staff/batch", data={**data, **extra})


def choosing(make_request: Any, session: Any, chosen: Any) -> Any:
    """A document being processed whose citizen chose ``chosen`` at intake."""
    request = make_request(Status.PROCESSING)
    request.preferred_point_id = chosen.id
    session.commit()
    return request


def test_a_document_whose_citizen_chose_another_point_waits_for_a_choice(
    client, operator, make_request, session
) -> None:
    batch_point, own = make_request.point("srg-cipocok"), make_request.point("srg-kasemen")
    plain, same = make_request(Status.PROCESSING), choosing(make_request, session, batch_point)
    other = choosing(make_request, session, own)
    answer = ready_batch(client, [plain, same, other], batch_point)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 409
    # Only the document whose citizen chose elsewhere is asked about, with both points named.
    assert page.count('<select name="choice"') == 1
    assert f'value="{other.receipt}:own"' in page and f'value="{other.receipt}:batch"' in page
    assert own.name in page and batch_point.name in page
    session.expire_all()
    assert {plain.status, same.status, other.status} == {Status.PROCESSING}
    session.rollback()
    # Control: without that document the batch moves at once.
    assert ready_batch(client, [plain, same], batch_point).status_code == 200


def test_each_document_waits_where_the_choice_says(client, operator, make_request, session) -> None:
    batch_point, own = make_request.point("srg-cipocok"), make_request.point("srg-kasemen")
    kept, sent = choosing(make_request, session, own), choosing(make_request, session, own)
    plain = make_request(Status.PROCESSING)
    choices = [f"{kept.receipt}:own", f"{sent.receipt}:batch"]
    answer = ready_batch(client, [kept, sent, plain], batch_point, choice=choices)
    assert answer.status_code == 200
    session.expire_all()
    assert kept.pickup_point_id == own.id and kept.pickup_number.startswith(own.number_prefix)
    assert sent.pickup_point_id == plain.pickup_point_id == batch_point.id
    page = answer.get_data(as_text=True)
    assert f'<td class="pickup-number">{kept.pickup_number}</td>' in page
    session.rollback()


def test_one_button_sends_every_asked_document_to_one_side(
    client, operator, make_request, session
) -> None:
    batch_point, own = make_request.point("srg-cipocok"), make_request.point("srg-kasemen")
    first, second = choosing(make_request, session, own), choosing(make_request, session, own)
    answer = ready_batch(client, [first, second], batch_point, everyone="own")
    assert answer.status_code == 200
    session.expire_all()
    assert first.pickup_point_id == second.pickup_point_id == own.id
    session.rollback()


def test_a_forged_choice_is_refused_and_nothing_moves(
    client, operator, make_request, session
) -> None:
    batch_point, own = make_request.point("srg-cipocok"), make_request.point("srg-kasemen")
    asked = choosing(make_request, session, own)
    answer = ready_batch(client, [asked], batch_point, choice=[f"{asked.receipt}:somewhere"])
    assert answer.status_code == 400
    assert "Lokasi pengambilan tiap dokumen" in answer.get_data(as_text=True)
    session.expire_all()
    assert asked.status == Status.PROCESSING
    session.rollback()


def test_the_live_check_warns_of_another_chosen_point(
    client, operator, make_request, session
) -> None:
    batch_point, own = make_request.point("srg-cipocok"), make_request.point("srg-kasemen")
    asked, plain = choosing(make_request, session, own), make_request(Status.PROCESSING)
    base = f"/staff/batch/check?to=ready&point={batch_point.id}&no="
    warned = client.get(base + asked.receipt).get_json()
    assert warned["state"] == "elsewhere" and own.name in warned["message"]
    assert client.get(base + plain.receipt).get_json()["state"] == "ok"


def test_a_list_pasted_with_commas_tabs_or_spaces_moves_every_number_in_it(
    client, operator, make_request, session
) -> None:
    """A chat's "A, B", a spreadsheet row's tabs, a letter's "A; B" and numbers side by side
    are each number on its own; one number typed in groups stays one."""
    pile = [make_request(Status.VERIFYING) for _ in range(6)]
    grouped = [receipts.format_grouped(r.receipt) for r in pile]
    lines = [
        f"{grouped[0]}, {grouped[1]}",
        f"{pile[2].receipt}\t{pile[3].receipt}",
        f"{grouped[4]};{pile[5].receipt.lower()} ",
        grouped[0].replace("-", " "),  # one number in groups, a repeat of the first
    ]
    answer = send(client, lines, "processing")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    page = answer.get_data(as_text=True)
    assert "6 permohonan" in page and "1 pindaian berulang diabaikan." in page
    session.expire_all()
    assert {r.status for r in pile} == {Status.PROCESSING}
    session.rollback()


def test_a_pasted_line_with_one_mistyped_number_stays_whole_and_stops_the_batch(
    client, operator, make_request, session
) -> None:
    """Control: a line is split only when every part of it is a number."""
    fine, other = make_request(Status.VERIFYING), make_request(Status.VERIFYING)
    wrong = other.receipt[:-1] + ("0" if other.receipt[-1] != "0" else "1")
    line = f"{fine.receipt}, {wrong}"
    assert batch.lines_of(f"{line}\n\n  {other.receipt}  \n") == [line, other.receipt]
    answer = send(client, [line, other.receipt], "processing")
    assert answer.status_code == 409
    session.expire_all()
    assert {fine.status, other.status} == {Status.VERIFYING}
    session.rollback()


def test_the_lines_of_a_pile() -> None:
    one, two = receipts.generate(), receipts.generate()
    g1, g2 = receipts.format_grouped(one), receipts.format_grouped(two)
    assert batch.lines_of(f"{g1}\r\n{two}") == [g1, two]
    assert batch.lines_of(f"{g1} {g2}") == [g1, g2]
    assert batch.lines_of(f"{g1.replace('-', ' ')}") == [g1.replace("-", " ")]
    assert batch.lines_of(f"{g1.replace('-', ' ')}, {g2.replace('-', ' ')}") == [
        g1.replace("-", " "),
        g2.replace("-", " "),
    ]
    both = f"https://cek.example.go.id/s/{one} https://cek.example.go.id/s/{two}"
    assert batch.lines_of(both) == both.split()  # two scanned addresses, not the first alone
    assert batch.lines_of("lihat daftar, ya") == ["lihat daftar, ya"]
    assert batch.lines_of(" \n\t\n") == []
