from __future__ import annotations

import uuid

from tracker import create_app, receipts
from tracker.status import Status


def assert_security_headers(answer) -> None:
    headers = answer.headers
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def test_every_answer_carries_the_headers(client, make_request) -> None:
    request = make_request(Status.READY)
    paths = [
        "/",
        f"/cek?no={request.receipt}",
        f"/s/{request.receipt}",
        f"/s/{request.receipt}/receipt",
        f"/api/v1/requests/{request.receipt}",
        "/cek?no=AAAA",
        f"/s/{receipts.generate()}",
        "/api/v1/requests/AAAA",
        "/no-such-page",
    ]
    for path in paths:
        answer = client.get(path)
        assert_security_headers(answer)
        assert answer.headers["Cache-Control"] == "no-store", path
    qr = client.get(f"/s/{request.receipt}/qr.svg")
    assert_security_headers(qr)
    assert qr.headers["Cache-Control"].startswith("private")


def test_an_unexpected_error_is_a_friendly_page_not_a_trace(app, client) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    answer = client.get("/boom")
    assert answer.status_code == 500
    assert "secret detail" not in answer.get_data(as_text=True)
    assert "Terjadi gangguan" in answer.get_data(as_text=True)
    assert_security_headers(answer)


def limited_app(app_config, storage: str = "memory://"):
    return create_app(
        {
            **app_config,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage,
            "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "LOOKUP_RATE_LIMIT": "3 per minute",
        }
    )


def test_every_look_up_counts_even_a_malformed_one(app_config, make_request) -> None:
    request = make_request()
    client = limited_app(app_config).test_client()
    assert client.get("/cek?no=AAAA").status_code == 400
    assert client.get(f"/s/{receipts.generate()}").status_code == 404
    assert client.get(f"/api/v1/requests/{request.receipt}").status_code == 200
    page = client.get(f"/s/{request.receipt}")
    assert page.status_code == 429
    assert "Terlalu banyak pencarian" in page.get_data(as_text=True)
    assert page.headers["Retry-After"]
    assert_security_headers(page)
    api = client.get(f"/api/v1/requests/{request.receipt}")
    assert api.status_code == 429
    assert api.get_json()["error"]["code"] == "rate_limited"
    assert client.get("/").status_code == 200  # the form itself is not a look-up
