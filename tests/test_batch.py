"""Batches that do not block: a receipt scanned twice is dropped with a note."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import csrf_token
from tracker import receipts
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
    session.rollback()
