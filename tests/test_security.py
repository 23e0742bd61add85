from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.routing import Rule

from tests.factories import sign_in
from tracker import create_app, receipts
from tracker.status import Status

# What ``tracker.security`` promises on every answer, written out here so that a header
# dropped from the code is missed by this test rather than dropped from it too.
PROMISED = {
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
OVER_HTTPS = {"Strict-Transport-Security": "max-age=31536000"}
FORM_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
HTTPS = "https://localhost"


def header_problems(answer: Any, secure: bool = True) -> list[str]:
    """What is wrong with an answer's security headers; an empty list when nothing is."""
    headers = answer.headers
    promised = {**PROMISED, **(OVER_HTTPS if secure else {})}
    problems = [
        f"{name}: {headers.getlist(name)}"
        for name, value in promised.items()
        if headers.getlist(name) != [value]
    ]
    csp = headers.get("Content-Security-Policy", "")
    if "default-src 'none'" not in csp or "frame-ancestors 'none'" not in csp:
        problems.append(f"Content-Security-Policy: {csp!r}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append(f"Content-Security-Policy allows inline code: {csp!r}")
    if not headers.get("Cache-Control"):
        problems.append("Cache-Control is missing")
    return problems


def assert_security_headers(answer: Any, secure: bool = False) -> None:
    problems = header_problems(answer, secure)
    assert not problems, problems


def path_for(rule: Rule, samples: dict[str, str]) -> str:
    """The rule's address with sample values. A rule with an argument the test has no
    sample for fails here, so that a new page cannot go unchecked."""
    unknown = rule.arguments - samples.keys()
    assert not unknown, f"{rule.rule}: no sample value for {sorted(unknown)}; add one"
    built = rule.build({name: samples[name] for name in rule.arguments}, append_unknown=False)
    assert built is not None, rule.rule
    return built[1]


HEALTH_CHECKS = {"/readyz", "/healthz/jobs"}


def answers_of_every_rule(app: Any, client: Any, samples: dict[str, str]) -> Iterator[Any]:
    """``(what was asked, answer)`` for each rule of the URL map asked each way it answers
    (forms without their CSRF token, as a forged one comes), a GET of each rule that only
    takes forms (405), and a page that does not exist (404); all over HTTPS."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        path = path_for(rule, samples)
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        for method in methods:
            yield f"{method} {path}", client.open(path, method=method, base_url=HTTPS)
        if set(methods) <= FORM_METHODS:
            yield f"GET {path}", client.get(path, base_url=HTTPS)
    yield "GET /no-such-page", client.get("/no-such-page", base_url=HTTPS)


@pytest.fixture
def samples(make_request: Any, make_account: Any) -> dict[str, str]:
    """A value for every argument a rule of the URL map takes: real ones where they matter."""
    ready = make_request(Status.READY)
    return {
        "receipt": ready.receipt,
        "ref": ready.receipt,
        "code": ready.pickup_point.code,
        "office_code": "36.73",
        "status": "ready",
        "to": "collected",
        "message_id": "1",
        "closure_id": "1",
        "leave_id": "1",
        "subscription_id": "1",
        "service_code": "kk",
        "username": make_account("operator").username,
        "name": "no-such-key",
        "state": "off",
        "filename": "css/site.css",
    }


def test_every_answer_of_every_route_carries_the_security_headers(
    app, client, samples, make_account
) -> None:
    """Every rule of the URL map (staff, board, statistics, Atom, .ics, static, API, error
    pages), signed out and signed in as an admin, over HTTPS."""
    anonymous = app.test_client()
    assert sign_in(client, make_account("admin").username).status_code == 303
    seen: dict[int, int] = {}
    for who, each in (("signed out", anonymous), ("admin", client)):
        for asked, answer in answers_of_every_rule(app, each, samples):
            where = f"{asked} ({who}): {answer.status_code}"
            # A health check says "not ready" with a 503 (here: no scheduler has run yet).
            checking = asked.split()[-1] in HEALTH_CHECKS and answer.status_code == 503
            assert answer.status_code < 500 or checking, where
            assert not header_problems(answer), (where, header_problems(answer))
            seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
    assert {200, 302, 400, 404, 405} <= seen.keys(), seen
    assert client.get("/").headers["Cache-Control"] == "no-store"
    qr = client.get(f"/s/{samples['receipt']}/qr.svg")
    assert qr.headers["Cache-Control"].startswith("private")  # a view may say it is cacheable


def test_the_header_check_fails_on_a_missing_header_or_an_unsampled_rule(
    app, client, samples
) -> None:
    app.add_url_rule("/new/<novel>", "new_page", lambda novel: novel)
    with pytest.raises(AssertionError, match=r"no sample value for \['novel'\]"):
        list(answers_of_every_rule(app, client, samples))
    answer = client.get("/", base_url=HTTPS)
    assert header_problems(answer) == []
    assert header_problems(client.get("/")) == ["Strict-Transport-Security: []"]  # plain HTTP
    del answer.headers["X-Frame-Options"]
    assert header_problems(answer) == ["X-Frame-Options: []"]
    answer.headers["Content-Security-Policy"] = "default-src 'self'"
    assert len(header_problems(answer)) == 2


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
