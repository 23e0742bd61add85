"""The API's contract (``tracker/api/openapi.yaml``): a valid OpenAPI 3.1 document that
describes every ``/api/v1`` route and no other, and that the API's real answers fit: found,
not found, mistyped, 304, refused and rate-limited alike."""

from __future__ import annotations

import re
from typing import Any

import yaml
from flask import Flask, template_rendered
from openapi_spec_validator import validate
from sqlalchemy import select

from tests.test_api_keys import bearer, make_key
from tracker import create_app, receipts
from tracker.announcements import operations as announce
from tracker.api import contract
from tracker.models import Office, utcnow
from tracker.status import Status

PREFIXES = ("/api/v1", "/open311")
CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def documented(app: Flask) -> set[tuple[str, str]]:
    """(path, method) of every route of the app under the API's prefixes, as the spec writes
    paths."""
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIXES):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                found.add((CONVERTER.sub(r"{\1}", rule.rule), method.lower()))
    return found


def in_spec() -> set[tuple[str, str]]:
    methods = {"get", "post", "put", "patch", "delete"}
    return {
        (path, method)
        for path, item in contract.spec()["paths"].items()
        for method in item
        if method in methods
    }


def fits(answer: Any, path: str, method: str = "get") -> None:
    """The answer's status is one the spec gives for the operation, and its body (if any)
    fits that answer's schema."""
    operation = contract.spec()["paths"][path][method]
    status = str(answer.status_code)
    assert status in operation["responses"], (path, status, answer.get_data(as_text=True))
    response = contract.resolve(operation["responses"][status])
    for header in response.get("headers", {}):
        assert header in answer.headers, (path, status, header)
    content = response.get("content")
    if content is None:
        assert answer.get_data() == b"", (path, status)
        return
    assert answer.mimetype in content, (path, status, answer.mimetype)
    schema = content[answer.mimetype]["schema"]
    body = answer.get_json() if answer.is_json else answer.get_data(as_text=True)
    assert contract.problems(schema, body) == [], (path, status)


def test_the_contract_is_valid_openapi_3_1() -> None:
    spec = contract.spec()
    assert spec["openapi"] == "3.1.0"
    validate(spec)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for schema in spec["components"]["schemas"].values():  # every schema is a valid schema
        contract.validator(schema).check_schema(contract.anchored(schema))


