"""The API fuzzed against its own contract: Schemathesis reads ``/api/v1/openapi.json`` from the
app and sends every operation it describes cases drawn from its schemas (the spec's examples,
the coverage phase's edge and negative cases, then random ones), in-process over WSGI, on each
database. Every check is on: no 5xx, the status code, content type, headers and body each as
the contract says, bad input refused, good input accepted, and authentication enforced.

The cases reach past the refusals: each one carries a real API key of the write or the read
scope, or none (chosen from the case itself, so a replayed case keeps its key); receipts,
``ext:`` references and point codes in paths are drawn from the database as well as at random;
a move's ``version`` is now and then the request's real one; and bodies sent to
``/api/v1/inbound/...`` are signed over the very bytes sent, as the channel's provider signs
them. XML answers (Open311) are checked by every check but the JSON schema's; their own tests
parse them.

Run it alone with ``.venv/bin/python -m pytest tests/test_api_fuzz.py -q -s``; each database's
run prints how many cases it sent.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import flask
import hypothesis
import pytest
import requests
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.transport.requests import REQUESTS_TRANSPORT
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.test_api_contract import CONVERTER
from tests.test_api_keys import make_key
from tracker import receipts
from tracker.announcements import operations as announce
from tracker.api import contract
from tracker.errors import DomainError
from tracker.extensions import RATE_RULES
from tracker.models import KeyScope, Request, utcnow
from tracker.status import Status

SPEC_PATH = "/api/v1/openapi.json"
INBOUND = "/api/v1/inbound/"
# The channel after /api/v1/inbound/: the setting that holds its secret and the header its
# provider signs with (``sha256=`` and the hex HMAC-SHA256 of the raw body).
SIGNERS = {
    "whatsapp": ("WHATSAPP_APP_SECRET", "X-Hub-Signature-256"),
    "sms": ("SMS_INBOUND_SECRET", "X-Signature"),
}
XML = ("application/xml", "text/xml")
# A case's key: of the write scope (half the cases), of the read scope, or none.
KEYS = ("write", "write", "read", None)
SERANG, LEBAK = "36.73", "36.02"
REGISTRATION = {
    "service": "ktp-el", "applicant_name": "Siti Aminah", "phone": "0812 3456 7890",
    "consent_notify": True, "channel": "whatsapp", "language": "id", "handover": "pickup",
    "point": "srg-dinas",
}  # fmt: skip
MAX_EXAMPLES = 25
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
# Schema-valid input that the API still refuses, each for a rule its contract states but a
# JSON Schema cannot: a receipt's check character (400 ``receipt_mistyped``), the intake's
# rules for a NIK, a phone, a name or a point (422 ``invalid_field``), a move the workflow
# does not allow or that lacks what its target needs (400 ``missing_details``, 422), a
# cursor the API did not give, an instant that cannot be read or a code with no visible
# character (400 ``bad_query``).
REFUSED_BY_RULE = {
    "getRequestStatus": ["400"],
    "listChangedRequests": ["400"],
    "listAnnouncements": ["400"],
    "registerRequest": ["422"],
    "moveRequest": ["400", "422"],
    # Meta's handshake: an argument with no visible character.
    "verifyWhatsAppWebhook": ["400"],
    # A receipt number that fits the schema may still fail its check character.
    "getOpen311RequestXml": ["400"],
    "getOpen311RequestJson": ["400"],
    "listOpen311RequestsXml": ["400"],
    "listOpen311RequestsJson": ["400"],
}
CONFIG = {
    # The API reads the arguments it declares and, like every page of the site, ignores
    # others, so an unknown argument is no bad input. The keys are the test's to give
    # (``Fuzz.key_for``), so Schemathesis does not make up Authorization headers of its own.
    "generation": {"allow-extra-parameters": False, "with-security-parameters": False},
    "operations": [
        {
            "include-operation-id": operation,
            "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + codes}},
        }
        for operation, codes in REFUSED_BY_RULE.items()
    ],
}


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32 reads ``_nodeid``, which pytest 9.2 no longer keeps (it has only
    ``nodeid``): give it back, until a Schemathesis release reads ``nodeid``."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """The fuzzed app: rate limits on, but too high to answer 429 to the run; the inbound
    channels' secrets set, so that signed bodies get past their check."""
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "API_KEY_RATE_LIMIT": "1000000 per minute",
        "LOOKUP_RATE_LIMIT": "1000000 per minute",
        "WHATSAPP_APP_SECRET": "fuzz-whatsapp-app-secret",
        "WHATSAPP_VERIFY_TOKEN": "fuzz-whatsapp-verify-token",
        "SMS_INBOUND_SECRET": "fuzz-sms-inbound-secret",
    }


