"""The lobby board's JSON and pages: what a point shows, its ETag and 304, the per-worker
cache, calls to a counter, today's hours, the list of points, and clear refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from tests.factories import csrf_token
from tracker.audit.trail import Actor
from tracker.config import DEFAULTS
from tracker.db import get_engine
from tracker.models import Closure, CollectorKind, PickupPoint, Request, utcnow
from tracker.places import pickup
from tracker.places.workdays import is_holiday
from tracker.requests import operations
from tracker.requests.operations import Collector
from tracker.status import Status
from tracker.web.cache import worker_cache

POINT = "srg-dinas"
BOARD = f"/api/v1/points/{POINT}/board"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "BOARD_CACHE_SECONDS": 0}


def ready_at(make_request: Any, name: str, point: str = POINT, **kw: Any) -> Request:
    return make_request(Status.READY, name=name, point=point, **kw)


def test_a_board_lists_what_is_ready_at_its_point_newest_first(client, make_request) -> None:
    first = ready_at(make_request, "Budi Santoso", nik="3673011203850001")
    second = ready_at(make_request, "Siti Rahmawati Putri", service="kk")
    ready_at(make_request, "Dewi Lestari", point="srg-cipocok")  # another point
    make_request(Status.PROCESSING, name="Agus Salim")  # not ready yet
    answer = client.get(BOARD)
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    data = answer.get_json()
    assert data["point"]["code"] == POINT and data["point"]["zone"] == "WIB"
    assert [d["number"] for d in data["documents"]] == [second.pickup_number, first.pickup_number]
    top = data["documents"][0]
    assert top["name"] == "S*** R******** P****"
    assert top["service"]["code"] == "kk" and top["service"]["id"]
    assert top["counter"] == data["point"]["counters"][0]  # the point's first counter
    assert top["called_at"] is None
    assert dt.datetime.fromisoformat(top["ready_since"]) == second.updated_at.replace(microsecond=0)
    assert dt.datetime.fromisoformat(top["until"]) == second.window_ends.replace(microsecond=0)
    body = answer.get_data(as_text=True)
    for secret in (first.receipt, first.nik, first.phone, "Budi Santoso", "Siti Rahmawati"):
        assert secret not in body


def test_the_etag_answers_304_until_the_board_changes(client, make_request, session) -> None:
    request = make_request(Status.PROCESSING, name="Rina Marlina")
    first = client.get(BOARD)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get(BOARD, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag

    make_request.move(request, Status.READY, point=POINT)
    session.commit()
    changed = client.get(BOARD, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert request.pickup_number in [d["number"] for d in changed.get_json()["documents"]]

    operations.move(
        session, request, Status.COLLECTED, actor=Actor("test"), now=utcnow(), config=DEFAULTS,
        collector=Collector(CollectorKind.SELF, id_checked=True),
    )  # fmt: skip
    session.commit()
    gone = client.get(BOARD, headers={"If-None-Match": changed.headers["ETag"]})
    assert gone.status_code == 200
    assert request.pickup_number not in [d["number"] for d in gone.get_json()["documents"]]


def test_a_poll_with_the_etag_a_compressing_proxy_made_weak_is_answered_304(client) -> None:
    """nginx's gzip, HAProxy's compression and CDNs turn a strong ETag into W/"…" as they
    compress; the board's poll sends that back. Control: another tag, weak or not, is 200."""
    etag = client.get(BOARD).headers["ETag"]
    assert not etag.startswith("W/")
    assert client.get(BOARD, headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    for other in ('W/"0000"', '"0000"'):
        assert client.get(BOARD, headers={"If-None-Match": other}).status_code == 200


def test_a_worker_builds_a_board_once_per_cache_period(app, client, make_request) -> None:
    app.config["BOARD_CACHE_SECONDS"] = 3600
    first = client.get(BOARD)
    ready_at(make_request, "Yusuf Hidayat")
    cached = client.get(BOARD, headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304  # the change waits for the next build
    with app.app_context():
        worker_cache("boards").clear()  # as when the period is over
    assert client.get(BOARD, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


@pytest.mark.parametrize("seconds", [3600, 0], ids=["kept", "control"])
def test_the_list_of_boards_counts_what_waits_once_per_cache_period(
    app, client, make_request, seconds: int
) -> None:
    """The public list of boards counts every waiting document: a worker makes that count at
    most once a ``BOARD_CACHE_SECONDS``, however often the list is asked for (the control,
    without a period, counts at every ask)."""
    app.config["BOARD_CACHE_SECONDS"] = seconds
    ready_at(make_request, "Yusuf Hidayat")
    counted: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "count(" in statement.lower() and "GROUP BY" in statement:
            counted.append(statement)

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        pages = [client.get("/board").get_data(as_text=True) for _ in range(3)]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(counted) == (1 if seconds else 3)
    assert pages[0] == pages[2]


def test_the_same_data_gives_the_same_etag_in_every_worker(app, client, make_request) -> None:
    ready_at(make_request, "Budi Santoso")
    first = client.get(BOARD).headers["ETag"]
    with app.app_context():
        worker_cache("boards").clear()  # as a second worker would start
    assert client.get(BOARD).headers["ETag"] == first


def call(client: Any, request: Request, counter: str, version: int | None = None) -> Any:
    data = {
        "counter": counter,
        "version": str(request.version if version is None else version),
        "csrf_token": csrf_token(client, f"/staff/handover?no={request.receipt}"),
    }
    return client.post(f"/staff/call/{request.receipt}", data=data)


def test_calling_to_a_counter_shows_on_the_board(client, operator, make_request, session):
    request = ready_at(make_request, "Budi Santoso")
    counters = make_request.point(POINT).counters
    answer = call(client, request, counters[1])
    assert answer.status_code == 303
    document = client.get(BOARD).get_json()["documents"][0]
    assert document["counter"] == counters[1] and document["called_at"]
    session.refresh(request)
    assert request.counter == counters[1] and request.status == Status.READY
    page = client.get(f"/staff/handover?no={request.receipt}").get_data(as_text=True)
    assert f'action="/staff/call/{request.receipt}"' in page and counters[1] in page


def test_a_call_is_refused_clearly_and_changes_nothing(client, operator, make_request, session):
    request = ready_at(make_request, "Budi Santoso")
    version = request.version
    wrong = call(client, request, "Loket 99")
    assert wrong.status_code == 400 and "Loket 99" not in wrong.get_data(as_text=True)[-400:]
    assert "loket" in wrong.get_data(as_text=True).lower()
    stale = call(client, request, make_request.point(POINT).counters[0], version=version - 1)
    assert stale.status_code == 409
    processing = make_request(Status.PROCESSING)
    assert call(client, processing, "Loket 1").status_code == 400
    session.refresh(request)
    assert request.counter is None and request.called_at is None and request.version == version


def test_today_shows_the_hours_and_a_closure_closes_the_day(client, make_request, session):
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == POINT)).one()
    today = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()
    expected = [
        {"opens": h.opens.strftime("%H:%M"), "closes": h.closes.strftime("%H:%M")}
        for h in point.hours
        if h.weekday == today.weekday()
    ]
    data = client.get(BOARD).get_json()
    assert data["today"]["date"] == today.isoformat()
    if not is_holiday(today):
        assert data["today"]["open"] == expected
    point.closures.append(Closure(day=today, reason="Rapat"))
    session.commit()
    assert client.get(BOARD).get_json()["today"]["open"] == []


def test_the_list_of_points_and_the_board_pages(client, make_request, session) -> None:
    office = make_request.office("36.73")
    now = utcnow()
    past = pickup.schedule_visit(
        session, office, name="Desa Lama", address="Balai desa",
        starts=now - dt.timedelta(days=3), ends=now - dt.timedelta(days=2),
    )  # fmt: skip
    coming = pickup.schedule_visit(
        session, office, name="Desa Baru", address="Balai desa",
        starts=now + dt.timedelta(days=1), ends=now + dt.timedelta(days=1, hours=4),
    )  # fmt: skip
    session.commit()
    points = client.get("/api/v1/points").get_json()["points"]
    codes = [p["code"] for p in points]
    assert POINT in codes and coming.code in codes and past.code not in codes
    listed = next(p for p in points if p["code"] == POINT)
    assert listed["board_url"] == f"/board/{POINT}"
    assert listed["board_api_url"] == BOARD
    assert listed["opening_hours"] and listed["office"]["code"] == "36.73"
    assert next(p for p in points if p["code"] == coming.code)["visit"]["starts"]

    index = client.get("/board").get_data(as_text=True)
    assert f'href="/board/{POINT}"' in index and "Desa Lama" not in index
    screen = client.get(f"/board/{POINT}", headers={"Accept-Language": "en"})
    html = screen.get_data(as_text=True)
    assert screen.status_code == 200 and '<html lang="id">' in html  # a TV speaks Indonesian
    assert f'data-api="{BOARD}"' in html
    english = client.get(f"/board/{POINT}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    both = client.get(f"/board?points={POINT},srg-cipocok").get_data(as_text=True)
    assert both.count('class="point"') == 2 and "points-2" in both
    repeated = client.get(f"/board?points={POINT}&points=srg-cipocok").get_data(as_text=True)
    assert repeated.count('class="point"') == 2


def test_unknown_points_are_told_in_indonesian(client) -> None:
    answer = client.get("/api/v1/points/tidak-ada/board")
    assert answer.status_code == 404
    error = answer.get_json()["error"]
    assert error["code"] == "point_not_found" and "tidak-ada" in error["message"]
    assert "titik" in error["message"].lower()
    page = client.get("/board/tidak-ada")
    assert page.status_code == 404 and "tidak-ada" in page.get_data(as_text=True)
    assert client.get(f"/board?points={POINT},x1,x2,x3,x4").status_code == 400
    assert client.get("/board?points=" + "a" * 5000).status_code == 400  # refused: too long
