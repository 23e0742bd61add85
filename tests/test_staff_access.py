"""Every console endpoint × every role × a target in the account's own office and in another
office: no cross-office read or write succeeds, a role may only do what it is for, and every
refusal changes nothing and is in the audit trail."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select, text

from tests.factories import PASSWORD, csrf_token, sign_in, week
from tracker.api import keys
from tracker.audit.trail import Actor
from tracker.models import (
    AuditEntry,
    Channel,
    Closure,
    KeyScope,
    LeaveDay,
    OutboxMessage,
    OutboxStatus,
    PickupPoint,
    utcnow,
)
from tracker.status import Status
from tracker.webhooks import sealing, subscriptions

OPERATOR, SUPERVISOR, ADMIN = "operator", "supervisor", "admin"
RANK = {OPERATOR: 0, SUPERVISOR: 1, ADMIN: 2}
HOME, AWAY = "36.73", "36.02"
POINTS = {HOME: "srg-dinas", AWAY: "lbk-dinas"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    least: str = OPERATOR
    scoped: bool = True  # the target belongs to an office
    form: tuple[tuple[str, str], ...] = ()
    refusal: str = "403"  # how a cross-office refusal shows: 403, or "hidden" from a list
    admin_anywhere: bool = True  # False: the target must match the account's own office


ENDPOINTS = [
    Endpoint("home", "GET", "/staff/?office={office_id}", scoped=False),
    Endpoint("queue", "GET", "/staff/queue/processing", refusal="hidden"),
    Endpoint("overdue", "GET", "/staff/overdue", scoped=False),
    Endpoint("search", "GET", "/staff/search?q={receipt}", refusal="hidden"),
    Endpoint("request", "GET", "/staff/r/{receipt}"),
    Endpoint("receipt", "GET", "/staff/r/{receipt}/receipt"),
    Endpoint("handover page", "GET", "/staff/handover?no={ready}"),
    Endpoint("batch check", "GET", "/staff/batch/check?no={receipt}&to=ready", refusal="json"),
    Endpoint("intake page", "GET", "/staff/intake", scoped=False),
    Endpoint(
        "intake",
        "POST",
        "/staff/intake",
        scoped=False,
        form=(
            ("service", "{service_id}"),
            ("applicant_name", "Dewi Lestari"),
            ("nik", "3673015212900003"),
            ("handover", "pickup"),
            ("channel", "sms"),
        ),
    ),  # fmt: skip
    Endpoint("batch page", "GET", "/staff/batch", scoped=False),
    Endpoint(
        "move",
        "POST",
        "/staff/r/{spare}/move/cancelled",
        form=(
            ("cancelled-to", "cancelled"),
            ("cancelled-version", "{spare_version}"),
            ("cancelled-public_note", "Dibatalkan atas permintaan pemohon."),
            ("cancelled-confirm", "y"),
        ),
    ),
    Endpoint(
        "batch",
        "POST",
        "/staff/batch",
        form=(("receipts", "{receipt}"), ("to", "ready"), ("point", "{home_point_id}")),
        refusal="409",
        admin_anywhere=False,  # a point of the admin's office takes only that office's documents
    ),
    Endpoint(
        "call to a counter",
        "POST",
        "/staff/call/{callable}",
        form=(("counter", "{counter}"), ("version", "{callable_version}")),
    ),
    Endpoint(
        "hand over",
        "POST",
        "/staff/handover/{ready}",
        form=(("collector", "self"), ("id_checked", "y"), ("version", "{ready_version}")),
    ),
    Endpoint("points", "GET", "/staff/points", SUPERVISOR, refusal="hidden"),
    Endpoint("point", "GET", "/staff/points/{point}", SUPERVISOR),
    Endpoint(
        "counters", "POST", "/staff/points/{point}/counters", SUPERVISOR, form=(("counters", "X"),)
    ),
    Endpoint(
        "closure",
        "POST",
        "/staff/points/{point}/closures",
        SUPERVISOR,
        form=(("day", "2031-01-07"), ("reason", "Rapat")),
    ),
    Endpoint(
        "closure removed",
        "POST",
        "/staff/points/{point}/closures/{closure_id}/delete",
        SUPERVISOR,
    ),
    Endpoint(
        "hours",
        "POST",
        "/staff/points/{point}/hours",
        SUPERVISOR,
        form=tuple(week(d0_p0_opens="09:00", d0_p0_closes="12:00").items()),
    ),
    Endpoint(
        "location",
        "POST",
        "/staff/points/{point}/location",
        SUPERVISOR,
        form=(("latitude", "-6.12"), ("longitude", "106.15")),
    ),
    Endpoint(
        "point details",
        "POST",
        "/staff/points/{point}/details",
        ADMIN,
        form=(("name", "MPP Serang"), ("kind", "mall"), ("address", "Jl. Veteran")),
    ),
    Endpoint("new point page", "GET", "/staff/new-point", ADMIN, scoped=False),
    Endpoint(
        "add a point",
        "POST",
        "/staff/new-point",
        ADMIN,
        scoped=False,  # an admin's, for any office
        form=(
            ("office", "{office_code}"),
            ("code", "baru-walantaka"),
            ("name", "Kantor Kecamatan Walantaka"),
            ("kind", "kecamatan"),
            ("address", "Jl. Raya Walantaka"),
            ("counters", "Loket Adminduk"),
            ("number_prefix", "W"),
        ),
    ),  # fmt: skip
    Endpoint("office", "GET", "/staff/offices/{office_code}", SUPERVISOR),
    Endpoint(
        "office contact",
        "POST",
        "/staff/offices/{office_code}/contact",
        SUPERVISOR,
        form=(
            ("phone", "(0254) 200123"),
            ("whatsapp", "0812 3456 7890"),
            ("email", "dukcapil@serangkota.go.id"),
        ),
    ),
    Endpoint(
        "office details",
        "POST",
        "/staff/offices/{office_code}/details",
        ADMIN,
        form=(
            ("name", "Disdukcapil"),
            ("kind", "dinas"),
            ("timezone", "Asia/Jakarta"),
            ("address", "Jl. Sudirman"),
        ),
    ),  # fmt: skip
    Endpoint("services", "GET", "/staff/services", ADMIN, scoped=False),
    Endpoint("new service page", "GET", "/staff/new-service", ADMIN, scoped=False),
    Endpoint(
        "add a service",
        "POST",
        "/staff/new-service",
        ADMIN,
        scoped=False,
        form=(
            ("code", "ikd"),
            ("name_id", "Aktivasi IKD"),
            ("name_en", "Digital ID activation"),
            ("target_days", "1"),
            ("bring_id", "KTP-el"),
            ("bring_en", "The KTP-el"),
        ),
    ),  # fmt: skip
    Endpoint("service", "GET", "/staff/services/{service_code}", ADMIN, scoped=False),
    Endpoint(
        "change a service",
        "POST",
        "/staff/services/{service_code}",
        ADMIN,
        scoped=False,
        form=(
            ("name_id", "Kartu Keluarga"),
            ("name_en", "Family card"),
            ("target_days", "4"),
            ("bring_id", "KK lama"),
            ("bring_en", "The old card"),
            ("offered", "y"),
        ),
    ),  # fmt: skip
    Endpoint("leave days", "GET", "/staff/leave-days?tahun=2031", ADMIN, scoped=False),
    Endpoint(
        "add a leave day",
        "POST",
        "/staff/leave-days",
        ADMIN,
        scoped=False,
        form=(("day", "2031-01-10"), ("name", "Cuti bersama")),
    ),
    Endpoint(
        "remove a leave day", "POST", "/staff/leave-days/{leave_id}/delete", ADMIN, scoped=False
    ),  # fmt: skip
    Endpoint(
        "visit",
        "POST",
        "/staff/visits",
        SUPERVISOR,
        scoped=False,
        form=(
            ("name", "Desa Sukajaya"),
            ("address", "Balai desa"),
            ("day", "2031-01-08"),
            ("opens", "09:00"),
            ("closes", "13:00"),
        ),
    ),  # fmt: skip
    Endpoint("accounts", "GET", "/staff/accounts", SUPERVISOR, refusal="hidden"),
    Endpoint("outbox", "GET", "/staff/outbox", SUPERVISOR, refusal="hidden"),
    Endpoint("api keys", "GET", "/staff/api-keys", SUPERVISOR, refusal="hidden"),
    Endpoint("revoke an api key", "POST", "/staff/api-keys/{api_key}/revoke", SUPERVISOR),
    Endpoint(
        "make an api key",
        "POST",
        "/staff/api-keys",
        SUPERVISOR,
        form=(("name", "kunci-baru"), ("scope", "read"), ("offices", "{office_id}")),
    ),
    Endpoint("webhooks", "GET", "/staff/webhooks", SUPERVISOR, refusal="hidden"),
    Endpoint("rotate a webhook", "POST", "/staff/webhooks/{subscription_id}/rotate", SUPERVISOR),
    Endpoint("remove a webhook", "POST", "/staff/webhooks/{subscription_id}/remove", SUPERVISOR),
    Endpoint(  # a supervisor's subscription is always their own office's (no office asked)
        "add a webhook",
        "POST",
        "/staff/webhooks",
        SUPERVISOR,
        scoped=False,
        form=(
            ("url", "https://siak.example.go.id/hook"),
            ("events", "request.status_changed"),
            ("office", "{office_id}"),
        ),
    ),  # fmt: skip
    Endpoint("retry", "POST", "/staff/outbox/{dead_id}/retry", SUPERVISOR),
    Endpoint(
        "retry a channel",
        "POST",
        "/staff/outbox/retry",
        SUPERVISOR,
        scoped=False,
        form=(("channel", "sms"),),
    ),  # fmt: skip
    Endpoint("account off", "POST", "/staff/accounts/{colleague}/off", SUPERVISOR),
    Endpoint(
        "open an account",
        "POST",
        "/staff/accounts",
        SUPERVISOR,
        form=(
            ("username", "baru"),
            ("full_name", "Dewi Lestari"),
            ("office", "{office_id}"),
            ("role", "operator"),
        ),
    ),  # fmt: skip
    Endpoint("password page", "GET", "/staff/password", scoped=False),
    Endpoint(  # last: the client's session goes on with the new password
        "password",
        "POST",
        "/staff/password",
        scoped=False,
        form=(
            ("current", PASSWORD),
            ("new", "teh-manis-sore-hari-9"),
            ("again", "teh-manis-sore-hari-9"),
        ),
    ),  # fmt: skip
]


@pytest.fixture
def world(make_request: Any, make_account: Any) -> dict[str, dict[str, Any]]:
    """In each office: requests in processing, ready and verifying, a pickup point and an
    operator; each endpoint that changes a request has one of its own."""
    found = {}
    home_point = make_request.point(POINTS[HOME])
    leave_day = LeaveDay(day=dt.date(2031, 1, 9), name="Cuti bersama")
    make_request.session.add(leave_day)
    make_request.session.commit()
    for office in (HOME, AWAY):
        processing = make_request(Status.PROCESSING, office=office)
        ready = make_request(Status.READY, office=office)
        callable_ = make_request(Status.READY, office=office)
        spare = make_request(Status.VERIFYING, office=office)
        colleague = make_account(OPERATOR, office=office)
        point = make_request.point(POINTS[office])
        point.closures.append(Closure(day=dt.date(2031, 2, 3), reason="Rapat"))
        dead = OutboxMessage(
            request_id=ready.id, office_id=ready.office_id, event="ready", channel=Channel.SMS,
            idempotency_key=f"dead-{office}", recipient="081234567890", body="",
            status=OutboxStatus.DEAD, attempts=8,
        )  # fmt: skip
        make_request.session.add(dead)
        key, _token = keys.create(
            make_request.session, utcnow(), Actor("test"), name=f"kunci-{office}",
            offices=[processing.office], scope=KeyScope.READ,
        )  # fmt: skip
        hook, _secret = subscriptions.add(
            make_request.session, utcnow(), Actor("test"), office=processing.office,
            url=f"https://{office.replace('.', '-')}.example.go.id/hook",
            events=["request.status_changed"], ring=sealing.keyring(make_request.app.config),
        )  # fmt: skip
        make_request.session.commit()
        found[office] = {
            "api_key": key.name,
            "subscription_id": hook.id,
            "receipt": processing.receipt,
            "spare": spare.receipt,
            "spare_version": spare.version,
            "ready": ready.receipt,
            "ready_version": ready.version,
            "callable": callable_.receipt,
            "callable_version": callable_.version,
            "counter": callable_.pickup_point.counters[0],
            "point": point.code,
            "colleague": colleague.username,
            "office_id": processing.office_id,
            "home_point_id": home_point.id,
            "closure_id": point.closures[0].id,
            "dead_id": dead.id,
            "service_id": make_request.service("kk").id,
            "office_code": office,
            "service_code": "kk",
            "leave_id": leave_day.id,
        }
    return found


def snapshot(session: Any) -> tuple:
    """Everything a console action could change, except the audit trail."""
    session.expire_all()
    queries = [
        "SELECT count(*), coalesce(sum(version), 0) FROM requests",
        "SELECT count(*), coalesce(max(id), 0) FROM status_events",
        "SELECT count(*) FROM handovers",
        "SELECT count(*) FROM closures",
        "SELECT count(*), coalesce(sum(weekday * 60 + id), 0) FROM opening_hours",
        "SELECT count(*), coalesce(sum(latitude), 0) FROM pickup_points",
        "SELECT count(*), max(phone), max(whatsapp), max(email) FROM offices",
        "SELECT count(*), coalesce(sum(session_version), 0) FROM staff_accounts WHERE active",
        "SELECT coalesce(sum(last), 0) FROM pickup_series",
        "SELECT count(*), coalesce(sum(attempts), 0) FROM outbox WHERE status = 'dead'",
        "SELECT count(*), count(revoked_at) FROM api_keys",
        "SELECT count(*), count(removed_at), max(secret) FROM webhook_subscriptions",
        "SELECT count(*), max(name), max(address), max(timezone) FROM offices",
        "SELECT count(*), coalesce(sum(target_days), 0), max(name_en) FROM services",
        "SELECT count(*), max(day) FROM leave_days",
    ]
    counters = sorted(str(c) for c in session.scalars(select(PickupPoint.counters)))
    found = (*[tuple(session.execute(text(q)).one()) for q in queries], tuple(counters))
    session.rollback()  # the test's session must not hold SQLite's write lock
    return found


def denied(session: Any) -> int:
    count = session.scalar(select(func.count()).where(AuditEntry.action == "denied"))
    session.rollback()
    return count


def call(client: Any, endpoint: Endpoint, target: dict[str, Any]) -> Any:
    path = endpoint.path.format(**target)
    if endpoint.method == "GET":
        return client.get(path)
    token = csrf_token(client, "/staff/")
    data = {key: value.format(**target) for key, value in endpoint.form}
    data["csrf_token"] = token
    return client.post(path, data=data)


def links(target: dict[str, Any]) -> list[str]:
    """What a list shows of the target office's things."""
    return [
        f"/staff/r/{target['receipt']}",
        f"/staff/points/{target['point']}",
        f"/staff/accounts/{target['colleague']}/",
        f"/staff/outbox/{target['dead_id']}/",
        f"/staff/api-keys/{target['api_key']}/revoke",
        f"/staff/webhooks/{target['subscription_id']}/rotate",
    ]