@dataclass
class Fuzz:
    """What the fuzzed app holds, and what the run sent it."""

    app: Flask
    tokens: dict[str, str]
    receipts: list[str]
    refs: list[str]
    points: list[str]
    sent: Counter = field(default_factory=Counter)  # (operation, status) -> cases

    def key_for(self, case: schemathesis.Case) -> dict[str, str]:
        """The Authorization header of a case: a function of the case's own data, so that
        Hypothesis replaying or shrinking a case sends it with the same key."""
        if str((case.headers or {}).get("Idempotency-Key", "")).startswith("fuzz-"):
            return {"Authorization": f"Bearer {self.tokens['write']}"}  # ``_accepted``
        drawn = repr((case.path_parameters, case.query, case.headers, case.body)).encode()
        scope = KEYS[hashlib.sha256(drawn).digest()[0] % len(KEYS)]
        return {} if scope is None else {"Authorization": f"Bearer {self.tokens[scope]}"}

    def version_of(self, ref: str) -> int | None:
        reader = self.app.extensions["siapambil.db"]["reader"]()
        try:
            if ref.startswith("ext:"):
                where = Request.external_ref == ref.removeprefix("ext:")
            else:
                where = Request.receipt == receipts.parse(ref)
            return reader.scalar(select(Request.version).where(where))
        except DomainError:
            return None
        finally:
            reader.close()


@pytest.fixture
def fuzz(
    app: Flask, session: Session, make_request: Callable[..., Request], database: str
) -> Iterator[Fuzz]:
    """Requests in several states at the keys' office and one at another office, an
    announcement, and a read and a write key of Serang."""
    made = [
        make_request(Status.SUBMITTED),
        make_request(Status.PROCESSING, nik="3673015507900002"),
        make_request(Status.READY, point="srg-dinas", service="kia"),
        make_request(Status.NEEDS_FIX, service="kk"),
        make_request(Status.PROCESSING, office=LEBAK, nik="3602011203850001"),
    ]
    made[1].external_ref = "SIAK-2026-000123"
    made[4].external_ref = "SIAK-LBK-000001"
    announce.publish(session, utcnow())
    session.commit()
    tokens = {
        "read": make_key(session, "fuzz-read", SERANG, scope=KeyScope.READ),
        "write": make_key(session, "fuzz-write", SERANG, scope=KeyScope.WRITE),
    }
    found = Fuzz(
        app=app,
        tokens=tokens,
        receipts=[r.receipt for r in made] + [receipts.format_grouped(made[0].receipt)],
        refs=["ext:SIAK-2026-000123", "ext:SIAK-LBK-000001"],
        points=["srg-dinas", "lbk-dinas"],
    )
    yield found
    backend = database.split(":", 1)[0].split("+", 1)[0]
    if found.sent:  # the run got past the refusals to every operation, and no limit bit
        print(f"\nSchemathesis on {backend}: {sum(found.sent.values())} cases")  # noqa: T201
        passed = {label for label, status in found.sent if status < 400}
        assert passed == every_operation(), (
            every_operation() - passed,
            [k for k in found.sent.items() if k[0][0].startswith("POST")],
        )
        assert not [k for k in found.sent if k[1] == 429], sorted(found.sent.items())


def every_operation() -> set[str]:
    methods = {"get", "post", "put", "patch", "delete"}
    paths = contract.spec()["paths"].items()
    return {f"{m.upper()} {path}" for path, item in paths for m in item if m in methods}


