"""API keys: made, listed and revoked by command and in the console; a key sees only its
offices; unknown and revoked keys get 401, the wrong scope or another office 403 (audited);
each key has its own rate limit and records when it was last used."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from flask import Flask, jsonify
from sqlalchemy import select

from jobs import runner
from tests.factories import csrf_token, sign_in
from tracker import create_app
from tracker.api import contract, guard, keys
from tracker.api.guard import key_rate, keyed
from tracker.audit.trail import SYSTEM, Actor
from tracker.config import DEFAULTS
from tracker.db import in_unit, unit_of_work
from tracker.extensions import csrf
from tracker.models import ApiKey, AuditEntry, KeyScope, Office, Request, utcnow
from tracker.requests import operations
from tracker.status import Status

SERANG, LEBAK = "36.73", "36.02"
TESTER = Actor("tester")


def make_key(session: Any, name: str, *codes: str, scope: KeyScope = KeyScope.READ) -> str:
    offices = session.scalars(select(Office).where(Office.code.in_(codes or (SERANG,)))).all()
    _key, token = keys.create(session, utcnow(), TESTER, name=name, offices=offices, scope=scope)
    session.commit()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_rows(session: Any, action: str) -> list[AuditEntry]:
    rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
    session.commit()
    return list(rows)


def stored(session: Any, name: str) -> ApiKey:
    """The key as stored now, its offices loaded, with the test's transaction ended."""
    key = session.scalars(select(ApiKey).where(ApiKey.name == name)).one()
    session.refresh(key)
    key.offices  # noqa: B018 - loaded now, not later inside a transaction
    session.commit()
    return key


# --- the commands -------------------------------------------------------------------------


