"""Cross-origin reads (tracker/web/cors.py): an office's website may read the public API from
the citizen's browser, and nothing else answers another origin. The last test does it in a
real Chromium, from a page on another origin."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tracker import create_app
from tracker.status import Status

ORIGIN = "https://disdukcapil.serangkota.example.go.id"
# The routes another origin may read: the public reads, and only they.
PUBLIC_READS = {
    "api.request_status",
    "api.points",
    "api.board",
    "api.announcements",
    "api.openapi",
    "open311.discovery_json",
    "open311.discovery_xml",
    "open311.services_json",
    "open311.services_xml",
    "open311.requests_json",
    "open311.requests_xml",
    "open311.request_json",
    "open311.request_xml",
}


def allowed(answer: Any) -> str | None:
    return answer.headers.get("Access-Control-Allow-Origin")


def test_a_public_read_answers_any_origin_without_credentials(client, make_request) -> None:
    request = make_request(Status.READY, point="srg-cipocok")
    answer = client.get(f"/api/v1/requests/{request.receipt}", headers={"Origin": ORIGIN})
    assert answer.status_code == 200 and allowed(answer) == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    exposed = answer.headers["Access-Control-Expose-Headers"]
    assert {"ETag", "X-Request-ID"} <= {h.strip() for h in exposed.split(",")}
    # A mistyped number's refusal is read too: the page can say what is wrong.
    wrong = client.get("/api/v1/requests/7KQ2-M9XA-4RTM", headers={"Origin": ORIGIN})
    assert wrong.status_code == 400 and allowed(wrong) == "*"


def test_a_board_elsewhere_may_poll_with_its_etag(client) -> None:
    """The preflight of a poll that sends If-None-Match is answered, and kept an hour."""
    preflight = client.options(
        "/api/v1/points/srg-cipocok/board",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert preflight.status_code == 200 and allowed(preflight) == "*"
    assert "if-none-match" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    assert preflight.headers["Access-Control-Max-Age"] == "3600"


def test_no_key_and_no_write_may_come_from_another_origin(client) -> None:
    """A preflight for a key (Authorization) or a write names nothing: the browser stops
    there. Control: the same preflight for a poll's header is allowed (above)."""
    for path, method, header in (
        ("/api/v1/requests/7KQ2M9XA4RTN", "GET", "authorization"),
        ("/api/v1/requests", "POST", "content-type,authorization"),
        ("/api/v1/requests/7KQ2M9XA4RTN/transitions", "POST", "content-type,authorization"),
        ("/staff/login", "POST", "content-type"),
    ):
        preflight = client.options(
            path,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": header,
            },
        )
        allows = preflight.headers.get("Access-Control-Allow-Headers", "").lower()
        methods = preflight.headers.get("Access-Control-Allow-Methods", "")
        assert "authorization" not in allows and "POST" not in methods, path


def test_only_the_public_reads_answer_another_origin(app, client) -> None:
    """Every route of the app, asked from another origin: the public reads name it, and
    nothing else does (the console, the writes, a bridge's changes, the providers'
    webhooks, the pages, the watch)."""
    named = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", "X", rule.rule)
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            answer = client.open(path, method=method, headers={"Origin": ORIGIN})
            if allowed(answer):
                named.add(rule.endpoint)
                assert method in ("GET", "HEAD"), (rule.rule, method)
    assert named == PUBLIC_READS


def test_the_origins_are_a_setting(app_config) -> None:
    """With origins named, only they are answered (by name; Vary: Origin, for a shared cache
    that keeps the answer, to another origin too); with none, no origin is. Control: the
    named one is."""
    path = "/api/v1/points"
    named = create_app({**app_config, "PUBLIC_API_ORIGINS": [ORIGIN]})
    closed = create_app({**app_config, "PUBLIC_API_ORIGINS": []})
    try:
        mine = named.test_client().get(path, headers={"Origin": ORIGIN})
        assert allowed(mine) == ORIGIN and "Origin" in mine.headers.get("Vary", "")
        other = named.test_client().get(path, headers={"Origin": "https://elsewhere.example"})
        assert allowed(other) is None and "Origin" in other.headers.get("Vary", "")
        assert allowed(closed.test_client().get(path, headers={"Origin": ORIGIN})) is None
    finally:
        for made in (named, closed):
            made.extensions["siapambil.db"]["engine"].dispose()


@pytest.mark.browser
def test_a_page_on_another_site_reads_the_status_and_polls_a_board(
    page, live_server, httpserver, make_request
) -> None:
    """In Chromium, from a page of another origin (an office's site): the status answers, the
    board's ETag is readable and a poll with it gets its 304. Controls, from the same page: a
    bridge's list of changes, and a look-up sent with a key, are blocked by the browser."""
    request = make_request(Status.READY, point="srg-cipocok")
    httpserver.expect_request("/").respond_with_data(
        "<!doctype html><title>Situs Disdukcapil</title>", content_type="text/html"
    )
    page.goto(httpserver.url_for("/"))
    assert page.evaluate("location.origin") != live_server  # another origin indeed
    read = """async ([url, headers]) => {
        try {
            const answer = await fetch(url, {headers: headers || {}});
            return [answer.status, answer.headers.get("ETag"), await answer.text()];
        } catch (error) { return ["blocked", null, String(error)]; }
    }"""
    status, _etag, body = page.evaluate(read, [f"{live_server}/api/v1/requests/{request.receipt}"])
    assert status == 200 and '"status":"ready"' in body.replace(" ", "")
    board = f"{live_server}/api/v1/points/srg-cipocok/board"
    status, etag, _body = page.evaluate(read, [board])
    assert status == 200 and etag
    status, _etag, _body = page.evaluate(read, [board, {"If-None-Match": etag}])
    assert status == 304
    assert page.evaluate(read, [f"{live_server}/api/v1/requests"])[0] == "blocked"
    keyed = [f"{live_server}/api/v1/requests/{request.receipt}", {"Authorization": "Bearer x"}]
    assert page.evaluate(read, keyed)[0] == "blocked"