@pytest.fixture
def api_schema(fuzz: Fuzz) -> schemathesis.BaseSchema:
    """The contract as the app serves it, with the hooks that aim cases at real data."""
    config = schemathesis.Config.from_dict(CONFIG)
    loaded = schemathesis.openapi.from_wsgi(SPEC_PATH, fuzz.app, config=config)
    real = {"receipt": fuzz.receipts, "ref": fuzz.receipts + fuzz.refs, "code": fuzz.points}

    @loaded.hook
    def flatmap_path_parameters(
        context: schemathesis.HookContext, path_parameters: dict[str, Any]
    ) -> st.SearchStrategy:
        """A receipt, reference or point code drawn from the database as often as not."""
        drawn = {name: real[name] for name in path_parameters or {} if name in real}
        if not drawn:
            return st.just(path_parameters)
        known = st.fixed_dictionaries({n: st.sampled_from(v) for n, v in drawn.items()})
        return st.one_of(st.just(path_parameters), known.map(lambda k: {**path_parameters, **k}))

    @loaded.hook
    def flatmap_query(context: schemathesis.HookContext, query: dict[str, Any]) -> Any:
        """WhatsApp's verification handshake: as often as not, the token the app was given;
        Open311's list by numbers: as often as not, receipts that exist."""
        if query and "service_request_id" in query:
            numbers = st.lists(st.sampled_from(fuzz.receipts), min_size=1, max_size=3)
            known = numbers.map(lambda found: {**query, "service_request_id": ",".join(found)})
            return st.one_of(st.just(query), known)
        if not query or "hub.verify_token" not in query:
            return st.just(query)
        token = fuzz.app.config["WHATSAPP_VERIFY_TOKEN"]
        return st.sampled_from([query, {**query, "hub.verify_token": token}])

    @loaded.hook
    def flatmap_case(context: schemathesis.HookContext, case: schemathesis.Case) -> Any:
        """As often as not, a registration a counter would accept (a NIK drawn anew, so
        that some are new and some duplicates), or a move naming the version the request
        has now, so that cases get past the intake's and the workflow's refusals."""
        if not isinstance(case.body, dict):
            return st.just(case)
        if context.operation.label == "POST /api/v1/requests":
            return st.one_of(st.just(case), acceptable_registration().map(partial(_accepted, case)))
        ref = (case.path_parameters or {}).get("ref")
        version = fuzz.version_of(str(ref)) if ref is not None and "version" in case.body else None
        if version is None:
            return st.just(case)
        return st.sampled_from([case, _with(case, {**case.body, "version": version})])

    return loaded


# Every path, the contract's own address included (Schemathesis leaves out the operation that
# served the document unless a filter names it).
schema = schemathesis.pytest.from_fixture("api_schema").include(path_regex="^/")


def acceptable_registration() -> st.SearchStrategy[dict[str, Any]]:
    """A body that passes the intake's rules, but for a NIK or a reference already taken."""
    return st.fixed_dictionaries(
        {
            **{k: st.just(v) for k, v in REGISTRATION.items()},
            "nik": st.integers(2, 9999).map(lambda n: f"367301120385{n:04d}"),
        },
        optional={
            "office": st.just(SERANG),
            "external_ref": st.integers(1, 999).map(lambda n: f"SIAK-FUZZ-{n}"),
            "confirm_duplicate": st.booleans(),
        },
    )


def _accepted(case: schemathesis.Case, body: dict[str, Any]) -> schemathesis.Case:
    """A registration the write key sends as a counter would: the body the intake accepts,
    with a well-formed ``Idempotency-Key`` (a drawn one is most often malformed)."""
    case.headers = {**(case.headers or {}), "Idempotency-Key": f"fuzz-{body['nik']}"}
    return _with(case, body)


def _with(case: schemathesis.Case, body: dict[str, Any]) -> schemathesis.Case:
    case.body = body
    return case


