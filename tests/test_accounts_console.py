"""Accounts opened in the console: who may open which, the one-time password shown once and
replaced at first sign-in, the refusals and the audit trail; migration 0007."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, inspect, select, text

from tests.factories import PASSWORD, csrf_token, sign_in
from tracker import schema
from tracker.models import AuditEntry, Office, Role, StaffAccount

STRONG = "teh-manis-sore-hari-9"
ONE_TIME = re.compile(r'id="one-time-password">([a-z2-9]{4}(?:-[a-z2-9]{4}){3})<')


def office_id(session: Any, code: str) -> int:
    found = session.scalars(select(Office.id).where(Office.code == code)).one()
    session.rollback()
    return found


def open_account(client: Any, **fields: Any) -> Any:
    token = csrf_token(client, "/staff/accounts")
    data = {"username": "dewi", "full_name": "Dewi Lestari", "role": "operator", **fields}
    return client.post("/staff/accounts", data={**data, "csrf_token": token})


def account(session: Any, username: str) -> StaffAccount | None:
    session.expire_all()
    found = session.scalars(select(StaffAccount).where(StaffAccount.username == username)).first()
    session.rollback()
    return found


def audit_rows(session: Any, action: str) -> list[AuditEntry]:
    session.expire_all()
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
    session.rollback()
    return rows


def one_time_password(answer: Any) -> str:
    assert answer.status_code == 200
    found = ONE_TIME.search(answer.get_data(as_text=True))
    assert found, "no one-time password on the page"
    return found.group(1)


def set_password(client: Any, current: str, new: str, again: str | None = None) -> Any:
    token = csrf_token(client, "/staff/password")
    data = {"current": current, "new": new, "again": new if again is None else again}
    return client.post("/staff/password", data={**data, "csrf_token": token})


def test_a_supervisor_opens_an_operator_and_sees_the_password_once(client, make_account, session):
    boss = make_account("supervisor")
    sign_in(client, boss.username)
    answer = open_account(client)
    password = one_time_password(answer)
    made = account(session, "dewi")
    assert made is not None and made.role == Role.OPERATOR
    assert made.office_id == boss.office_id and made.full_name == "Dewi Lestari"
    assert made.must_change_password
    assert made.password_hash.startswith("$argon2id$") and password not in made.password_hash
    again = client.get("/staff/accounts").get_data(as_text=True)
    assert password not in again and "one-time-password" not in again
    assert "dewi" in again  # listed among the office's accounts
    # sent again (a reload of the answer): the name is taken, nothing is shown
    repeated = open_account(client)
    assert repeated.status_code == 400 and password not in repeated.get_data(as_text=True)


def test_the_new_account_must_choose_its_password_first(app, client, make_account, session):
    boss = make_account("supervisor")
    sign_in(client, boss.username)
    password = one_time_password(open_account(client))
    newcomer = app.test_client()
    answer = sign_in(newcomer, "dewi", password)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/staff/password")
    for path in ("/staff/", "/staff/intake", "/staff/queue/processing", "/staff/search?q=x"):
        sent = newcomer.get(path)
        assert sent.status_code == 302, path
        assert sent.headers["Location"].endswith("/staff/password"), path
    page = newcomer.get("/staff/password")
    assert page.status_code == 200 and "sekali pakai" in page.get_data(as_text=True)
    assert set_password(newcomer, password, STRONG).status_code == 303
    assert newcomer.get("/staff/").status_code == 200  # the console, at last
    made = account(session, "dewi")
    assert not made.must_change_password
    assert [row.target for row in audit_rows(session, "password_set")] == ["dewi"]
    other = app.test_client()  # the one-time password no longer works; the new one does
    assert sign_in(other, "dewi", password).status_code == 401
    assert sign_in(other, "dewi", STRONG).headers["Location"].endswith("/staff/")


def test_setting_the_password_ends_the_other_sessions(app, client, make_account):
    worker = make_account("operator")
    sign_in(client, worker.username)
    elsewhere = app.test_client()
    sign_in(elsewhere, worker.username)
    assert set_password(client, PASSWORD, STRONG).status_code == 303
    assert client.get("/staff/").status_code == 200
    assert elsewhere.get("/staff/").status_code == 302


def test_a_weak_or_mistyped_new_password_is_refused_with_the_reason(
    app, client, make_account, session
):
    boss = make_account("supervisor")
    sign_in(client, boss.username)
    password = one_time_password(open_account(client))
    newcomer = app.test_client()
    sign_in(newcomer, "dewi", password)
    weak = set_password(newcomer, password, "password123")
    body = weak.get_data(as_text=True)
    assert weak.status_code == 400
    assert "terlalu umum" in body or "too common" in body
    short = set_password(newcomer, password, "ab1")
    assert short.status_code == 400 and ("8" in short.get_data(as_text=True))
    differ = set_password(newcomer, password, STRONG, STRONG + "x")
    assert differ.status_code == 400
    wrong = set_password(newcomer, "not-the-one-time", STRONG)
    assert wrong.status_code == 401
    assert "salah" in wrong.get_data(as_text=True) or "wrong" in wrong.get_data(as_text=True)
    assert account(session, "dewi").must_change_password
    assert newcomer.get("/staff/").headers["Location"].endswith("/staff/password")
    assert audit_rows(session, "password_set") == []


def test_a_supervisor_cannot_open_an_admin_or_another_offices_account(
    client, make_account, session
):
    boss = make_account("supervisor")
    sign_in(client, boss.username)
    away = office_id(session, "36.02")
    forged = [
        {"username": "kepala", "role": "admin"},
        {"username": "tetangga", "office": str(away)},
    ]
    for fields in forged:
        answer = open_account(client, **fields)
        assert answer.status_code == 403, fields
        assert account(session, fields["username"]) is None
    denied = audit_rows(session, "denied")
    assert [row.target for row in denied] == ["kepala", "tetangga"]
    assert all(row.details["attempted"] == "create_account" for row in denied)
    assert audit_rows(session, "account_created") == []
    page = client.get("/staff/accounts").get_data(as_text=True)
    assert 'value="admin"' not in page and 'name="office"' not in page  # never offered


def test_an_operator_cannot_open_accounts(client, operator, session):
    token = csrf_token(client, "/staff/")
    answer = client.post(
        "/staff/accounts",
        data={"username": "dewi", "full_name": "Dewi", "role": "operator", "csrf_token": token},
    )
    assert answer.status_code == 403
    assert client.get("/staff/accounts").status_code == 403
    assert account(session, "dewi") is None
    assert len(audit_rows(session, "denied")) == 2


def test_an_admin_opens_an_account_of_another_office_and_any_role(client, make_account, session):
    admin = make_account("admin")
    sign_in(client, admin.username)
    away = office_id(session, "36.02")
    page = client.get("/staff/accounts").get_data(as_text=True)
    assert 'name="office"' in page and 'value="admin"' in page
    one_time_password(open_account(client, username="kepala-lebak", office=str(away), role="admin"))
    made = account(session, "kepala-lebak")
    assert made.office_id == away and made.role == Role.ADMIN and made.must_change_password


def test_openings_are_audited_without_the_password(client, make_account, session):
    boss = make_account("supervisor")
    sign_in(client, boss.username)
    password = one_time_password(open_account(client))
    (row,) = audit_rows(session, "account_created")
    assert row.actor == boss.username and row.target == "dewi"
    assert row.details == {"role": "operator", "office": "36.73"}
    session.expire_all()
    everything = session.execute(text("SELECT * FROM audit_trail")).all()
    session.rollback()
    assert password not in repr(everything)
    assert password.replace("-", "") not in repr(everything)


def test_the_staff_create_command_still_makes_ready_accounts(runner, client, session):
    answer = runner.invoke(
        args=["staff", "create", "siti", "--office", "36.73", "--role", "operator"],
        input=STRONG + "\n",
    )
    assert answer.exit_code == 0, answer.output
    assert sign_in(client, "siti", STRONG).headers["Location"].endswith("/staff/")
    assert client.get("/staff/").status_code == 200


def test_migration_0007_keeps_existing_accounts_signing_in(app, client, make_account):
    worker = make_account("operator")
    engine = app.extensions["siapambil.db"]["engine"]
    try:
        schema.downgrade(engine, "0006")
        columns = [c["name"] for c in inspect(engine).get_columns("staff_accounts")]
        assert "must_change_password" not in columns
        schema.upgrade(engine, "head")
        with engine.connect() as connection:
            flags = (
                connection.execute(text("SELECT must_change_password FROM staff_accounts"))
                .scalars()
                .all()
            )
            counted = connection.scalar(select(func.count()).select_from(StaffAccount))
        assert counted == 1 and flags == [False]
        assert sign_in(client, worker.username).headers["Location"].endswith("/staff/")
    finally:
        schema.upgrade(engine)


def test_guessing_the_current_password_is_throttled(app_config, make_account):
    from tracker import create_app

    limited = create_app({**app_config, "RATELIMIT_ENABLED": True,
                          "LOGIN_ACCOUNT_LIMIT": "3 per 15 minutes"})  # fmt: skip
    try:
        worker = make_account("operator")
        client = limited.test_client()
        sign_in(client, worker.username)
        for _ in range(3):
            assert set_password(client, "a-wrong-guess-1", STRONG).status_code == 401
        assert set_password(client, PASSWORD, STRONG).status_code == 429
    finally:
        limited.extensions["siapambil.db"]["engine"].dispose()


def test_every_console_page_links_to_the_password_page(client, operator):
    assert 'href="/staff/password"' in client.get("/staff/").get_data(as_text=True)
