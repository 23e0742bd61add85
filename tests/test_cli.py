from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tracker import create_app
from tracker.config import ConfigError, parse_bool
from tracker.models import DailyFigure, Request, StatusEvent
from tracker.status import Status

GROUPED = r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}"


def test_demo_prints_receipts_of_every_status(runner, session) -> None:
    result = runner.invoke(args=["demo", "--per-status", "3", "--seed", "7"])
    assert result.exit_code == 0, result.output
    for status in Status:
        assert re.search(rf"^\s+{status.value}\s+{GROUPED}\s", result.output, re.M), status
    counts = dict(
        session.execute(select(Request.status, func.count()).group_by(Request.status)).all()
    )
    assert counts == {status: 3 for status in Status}


def test_demo_requests_have_histories_that_lead_to_their_status(runner, session) -> None:
    result = runner.invoke(args=["demo", "--requests", "500", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(Request)) == 500
    last = (
        select(StatusEvent.request_id, func.max(StatusEvent.id).label("last"))
        .group_by(StatusEvent.request_id)
        .subquery()
    )
    rows = session.execute(
        select(Request.status, Request.version, StatusEvent.to_status, func.count())
        .join(last, last.c.request_id == Request.id)
        .join(StatusEvent, StatusEvent.id == last.c.last)
        .group_by(Request.status, Request.version, StatusEvent.to_status)
    ).all()
    assert all(status == final for status, _version, final, _count in rows)
    ready = session.scalars(select(Request).where(Request.status == Status.READY)).all()
    assert ready and all(r.pickup_number and r.window_ends > r.window_starts for r in ready)


@pytest.mark.parametrize(("flag", "rolled"), [("--no-statistics", False), ("--statistics", True)])
def test_demo_leaves_the_roll_up_out_when_asked(runner, session, flag, rolled) -> None:
    """A benchmark's fill leaves its past to the deadlines job (the default above 100,000
    requests); ``--statistics`` rolls it up at once."""
    result = runner.invoke(args=["demo", "--requests", "300", "--seed", "5", flag])
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(Request)) == 300
    figures = session.scalar(select(func.count()).select_from(DailyFigure))
    assert (figures > 0) is rolled
    assert ("not rolled up" in result.output) is not rolled


def test_production_refuses_to_start_without_a_secret_key(database_url) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV": "production", "SECRET_KEY": None, "DATABASE_URL": database_url})


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("ON", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("Off", False),
    ],
)
def test_booleans_read_every_usual_spelling(raw, value) -> None:
    assert parse_bool("X", raw) is value


def test_a_wrong_boolean_is_told_clearly() -> None:
    with pytest.raises(ConfigError, match="RATELIMIT_ENABLED='maybe'"):
        parse_bool("RATELIMIT_ENABLED", "maybe")


def test_environment_settings_are_read(monkeypatch, database_url) -> None:
    monkeypatch.setenv("RATELIMIT_ENABLED", "off")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://cek.disdukcapil.example/")
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = create_app({"SECRET_KEY": "k"})
    assert app.config["RATELIMIT_ENABLED"] is False
    assert app.config["PUBLIC_BASE_URL"] == "https://cek.disdukcapil.example"


def test_serve_runs_the_web_server(tmp_path) -> None:
    """The README's run line ends in ``serve``: it must really serve, from a fresh database."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--port", str(port)],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as answer:
                    assert answer.status == 200
                    assert "Nomor tanda terima" in answer.read().decode()
                    break
            except OSError:
                assert time.monotonic() < deadline, "serve did not answer within 20 s"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_staff_create_takes_the_password_from_standard_input(runner, session, client) -> None:
    from tests.factories import PASSWORD, sign_in

    result = runner.invoke(
        args=["staff", "create", "Rina.K", "--office", "36.02", "--role", "supervisor"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert sign_in(client, "rina.k").status_code == 303
    weak = runner.invoke(
        args=["staff", "create", "budi", "--office", "36.02", "--role", "operator"],
        input="password1\n",
    )
    assert weak.exit_code != 0 and any(w in weak.output.lower() for w in ("kata sandi", "password"))
    nowhere = runner.invoke(
        args=["staff", "create", "budi", "--office", "99.99", "--role", "operator"],
        input=PASSWORD + "\n",
    )
    assert nowhere.exit_code != 0 and "99.99" in nowhere.output
    off = runner.invoke(args=["staff", "deactivate", "rina.k"])
    assert off.exit_code == 0
    assert client.get("/staff/").status_code == 302  # the session ended with the account


def test_demo_prints_how_to_sign_in(runner, client) -> None:
    from tests.factories import csrf_token

    result = runner.invoke(args=["demo", "--per-status", "1", "--seed", "2"])
    assert result.exit_code == 0, result.output
    logins = re.findall(r"username (demo-\w+)\s+password (\S+)", result.output)
    assert [name for name, _ in logins] == ["demo-operator", "demo-supervisor", "demo-admin"]
    for username, password in logins:
        token = csrf_token(client)
        answer = client.post(
            "/staff/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert answer.status_code == 303
        client.post("/staff/logout", data={"csrf_token": csrf_token(client, "/staff/")})