def signed(case: schemathesis.Case, config: dict[str, Any]) -> dict[str, Any]:
    """For a body sent to ``/api/v1/inbound/CHANNEL``: the body's bytes, given to the call as
    they are (so that what is signed is what is sent), and the channel's signature header."""
    if not case.path.startswith(INBOUND) or case.body is NOT_SET:
        return {}
    channel = case.path.removeprefix(INBOUND).split("/", 1)[0]
    assert channel in SIGNERS, f"{case.path}: add how its provider signs to SIGNERS"
    setting, header = SIGNERS[channel]
    as_sent = REQUESTS_TRANSPORT.serialize_case(case, base_url="http://fuzz")
    prepared = requests.Request(**as_sent).prepare()
    raw = prepared.body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    digest = hmac.new(config[setting].encode(), raw, hashlib.sha256).hexdigest()
    headers = {header: f"sha256={digest}"}
    if "Content-Type" in prepared.headers:
        headers["Content-Type"] = prepared.headers["Content-Type"]
    return {"data": raw, "headers": headers}


def call_and_check(case: schemathesis.Case, config: dict[str, Any], key: dict[str, str]) -> Any:
    """Send the case (its inbound body signed) and run every check on the answer; an XML
    answer skips only the JSON schema check (its own tests parse it)."""
    extra = signed(case, config)
    headers = {**key, **extra.pop("headers", {})}
    response = case.call(headers=headers, **extra)
    media = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    case.validate_response(
        response,
        headers=headers,
        excluded_checks=[response_schema_conformance] if media in XML else [],
        transport_kwargs={"headers": headers, **extra},
    )
    return response


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_every_operation_keeps_the_contract(case: schemathesis.Case, fuzz: Fuzz) -> None:
    """Every operation, every check: what the API answers is what its contract says."""
    response = call_and_check(case, fuzz.app.config, fuzz.key_for(case))
    fuzz.sent[(case.operation.label, response.status_code)] += 1


# Controls: the checks bite, the signer signs what is sent, and an XML answer skips the JSON
# schema check only. They use a small app of their own where the product has no such route.

INBOUND_SECRETS = {"WHATSAPP_APP_SECRET": "wa-secret", "SMS_INBOUND_SECRET": "sms-secret"}
SIGNED_BODY = {"from": "+6281234567890", "text": "CEK 7KQ2-M9XA-4RTN — terima kasih ✓"}


def receiver() -> Flask:
    """Inbound routes that answer 200 only to a body signed as its channel's provider signs
    it, and Open311-like routes that answer XML."""
    app = Flask("receiver")

    def check(channel: str) -> tuple[str, int]:
        setting, header = SIGNERS[channel]
        key = INBOUND_SECRETS[setting].encode()
        wanted = "sha256=" + hmac.new(key, flask.request.get_data(), hashlib.sha256).hexdigest()
        return (
            ("", 200)
            if hmac.compare_digest(flask.request.headers.get(header, ""), wanted)
            else ("", 401)
        )

    for channel in SIGNERS:
        app.add_url_rule(f"{INBOUND}{channel}", channel, partial(check, channel), methods=["POST"])
    app.add_url_rule("/open311/v2/services.xml", "xml", lambda: XML_ANSWER)
    app.add_url_rule(
        "/open311/v2/discovery.xml", "teapot", lambda: (XML_ANSWER[0], 418, XML_ANSWER[2])
    )
    return app


XML_ANSWER = ("<services><service><service_code>ktp-el</service_code></service></services>", 200,
              {"Content-Type": "application/xml; charset=utf-8"})  # fmt: skip
NOTHING = {"description": "Nothing."}
RECEIVER_SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "receiver", "version": "1"},
    "paths": {
        **{
            f"{INBOUND}{channel}": {
                "post": {
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"type": "object"}}}},
                    "responses": {"200": NOTHING, "401": NOTHING},
                }
            }
            for channel in SIGNERS
        },
        **{
            path: {"get": {"responses": {"200": {"description": "XML", "content": {
                "application/xml": {"schema": {"type": "array", "maxItems": 0}}}}}}}
            for path in ("/open311/v2/services.xml", "/open311/v2/discovery.xml")
        },
    },
}  # fmt: skip