def test_apikey_create_prints_the_key_once_and_keeps_only_its_hash(runner, session) -> None:
    made = runner.invoke(
        args=["apikey", "create", "siak-banten", "--office", SERANG, "--office", LEBAK,
              "--scope", "write"]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    token = next(line for line in made.output.splitlines() if line.startswith("sa_live_"))
    assert len(token) == len("sa_live_") + 52  # 32 bytes in base32, without padding
    key = stored(session, "siak-banten")
    assert key.scope == KeyScope.WRITE
    assert sorted(o.code for o in key.offices) == [LEBAK, SERANG]
    assert key.digest == keys.digest_of(token) and token not in (key.digest, key.prefix)
    assert token.startswith(key.prefix) and len(key.prefix) == len("sa_live_") + 8

    listed = runner.invoke(args=["apikey", "list"])
    assert listed.exit_code == 0
    assert key.prefix in listed.output and token not in listed.output
    assert "siak-banten" in listed.output and "active" in listed.output and "never" in listed.output

    again = runner.invoke(args=["apikey", "create", "siak-banten", "--office", SERANG,
                                "--scope", "read"])  # fmt: skip
    assert again.exit_code != 0 and "sa_live_" not in again.output
    unknown = runner.invoke(args=["apikey", "create", "x-key", "--office", "99.99",
                                  "--scope", "read"])  # fmt: skip
    assert unknown.exit_code != 0 and "99.99" in unknown.output

    revoked = runner.invoke(args=["apikey", "revoke", "siak-banten"])
    assert revoked.exit_code == 0, revoked.output
    assert stored(session, "siak-banten").revoked_at is not None
    assert "revoked" in runner.invoke(args=["apikey", "list"]).output
    assert runner.invoke(args=["apikey", "revoke", "nobody"]).exit_code != 0
    assert [r.target for r in audit_rows(session, "api_key_created")] == ["siak-banten"]
    assert [r.target for r in audit_rows(session, "api_key_revoked")] == ["siak-banten"]


# --- keys on the API -----------------------------------------------------------------------


def test_a_read_key_lists_only_its_offices_requests_without_personal_data(
    client, session, make_request
) -> None:
    ours = make_request(Status.READY, point="srg-dinas", name="Budi Santoso")
    theirs = make_request(Status.PROCESSING, office=LEBAK)
    token = make_key(session, "siak-serang")
    answer = client.get("/api/v1/requests", headers=bearer(token))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    receipts = [r["receipt"] for r in body["requests"]]
    assert receipts == [ours.receipt] and theirs.receipt not in receipts
    row = body["requests"][0]
    assert row["status"] == "ready" and row["office"] == SERANG and row["external_ref"] is None
    assert row["pickup"]["point"] == "srg-dinas"
    assert row["pickup"]["pickup_number"] == ours.pickup_number
    assert row["expected_ready_on"] == ours.expected_on.isoformat()
    text = answer.get_data(as_text=True)
    for personal in ("Budi", "3673011203850001", "081234567890"):
        assert personal not in text
    assert body["next_cursor"] is None


def _bridge_reads(client: Any, token: str, since: str | None) -> tuple[list[tuple], str | None]:
    """What a bridge reads from ``updated_since=since`` (every page), as (receipt, version),
    and where it reads from next time: the last change it saw (inclusive)."""
    seen, cursor = [], None
    while True:
        query = f"cursor={cursor}" if cursor else (f"updated_since={since}" if since else "")
        page = client.get(f"/api/v1/requests?limit=2&{query}", headers=bearer(token)).get_json()
        seen += [(row["receipt"], row["version"]) for row in page["requests"]]
        if page["requests"]:
            since = page["requests"][-1]["updated_at"].replace("+", "%2B")
        if page["next_cursor"] is None:
            return seen, since
        cursor = page["next_cursor"]


@pytest.mark.parametrize("settle", [60, 0])
def test_a_change_that_commits_after_a_later_one_still_reaches_the_bridge(
    app, client, session, make_request, settle
) -> None:
    """A change is stamped with the moment its unit of work began and is seen once it
    commits, so one that commits after a later one (a leave day's seconds of updates, a
    writer waiting for SQLite's lock) would land behind where a bridge had read to. The list
    shows a change ``CHANGES_SETTLE_SECONDS`` (60 by default) after its stamp: the bridge
    reads both, in order. Control (0): the bridge that read the later change never finds
    the earlier one."""
    assert DEFAULTS["CHANGES_SETTLE_SECONDS"] == 60
    app.config["CHANGES_SETTLE_SECONDS"] = settle
    start = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC)  # a Monday, 09.00 WIB
    early, late = (make_request(Status.VERIFYING, at=start) for _ in range(2))
    token = make_key(session, "bridge")
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        before, since = _bridge_reads(client, token, None)
    assert sorted(before) == sorted([(early.receipt, 2), (late.receipt, 2)])

    began = start + dt.timedelta(minutes=10)
    make_request.move(late, Status.PROCESSING, at=began + dt.timedelta(seconds=3))
    with time_machine.travel(began + dt.timedelta(seconds=4), tick=False):
        meanwhile, since = _bridge_reads(client, token, since)
    make_request.move(early, Status.PROCESSING, at=began)  # began first, committed last
    with time_machine.travel(began + dt.timedelta(seconds=settle + 4), tick=False):
        after, since = _bridge_reads(client, token, since)

    meanwhile, after = ([row for row in rows if row not in before] for rows in (meanwhile, after))
    if settle:
        assert meanwhile == [] and after == [(early.receipt, 3), (late.receipt, 3)]
    else:  # the control: the earlier change is passed over
        assert meanwhile == [(late.receipt, 3)] and after == [(late.receipt, 3)]


@pytest.mark.parametrize("through", ["runner", "bare unit"])
def test_a_job_that_takes_longer_than_the_settling_still_reaches_the_bridge(
    app, client, session, make_request, through
) -> None:
    """A scheduled job's unit of work has no web timeout: one that takes longer than
    ``CHANGES_SETTLE_SECONDS`` (here a run that moves a document, stamped with the run's
    start, after a quicker unit moved another and committed, and a bridge read that one once
    settled) commits its change behind the bridge's cursor. The runner lists such a unit's
    changes again as changed at its end: the bridge finds it on its next read. Control: the
    same work in a unit of its own, as runs were before, is passed over."""
    app.config["CHANGES_SETTLE_SECONDS"] = 60
    start = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC)  # a Monday, 09.00 WIB
    early, late = (make_request(Status.VERIFYING, at=start) for _ in range(2))
    early_id = early.id
    token = make_key(session, "bridge")
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        before, since = _bridge_reads(client, token, None)
    seen: dict[str, Any] = {}

    def work(unit: Any, config: dict[str, Any], now: dt.datetime) -> None:
        make_request.move(late, Status.PROCESSING, at=now + dt.timedelta(seconds=3))
        session.commit()  # a quicker unit, committed first
        clock.shift(dt.timedelta(seconds=70))  # the run goes on past the settling
        seen["meanwhile"], seen["since"] = _bridge_reads(client, token, since)
        operations.move(unit, unit.get(Request, early_id), Status.PROCESSING,
                        actor=SYSTEM, now=now, config=config)  # fmt: skip

    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False) as clock:
        if through == "runner":
            runner.run(app, "long-job", work)
        else:
            with app.app_context(), unit_of_work() as unit:
                work(unit, app.config, utcnow())
        clock.shift(dt.timedelta(seconds=61))
        after, _ = _bridge_reads(client, token, seen["since"])

    assert [row for row in seen["meanwhile"] if row not in before] == [(late.receipt, 3)]
    if through == "runner":
        assert after == [(late.receipt, 3), (early.receipt, 3)]
    else:  # the control: the earlier change never reaches the bridge
        assert after == [(late.receipt, 3)]