def allowed(endpoint: Endpoint, role: str, office: str) -> bool:
    if RANK[role] < RANK[endpoint.least]:
        return False
    admin = role == ADMIN and endpoint.admin_anywhere
    return office == HOME or admin or not endpoint.scoped


@pytest.mark.parametrize("role", [OPERATOR, SUPERVISOR, ADMIN])
@pytest.mark.parametrize("office", [HOME, AWAY])
def test_every_endpoint_for_every_role_and_office(
    client: Any, make_account: Any, session: Any, world: Any, role: str, office: str
) -> None:
    account = make_account(role, office=HOME)
    assert sign_in(client, account.username).status_code == 303
    target = world[office]
    for endpoint in ENDPOINTS:
        before, refusals = snapshot(session), denied(session)
        answer = call(client, endpoint, target)
        body = answer.get_data(as_text=True)
        where = f"{endpoint.name} as {role} on {office}"
        if allowed(endpoint, role, office):
            assert answer.status_code in (200, 303), where
            if endpoint.refusal == "hidden":
                assert any(link in body for link in links(target)), where
            continue
        if endpoint.refusal == "hidden" and RANK[role] >= RANK[endpoint.least]:
            assert answer.status_code == 200, where
            assert not any(link in body for link in links(target)), where
            continue
        if endpoint.refusal == "json" and RANK[role] >= RANK[endpoint.least]:
            assert answer.get_json()["state"] == "other_office", where
        elif endpoint.refusal == "409" and RANK[role] >= RANK[endpoint.least]:
            assert answer.status_code == 409, where
            assert "other" in body.lower() or "lain" in body, where
        else:
            assert answer.status_code == 403, where
        assert snapshot(session) == before, f"{where} changed something"
        assert denied(session) == refusals + 1, f"{where} is not in the audit trail"