def split_keys(node: Any, where: str = "") -> list[str]:
    """Keys YAML made of a text that held a comma: in a flow mapping (``{type: string,
    description: A, B.}``) an unquoted ``, B.`` becomes a key of its own, with no value."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            inside = f"{where}/{key}"
            schema = "type" in node or "description" in node  # a schema, a parameter
            odd = not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_$][\w$-]*", key)
            if value is None and (schema or odd) and not where.endswith(("/example", "/examples")):
                found.append(inside)
            found += split_keys(value, inside)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += split_keys(item, f"{where}[{index}]")
    return found


def test_no_description_of_the_contract_was_cut_at_a_comma() -> None:
    """OpenAPI validates a schema with an unknown key as well, so only this finds them."""
    assert split_keys(contract.spec()) == []
    # Control: the mistake as it was written.
    cut = yaml.safe_load("nik: {type: string, description: 16 digits (spaces, dots, dashes).}")
    assert split_keys(cut) == ["/nik/dots", "/nik/dashes)."]
    assert cut["nik"]["description"] == "16 digits (spaces"


def test_every_api_route_is_in_the_contract_and_every_path_is_a_route(app) -> None:
    assert documented(app) == in_spec()
    assert len(in_spec()) >= 7
    # Control: a route added without a word in the contract is told.
    extra = create_app(app.config)
    extra.add_url_rule("/api/v1/undocumented/<int:n>", "x", lambda n: "", methods=["POST"])
    assert documented(extra) - in_spec() == {("/api/v1/undocumented/{n}", "post")}
    extra.extensions["siapambil.db"]["engine"].dispose()


def test_the_contract_is_served_as_json_and_as_a_page(client) -> None:
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == contract.spec()
    fits(served, "/api/v1/openapi.json")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for operation in contract.operations():
        assert f'id="{operation["operationId"]}"' in text
        assert f"{operation['method']} {operation['path']}" in text
    for name in contract.spec()["components"]["schemas"]:
        assert f'id="schema-{name}"' in text
    assert "<script" not in text and "http://" not in text and "https://" not in text
    fits(page, "/api/v1/docs")


def test_the_contract_page_is_drawn_once_per_language_in_a_worker(client, app) -> None:
    """Anyone may ask for the page, and drawing it costs about ten look-ups: a worker keeps it.
    Controls: another language is drawn, and so is an address with other arguments (its
    language link keeps them)."""
    drawn: list[str] = []

    def count(_sender: Any, template: Any, **_extra: Any) -> None:
        drawn.append(template.name)

    with template_rendered.connected_to(count, app):
        first = client.get("/api/v1/docs?lang=id").get_data(as_text=True)
        again = client.get("/api/v1/docs").get_data(as_text=True)
        assert drawn == ["api/docs.html"] and again == first
        english = client.get("/api/v1/docs?lang=en").get_data(as_text=True)
        assert len(drawn) == 2 and 'lang="en"' in english and 'lang="id"' in first
        assert client.get("/api/v1/docs?lang=en").get_data(as_text=True) == english
        assert len(drawn) == 2
        other = client.get("/api/v1/docs?lang=id&x=1").get_data(as_text=True)
        assert len(drawn) == 3 and "x=1" in other and "x=1" not in first


def test_real_answers_fit_the_contract(client, session, make_request) -> None:
    ready = make_request(Status.READY, point="srg-dinas", service="kia")
    waiting = make_request(Status.NEEDS_FIX)
    announce.publish(session, utcnow())
    session.commit()
    status = "/api/v1/requests/{receipt}"
    for receipt in (ready.receipt, receipts.format_grouped(waiting.receipt), "AAAA-AAAA-AAAA",
                    "AAAA", receipts.generate()):  # fmt: skip
        fits(client.get(f"/api/v1/requests/{receipt}"), status)
    fits(client.get("/api/v1/requests/x", headers=bearer("sa_live_unknown-key-000")), status)

    fits(client.get("/api/v1/points"), "/api/v1/points")
    board = "/api/v1/points/{code}/board"
    first = client.get("/api/v1/points/srg-dinas/board")
    assert first.get_json()["documents"]
    fits(first, board)
    unchanged = client.get(
        "/api/v1/points/srg-dinas/board", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    fits(unchanged, board)
    fits(client.get("/api/v1/points/nowhere/board"), board)

    found = client.get("/api/v1/announcements?point=srg-dinas")
    assert found.get_json()["announcements"]
    fits(found, "/api/v1/announcements")
    fits(client.get("/api/v1/announcements?point=nowhere"), "/api/v1/announcements")
    fits(client.get("/api/v1/announcements?point=" + "x" * 50), "/api/v1/announcements")

    changes = "/api/v1/requests"
    token = make_key(session, "bridge")
    listed = client.get("/api/v1/requests?limit=1", headers=bearer(token))
    assert listed.get_json()["next_cursor"]
    fits(listed, changes)
    fits(client.get("/api/v1/requests", headers=bearer(token)), changes)
    fits(client.get("/api/v1/requests"), changes)
    fits(client.get("/api/v1/requests?limit=x", headers=bearer(token)), changes)
    fits(client.get("/api/v1/requests?office=36.02", headers=bearer(token)), changes)


def test_a_wrong_answer_does_not_fit() -> None:
    """Control: the check finds a body that breaks the contract."""
    ok = {"error": {"code": "not_found", "message": "…"}}
    assert contract.problems("Error", ok) == []
    assert [p for p, _ in contract.problems("Error", {"error": {"code": "x"}})] == ["error.message"]
    page = {"requests": [{"receipt": "x"}], "next_cursor": None}
    assert contract.problems("ChangesPage", page)


def test_rate_limited_answers_fit_the_contract(app_config, session) -> None:
    limited = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
         "API_KEY_RATE_LIMIT": "1 per hour", "LOOKUP_RATE_LIMIT": "1 per hour"}
    )  # fmt: skip
    try:
        client = limited.test_client()
        session.scalars(select(Office)).first()
        session.commit()
        client.get("/api/v1/requests/AAAA")
        fits(client.get("/api/v1/requests/AAAA"), "/api/v1/requests/{receipt}")
        token = make_key(session, "busy")
        client.get("/api/v1/points", headers=bearer(token))
        for path in ("/api/v1/points", "/api/v1/requests", "/api/v1/announcements"):
            answer = client.get(path, headers=bearer(token))
            assert answer.status_code == 429
            fits(answer, path)
    finally:
        limited.extensions["siapambil.db"]["engine"].dispose()