def receiver_schema() -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_dict(RECEIVER_SPEC)
    loaded.app = receiver()
    return loaded


@pytest.mark.parametrize("channel", sorted(SIGNERS))
def test_an_inbound_body_is_signed_over_the_very_bytes_sent(channel: str) -> None:
    operation = receiver_schema()[f"{INBOUND}{channel}"]["POST"]
    case = operation.Case(body=SIGNED_BODY, media_type="application/json")
    assert call_and_check(case, INBOUND_SECRETS, {}).status_code == 200
    # Control: the same body unsigned, or signed with another channel's secret, is refused.
    assert case.call().status_code == 401
    other = {setting: "another-secret" for setting in INBOUND_SECRETS}
    extra = signed(case, other)
    assert case.call(**extra).status_code == 401


def test_an_xml_answer_skips_the_json_schema_check_and_no_other() -> None:
    loaded = receiver_schema()
    listed = loaded["/open311/v2/services.xml"]["GET"].Case()
    assert call_and_check(listed, {}, {}).status_code == 200
    # Every other check still runs on XML: a status the contract does not give is caught.
    teapot = loaded["/open311/v2/discovery.xml"]["GET"].Case()
    with pytest.raises(FailureGroup, match="status code"):
        call_and_check(teapot, {}, {})


def test_the_checks_catch_an_answer_that_breaks_the_contract(app: Flask, make_request) -> None:
    """Control: with the contract one field short, the real status answer no longer fits,
    and the same check the fuzz runs says so; with the contract as it is, it fits."""
    ready = make_request(Status.READY, point="srg-dinas")
    spec = copy.deepcopy(contract.spec())
    status = spec["components"]["schemas"]["PublicStatus"]
    del status["properties"]["overdue"]
    status["required"].remove("overdue")
    for raw, fits in ((contract.spec(), True), (spec, False)):
        loaded = schemathesis.openapi.from_dict(raw)
        loaded.app = app
        case = loaded["/api/v1/requests/{receipt}"]["GET"].Case(
            path_parameters={"receipt": ready.receipt}
        )
        if fits:
            assert call_and_check(case, app.config, {}).status_code == 200
        else:
            with pytest.raises(FailureGroup, match="overdue"):
                call_and_check(case, app.config, {})


def test_every_rate_limited_api_route_may_answer_429_in_the_contract(fuzz: Fuzz) -> None:
    """Where a limit applies, the contract lists its 429; a limited route without one is told."""
    limited = _limited_without_429(fuzz.app)
    assert limited == set()
    # Every operation counts against a budget of the client's, but Open311's two fixed
    # documents (discovery and the list of services, the same for every caller and kept by
    # caches) and the providers' inbound webhooks and handshake (each sender has a budget instead,
    # ``INBOUND_RATE_LIMIT``, which a provider must not be refused for).
    fixed = {f"GET /open311/v2/{name}.{fmt}" for name in ("discovery", "services")
             for fmt in ("json", "xml")}  # fmt: skip
    inbound = {f"{m} /api/v1/inbound/{c}" for m, c in (("POST", "sms"), ("POST", "whatsapp"),
               ("GET", "whatsapp"))}  # fmt: skip
    assert _limited(fuzz.app) == every_operation() - fixed - inbound
    # Control: a limited route whose contract lacks the 429 is found.
    spec = copy.deepcopy(contract.spec())
    del spec["paths"]["/api/v1/points"]["get"]["responses"]["429"]
    assert _limited_without_429(fuzz.app, spec) == {"GET /api/v1/points"}


def _limited(app: Flask) -> set[str]:
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.rule.startswith(("/api/v1/", "/open311/")) and getattr(view, RATE_RULES, ()):
            path = CONVERTER.sub(r"{\1}", rule.rule)
            found |= {f"{m} {path}" for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def _limited_without_429(app: Flask, spec: dict[str, Any] | None = None) -> set[str]:
    spec = spec or contract.spec()
    missing = set()
    for label in _limited(app):
        method, path = label.split(" ", 1)
        if "429" not in spec["paths"][path][method.lower()]["responses"]:
            missing.add(label)
    return missing