def test_signed_out_clients_reach_nothing(client: Any, session: Any, world: Any) -> None:
    before = snapshot(session)
    for endpoint in ENDPOINTS:
        path = endpoint.path.format(**world[HOME])
        answer = client.get(path) if endpoint.method == "GET" else client.post(path)
        assert answer.status_code in (302, 400), endpoint.name  # 400: no CSRF token
        if answer.status_code == 302:
            assert "/staff/login" in answer.headers["Location"]
    assert snapshot(session) == before


def test_the_matrix_names_every_console_endpoint(app: Any) -> None:
    """A new console view must join ENDPOINTS (signing in and out are tested on their own)."""
    rules = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("staff.")
        and rule.endpoint not in ("staff.login", "staff.logout")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    covered = {(e.method, e.path.split("?")[0]) for e in ENDPOINTS}
    pattern = re.compile(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>")
    named = {
        (method, pattern.sub(lambda m: "{" + m.group(1) + "}", rule)) for method, rule in rules
    }
    aliases = {
        "{receipt}": ("{receipt}", "{spare}", "{ready}", "{callable}"),
        "{code}": ("{point}",),
        "{message_id}": ("{dead_id}",),
        "{name}": ("{api_key}",),
    }
    missing = set()
    for method, rule in named:
        forms = {rule}
        for placeholder, names in aliases.items():
            forms = {f.replace(placeholder, name) for f in forms for name in names}
        fixed = {"{status}": "processing", "{username}": "{colleague}", "{state}": "off",
                 "{to}": "cancelled"}  # fmt: skip
        for placeholder, value in fixed.items():
            forms = {f.replace(placeholder, value) for f in forms}
        if not any((method, f) in covered for f in forms):
            missing.add((method, rule))
    assert not missing