def test_unknown_revoked_and_missing_keys_get_401(client, session) -> None:
    token = make_key(session, "soon-gone")
    assert client.get("/api/v1/requests", headers=bearer(token)).status_code == 200
    for headers in (
        {},
        bearer("sa_live_" + "a" * 52),
        bearer("nonsense"),
        {"Authorization": "Basic x"},
    ):
        refused = client.get("/api/v1/requests", headers=headers)
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "unauthorized"
        assert refused.headers["WWW-Authenticate"] == guard.CHALLENGE
    key = stored(session, "soon-gone")
    keys.revoke(session, utcnow(), TESTER, session.merge(key))
    session.commit()
    assert client.get("/api/v1/requests", headers=bearer(token)).status_code == 401
    # An invalid key is refused on the public routes too; without one they stay public.
    assert client.get("/api/v1/points", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/points").status_code == 200


def test_a_key_asking_for_another_office_gets_403_and_the_refusal_is_audited(
    client, session, make_request
) -> None:
    make_request(Status.PROCESSING, office=LEBAK)
    token = make_key(session, "siak-serang")
    before = len(audit_rows(session, "denied"))
    refused = client.get(f"/api/v1/requests?office={LEBAK}", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert LEBAK in refused.get_json()["error"]["message"]
    denied = audit_rows(session, "denied")
    assert len(denied) == before + 1
    assert denied[-1].actor == "apikey:siak-serang"
    assert denied[-1].details["office"] == LEBAK
    # Control: its own office is answered, and a key of both offices may ask for either.
    own = client.get(f"/api/v1/requests?office={SERANG}", headers=bearer(token))
    assert own.status_code == 200
    both = make_key(session, "siak-banten", SERANG, LEBAK)
    assert client.get(f"/api/v1/requests?office={LEBAK}", headers=bearer(both)).status_code == 200
    assert len(audit_rows(session, "denied")) == before + 1


def test_last_used_moves_at_most_once_a_minute(client, session) -> None:
    token = make_key(session, "bridge")
    assert stored(session, "bridge").last_used_at is None
    assert client.get("/api/v1/points", headers=bearer(token)).status_code == 200
    first = stored(session, "bridge").last_used_at
    assert first is not None and abs(utcnow() - first) < dt.timedelta(minutes=1)
    assert client.get("/api/v1/points", headers=bearer(token)).status_code == 200
    assert stored(session, "bridge").last_used_at == first  # no write per call
    # A minute later it moves again.
    key = session.merge(stored(session, "bridge"))
    key.last_used_at = first - dt.timedelta(minutes=2)
    session.commit()
    assert client.get("/api/v1/points", headers=bearer(token)).status_code == 200
    assert stored(session, "bridge").last_used_at > first - dt.timedelta(seconds=1)


def test_the_list_pages_with_an_opaque_cursor_in_the_order_of_change(
    client, session, make_request
) -> None:
    start = utcnow().replace(microsecond=0) - dt.timedelta(days=3)
    made = [make_request(Status.SUBMITTED, at=start + dt.timedelta(minutes=i)) for i in range(5)]
    token = make_key(session, "pager")
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/requests?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bearer(token)).get_json()
        seen += [r["receipt"] for r in page["requests"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [r.receipt for r in made] and pages == 3
    since = (start + dt.timedelta(minutes=3)).isoformat()
    later = client.get(
        "/api/v1/requests", query_string={"updated_since": since}, headers=bearer(token)
    ).get_json()
    assert [r["receipt"] for r in later["requests"]] == [r.receipt for r in made[3:]]
    for url, field in (
        ("/api/v1/requests?limit=0", "limit"),
        ("/api/v1/requests?limit=501", "limit"),
        ("/api/v1/requests?cursor=bm9wZQ", "cursor"),
        ("/api/v1/requests?updated_since=yesterday", "updated_since"),
    ):
        bad = client.get(url, headers=bearer(token))
        assert bad.status_code == 400, url
        assert bad.get_json()["error"]["code"] == "bad_query"
        assert field in bad.get_json()["error"]["message"], url


# --- the guard on a write route, and a body checked against the contract ------------------


@pytest.fixture
def write_app(app_config) -> Any:
    """The app with one more keyed route, of the write scope, as the later write routes will
    be: it takes a body checked against a schema."""
    app = create_app(app_config)
    schema = {
        "type": "object",
        "required": ["to"],
        "additionalProperties": False,
        "properties": {"to": {"type": "string", "enum": ["ready"]}, "note": {"type": "string"}},
    }

    @key_rate
    @keyed(KeyScope.WRITE)
    def change() -> Any:
        guard.require_office(guard.holder().office_ids and min(guard.holder().office_ids), "x")
        return jsonify(contract.checked_body(schema))

    # As create_app does for the API's own routes: no CSRF token, one unit of work.
    app.add_url_rule("/api/v1/test-change", "test_change", in_unit(csrf.exempt(change)),
                     methods=["POST"])  # fmt: skip
    yield app
    app.extensions["siapambil.db"]["engine"].dispose()


def test_every_keyed_route_declares_its_scope(write_app: Flask) -> None:
    found = guard.keyed_views(write_app)
    assert found == {
        "api.changed_requests": KeyScope.READ,
        "api.register_request": KeyScope.WRITE,
        "api.transition": KeyScope.WRITE,
        "test_change": KeyScope.WRITE,
    }


def test_a_read_key_on_a_write_route_gets_403_audited_and_a_bad_body_422(
    write_app: Flask, session
) -> None:
    client = write_app.test_client()
    reader, writer = make_key(session, "reader"), make_key(session, "writer", scope=KeyScope.WRITE)
    body = {"to": "ready"}
    refused = client.post("/api/v1/test-change", json=body, headers=bearer(reader))
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert "kunci tulis" in refused.get_json()["error"]["message"]  # Indonesian by default
    denied = audit_rows(session, "denied")
    assert [(d.actor, d.details["reason"]) for d in denied] == [("apikey:reader", "scope")]
    accepted = client.post("/api/v1/test-change", json=body, headers=bearer(writer))
    assert accepted.status_code == 200 and accepted.get_json() == body
    assert client.get("/api/v1/requests", headers=bearer(writer)).status_code == 200  # may read

    for sent, field in (({"to": "lost"}, "to"), ({}, "to"), ({"to": "ready", "x": 1}, "x")):
        bad = client.post("/api/v1/test-change", json=sent, headers=bearer(writer))
        assert bad.status_code == 422, sent
        error = bad.get_json()["error"]
        assert error["code"] == "invalid_body" and field in error["message"], error
    not_json = client.post("/api/v1/test-change", data="to=ready", headers=bearer(writer))
    assert not_json.status_code == 422
    assert client.post("/api/v1/test-change", json=body).status_code == 401


# --- the rate limit per key ----------------------------------------------------------------


def test_each_key_has_its_own_rate_limit(app_config, session) -> None:
    limited = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
         "API_KEY_RATE_LIMIT": "3 per hour", "LOOKUP_RATE_LIMIT": "100 per hour"}
    )  # fmt: skip
    try:
        client = limited.test_client()
        first, second = make_key(session, "first"), make_key(session, "second")
        answers = [
            client.get("/api/v1/points", headers=bearer(first)).status_code for _ in range(3)
        ]
        assert answers == [200, 200, 200]
        over = client.get("/api/v1/requests", headers=bearer(first))  # one budget for all routes
        assert over.status_code == 429 and over.get_json()["error"]["code"] == "rate_limited"
        assert client.get("/api/v1/points", headers=bearer(second)).status_code == 200
        assert client.get("/api/v1/points").status_code == 200  # anonymous: not this budget
        # A receipt look-up with a key counts against the key, not the client's address.
        receipt = "/api/v1/requests/AAAA-AAAA-AAAA"
        assert client.get(receipt, headers=bearer(first)).status_code == 429
        assert client.get(receipt, headers=bearer(second)).status_code == 400
    finally:
        limited.extensions["siapambil.db"]["engine"].dispose()


# --- the console ---------------------------------------------------------------------------


def console(client: Any, account: Any) -> str:
    assert sign_in(client, account.username).status_code == 303
    return csrf_token(client, "/staff/api-keys")


def test_a_supervisor_makes_and_revokes_keys_of_their_own_office_only(
    client, session, make_account
) -> None:
    make_key(session, "lebak-bridge", LEBAK)
    boss = make_account("supervisor")
    token = console(client, boss)
    page = client.get("/staff/api-keys").get_data(as_text=True)
    assert "lebak-bridge" not in page
    made = client.post(
        "/staff/api-keys", data={"name": "serang-web", "scope": "read", "csrf_token": token}
    )
    assert made.status_code == 200
    shown = made.get_data(as_text=True)
    key = stored(session, "serang-web")
    assert [o.code for o in key.offices] == [SERANG] and key.created_by == boss.username
    start = shown.index("sa_live_", shown.index('id="new-key-value"'))
    secret = shown[start : start + len("sa_live_") + 52]
    assert keys.digest_of(secret) == key.digest
    again = client.get("/staff/api-keys").get_data(as_text=True)
    assert secret not in again and key.prefix in again  # shown once, then only its prefix
    created = audit_rows(session, "api_key_created")
    assert created[-1].actor == boss.username and created[-1].target == "serang-web"

    # Another office's key: neither made nor revoked by this supervisor.
    lebak = session.scalars(select(Office).where(Office.code == LEBAK)).one().id
    session.commit()
    forged = client.post(
        "/staff/api-keys",
        data={"name": "sneaky", "scope": "write", "offices": str(lebak), "csrf_token": token},
    )
    assert forged.status_code == 403
    assert (
        client.post("/staff/api-keys/lebak-bridge/revoke", data={"csrf_token": token}).status_code
        == 403
    )
    assert stored(session, "lebak-bridge").revoked_at is None
    assert session.scalars(select(ApiKey).where(ApiKey.name == "sneaky")).first() is None
    session.commit()
    assert len(audit_rows(session, "denied")) == 2

    revoked = client.post("/staff/api-keys/serang-web/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert stored(session, "serang-web").revoked_at is not None
    assert audit_rows(session, "api_key_revoked")[-1].actor == boss.username


def test_an_admin_makes_a_key_of_several_offices(client, session, make_account) -> None:
    make_key(session, "lebak-bridge", LEBAK)
    token = console(client, make_account("admin"))
    assert "lebak-bridge" in client.get("/staff/api-keys").get_data(as_text=True)
    ids = {o.code: o.id for o in session.scalars(select(Office)).all()}
    session.commit()
    made = client.post(
        "/staff/api-keys",
        data={"name": "siak-banten", "scope": "write", "csrf_token": token,
              "offices": [str(ids[SERANG]), str(ids[LEBAK])]},
    )  # fmt: skip
    assert made.status_code == 200
    assert sorted(o.code for o in stored(session, "siak-banten").offices) == [LEBAK, SERANG]
    none = client.post("/staff/api-keys", data={"name": "no-office", "scope": "read",
                                                "csrf_token": token})  # fmt: skip
    assert none.status_code == 400
    assert (
        client.post("/staff/api-keys/lebak-bridge/revoke", data={"csrf_token": token}).status_code
        == 303
    )


def test_operators_may_not_see_or_make_keys(client, session, make_account) -> None:
    assert sign_in(client, make_account("operator").username).status_code == 303
    token = csrf_token(client, "/staff/")
    assert client.get("/staff/api-keys").status_code == 403
    refused = client.post(
        "/staff/api-keys", data={"name": "mine", "scope": "write", "csrf_token": token}
    )
    assert refused.status_code == 403
    assert session.scalars(select(ApiKey)).first() is None
    session.commit()
    assert len(audit_rows(session, "denied")) == 2
