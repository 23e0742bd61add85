"""Signing in and out: argon2 passwords, renewed sessions that end on sign-out, deactivation
and idleness, throttled failures with one answer for every kind of failure, CSRF."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import CSRF, PASSWORD, csrf_token, sign_in
from tracker import create_app
from tracker.accounts import operations as accounts
from tracker.config import ConfigError
from tracker.models import AuditEntry, StaffAccount


def actions(session: Any) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_sign_in_opens_the_console_and_is_audited(client, make_account, session):
    account = make_account("operator")
    answer = sign_in(client, account.username)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/staff/")
    home = client.get("/staff/")
    assert home.status_code == 200 and account.username in home.get_data(as_text=True)
    assert "sign_in" in actions(session)
    stored = session.scalars(select(StaffAccount.password_hash)).first()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_console_pages_need_an_account(client):
    for path in ("/staff/", "/staff/intake", "/staff/batch", "/staff/points"):
        answer = client.get(path)
        assert answer.status_code == 302 and "/staff/login" in answer.headers["Location"]


def test_unknown_user_and_wrong_password_get_the_same_answer(client, make_account, session):
    account = make_account("operator")
    wrong = sign_in(client, account.username, "not-the-password-1")
    unknown = sign_in(client, "nobody-here", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    text_wrong = CSRF.sub("", wrong.get_data(as_text=True).replace(account.username, "NAME"))
    text_unknown = CSRF.sub("", unknown.get_data(as_text=True).replace("nobody-here", "NAME"))
    assert text_wrong == text_unknown
    assert "Nama pengguna atau kata sandi salah" in text_wrong or "wrong" in text_wrong
    assert actions(session).count("sign_in_failed") == 2


def test_a_switched_off_account_cannot_sign_in(client, make_account, session):
    account = make_account("operator")
    accounts.set_active(account, False)
    session.commit()
    assert sign_in(client, account.username).status_code == 401


def test_sign_in_renews_the_session(client, make_account):
    account = make_account("operator")
    before = csrf_token(client)
    with client.session_transaction() as cookie_session:
        cookie_session["planted"] = "before sign-in"
    sign_in(client, account.username)
    after = csrf_token(client, "/staff/intake")
    assert after != before
    with client.session_transaction() as cookie_session:
        assert "planted" not in cookie_session


def test_sign_out_ends_the_session_and_a_copied_cookie_stops_working(app, client, operator):
    copied = client.get_cookie("siapambil_session").value
    token = csrf_token(client, "/staff/")
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/staff/").status_code == 302
    thief = app.test_client()
    thief.set_cookie("siapambil_session", copied)
    answer = thief.get("/staff/")
    assert answer.status_code == 302 and "/staff/login" in answer.headers["Location"]


def test_switching_an_account_off_ends_its_sessions(app, client, make_account):
    worker = make_account("operator")
    boss = make_account("supervisor")
    sign_in(client, worker.username)
    assert client.get("/staff/").status_code == 200
    other = app.test_client()
    sign_in(other, boss.username)
    token = csrf_token(other, "/staff/accounts")
    answer = other.post(f"/staff/accounts/{worker.username}/off", data={"csrf_token": token})
    assert answer.status_code == 303
    assert client.get("/staff/").status_code == 302


def test_an_idle_session_ends(client, operator, session):
    with client.session_transaction() as cookie_session:
        cookie_session["seen"] = int(time.time()) - 31 * 60
    answer = client.get("/staff/")
    assert answer.status_code == 302 and "/staff/login" in answer.headers["Location"]
    assert client.get("/staff/").status_code == 302
    assert "sign_out_idle" in actions(session)


def test_an_active_session_stays(client, operator):
    with client.session_transaction() as cookie_session:
        cookie_session["seen"] = int(time.time()) - 29 * 60
    assert client.get("/staff/").status_code == 200


def test_a_form_without_its_csrf_token_changes_nothing(client, operator):
    answer = client.post("/staff/logout")
    assert answer.status_code == 400
    assert "Muat ulang" in answer.get_data(as_text=True) or "Reload" in answer.get_data(
        as_text=True
    )
    assert client.get("/staff/").status_code == 200  # still signed in
    forged = client.post("/staff/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 400


def test_sign_out_is_never_a_get(client, operator):
    assert client.get("/staff/logout").status_code == 405
    assert client.get("/staff/").status_code == 200


def test_the_next_address_stays_on_this_site(client, make_account):
    account = make_account("operator")
    token = csrf_token(client)
    for target, expected in (
        ("/staff/batch", "/staff/batch"),
        ("/staff/batch?point=2", "/staff/batch?point=2"),  # control: a console path as it is
        ("/staff", "/staff"),
        ("https://evil.example/", "/staff/"),
        ("//evil.example/staff", "/staff/"),
        ("/staffroom", "/staff/"),
        # dot segments that a browser resolves to a path outside the console
        ("/staff/../api/v1/docs", "/staff/"),
        ("/staff/%2E%2e/api/v1/docs", "/staff/"),
        ("/staff/batch/..", "/staff/"),
    ):
        answer = client.post(
            "/staff/login",
            data={"username": account.username, "password": PASSWORD, "csrf_token": token,
                  "next": target},
        )  # fmt: skip
        assert answer.headers["Location"].endswith(expected), target
        token = csrf_token(client)


@pytest.fixture
def limited_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "RATELIMIT_ENABLED": True,
        "LOGIN_ACCOUNT_LIMIT": "3 per 15 minutes",
        "LOGIN_CLIENT_LIMIT": "6 per 10 minutes",
    }


@pytest.fixture
def limited(limited_config: dict[str, Any], app: Any) -> Any:
    """An app with the throttles on, beside ``app`` (whose limits are off): each app has its
    own limiter."""
    from tracker import create_app

    app = create_app(limited_config)
    yield app
    app.extensions["siapambil.db"]["engine"].dispose()


def test_failed_sign_ins_are_throttled_per_account(limited, make_account):
    account = make_account("operator")
    client = limited.test_client()
    for _ in range(3):
        assert sign_in(client, account.username, "wrong-password-9").status_code == 401
    blocked = sign_in(client, account.username)  # even the right password waits now
    assert blocked.status_code == 429
    # An unknown name is throttled the same way and answered the same way.
    for _ in range(3):
        sign_in(client, "ghost", "wrong-password-9")
    ghost = sign_in(client, "ghost", "wrong-password-9")
    assert ghost.status_code == 429
    assert ghost.get_data(as_text=True) == blocked.get_data(as_text=True)


def test_failed_sign_ins_are_throttled_per_client(limited, make_account):
    account = make_account("operator")
    client = limited.test_client()
    for number in range(6):
        assert sign_in(client, f"someone{number}", "wrong-password-9").status_code == 401
    assert sign_in(client, account.username).status_code == 429
    # Another address signs in (a POST: the only method that is counted) as if nothing happened.
    elsewhere = limited.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert sign_in(elsewhere, "someone-else", "wrong-password-9").status_code == 401
    assert sign_in(elsewhere, account.username).status_code == 303


def test_successful_sign_ins_do_not_count(limited, make_account):
    account = make_account("operator")
    for _ in range(5):
        client = limited.test_client()
        assert sign_in(client, account.username).status_code == 303


def test_weak_passwords_are_refused(make_account, session):
    from tracker.accounts.operations import AccountError
    from tracker.models import Office, Role

    office = session.scalars(select(Office)).first()
    for weak in ("short1", "password123", "qwertyuiop", "dukcapil2026"):
        with pytest.raises(AccountError):
            accounts.create(
                session, username="weak", password=weak, office=office, role=Role.OPERATOR
            )


def test_a_real_start_hashes_with_argon2s_default_profile_and_refuses_the_test_one(
    app_config, session
):
    """The suite hashes with argon2-cffi's CHEAPEST profile to save time; an app started
    without the setting hashes with the default (argon2id, 64 MiB, 3 passes), and an app
    that is not a test refuses CHEAPEST, naming the setting."""
    stored = accounts.hasher.hash(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=8,t=1,p=1$")  # control: the suite's profile
    real = {key: value for key, value in app_config.items() if key != "PASSWORD_HASHING"}
    try:
        create_app(real).extensions["siapambil.db"]["engine"].dispose()
        assert accounts.hasher.hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        with pytest.raises(ConfigError, match="PASSWORD_HASHING='CHEAPEST'"):
            create_app({**real, "TESTING": False, "PASSWORD_HASHING": "CHEAPEST"})
        with pytest.raises(ConfigError, match="PASSWORD_HASHING='md5'"):
            create_app({**real, "PASSWORD_HASHING": "md5"})
    finally:
        accounts.use_profile(app_config["PASSWORD_HASHING"])


def test_a_sign_in_stores_the_password_again_under_a_new_profile(
    app_config, client, make_account, session
):
    """A deployment that changes PASSWORD_HASHING keeps every account: the old hash still
    checks, and the sign-in stores the password under the new profile."""
    account, control = make_account("operator"), make_account("operator")
    kept = control.password_hash
    assert account.password_hash.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    session.commit()
    # Control: a sign-in under the profile the hash was made with leaves it as it is.
    assert sign_in(client, control.username).status_code == 303
    other = create_app({**app_config, "PASSWORD_HASHING": "RFC_9106_LOW_MEMORY"})
    try:
        assert sign_in(other.test_client(), account.username).status_code == 303
    finally:
        other.extensions["siapambil.db"]["engine"].dispose()
        accounts.use_profile(app_config["PASSWORD_HASHING"])
    session.expire_all()
    assert account.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert control.password_hash == kept
    session.commit()
