"""Fixtures: the app on every database under test, a client, a runner, a session, factories,
a live server and a real Chromium.

The suite runs on SQLite always and on PostgreSQL when ``TEST_DATABASE_URL`` names a server
(``postgresql+psycopg://postgres@127.0.0.1:5432/test``). A test that needs PostgreSQL,
Redis or Chromium skips when it is missing, and fails instead when ``CI`` or
``SIAPAMBIL_REQUIRE_SERVICES`` is set, so that CI never passes by skipping.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from tests.factories import AccountFactory, RequestFactory, sign_in
from tracker import create_app, demo, schema
from tracker.db import make_engine
from tracker.models import Base

# The property tests check answers, not speed: a run of one example can take longer than
# Hypothesis's 200 ms when another test's processes share the two cores, and a timing that
# does not repeat would fail the run as "flaky". Speed is measured under bench/.
hypothesis.settings.register_profile("siapambil", deadline=None)
hypothesis.settings.load_profile("siapambil")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def screenshot_path(name: str, tmp_path: Path) -> str:
    """Where a browser test saves its screenshot: the committed ``docs/screenshots/`` only
    when ``UPDATE_SCREENSHOTS=1`` asks for it, so that a test run leaves the tree clean."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return str(SCREENSHOTS / name)
    return str(tmp_path / name)


def services_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("SIAPAMBIL_REQUIRE_SERVICES"))


def missing(what: str) -> None:
    """Skip for want of ``what`` on a developer's machine; fail in CI."""
    if services_required():
        pytest.fail(f"{what} is required in CI but is not available", pytrace=False)
    pytest.skip(f"{what} is not available")


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
MOVED_CLOCK = "SIAPAMBIL_TEST_NOW"


@pytest.fixture(scope="session", autouse=True)
def moved_clock() -> Iterator[Any]:
    """With ``SIAPAMBIL_TEST_NOW=2027-04-21T15:30Z`` the whole run happens from that instant on
    (the clock ticks on from there), to show that no test depends on the hour, weekday, date
    or year it runs at. Processes a test starts keep the real clock (time-machine moves this
    process only), so run it with ``-m "not slow"``."""
    instant = os.environ.get(MOVED_CLOCK)
    if not instant:
        yield None
        return
    import time_machine

    with time_machine.travel(dt.datetime.fromisoformat(instant), tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="session", params=BACKENDS)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database with the demo places: a template file (SQLite) or a server URL."""
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("db") / "template.sqlite"
        engine = make_engine(f"sqlite:///{template}")
        _prepare(engine)
        engine.dispose()
        yield f"sqlite:///{template}"
        return
    yield from _postgres_database()


def _prepare(engine: Any) -> None:
    schema.upgrade(engine)
    with Session(engine.execution_options(sqlite_writer=True)) as session:
        demo.load_places(session)
        session.commit()


def _postgres_database() -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        missing("PostgreSQL (set TEST_DATABASE_URL)")
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    name = f"siapambil_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server is "missing"
        missing(f"PostgreSQL at {base} ({error.__class__.__name__})")
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    _prepare(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    with Session(engine) as session:
        demo.load_places(session)
        session.commit()
    engine.dispose()


@pytest.fixture
def database_url(database: str, tmp_path: Path) -> Iterator[str]:
    """This test's own database: a copy of the template, or the server's tables emptied after."""
    if database.startswith("sqlite"):
        copy = tmp_path / "test.sqlite"
        shutil.copy(database.removeprefix("sqlite:///"), copy)
        yield f"sqlite:///{copy}"
        return
    yield database
    _reset_postgres(database)


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": "https://cek.example.go.id",
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASHING": "CHEAPEST",  # argon2-cffi's profile for tests (see test_staff_auth)
        # A bridge's list shows a change at once; tests/test_api_keys.py checks the default.
        "CHANGES_SETTLE_SECONDS": 0,
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    yield app
    app.extensions["siapambil.db"]["engine"].dispose()


@pytest.fixture
def client(app: Flask, session: Session) -> Any:
    """A test client. Before each of its requests (and those of any other client of this
    app) the test's own session commits, as a second user of the database would: on SQLite
    its open transaction would otherwise hold the lock, or the snapshot, the request needs."""

    class Client(FlaskClient):
        def open(self, *args: Any, **kwargs: Any) -> Any:
            if session.in_transaction():
                session.commit()
            return super().open(*args, **kwargs)

    app.test_client_class = Client
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A writing session of the test's own, outside any app context (so that requests made by
    the client get theirs, as in production); tests commit what views should see."""
    session = app.extensions["siapambil.db"]["writer"]()
    yield session
    session.close()


@pytest.fixture
def make_request(app: Flask, session: Session) -> Callable[..., Any]:
    """``make_request(status=Status.READY, name=..., nik=...)``: a committed request that went
    through the real workflow to reach ``status``."""
    return RequestFactory(app, session)


@pytest.fixture
def make_account(session: Session) -> Callable[..., Any]:
    """``make_account("supervisor", office="36.02")``: a committed staff account."""
    return AccountFactory(session)


@pytest.fixture
def operator(make_account: Callable[..., Any], client: Any) -> Any:
    """A client signed in as an operator of office 36.73 (Serang)."""
    account = make_account("operator")
    assert sign_in(client, account.username).status_code == 303
    return account


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP from a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@dataclass
class Mailbox:
    """What an SMTP server on loopback received."""

    port: int
    messages: list[Any]


@pytest.fixture
def smtp_receiver() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    box = Mailbox(port=free_port(), messages=[])

    class Handler:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        missing(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    """A page at an office PC's screen, for the console."""
    yield from _screen(browser, 1280, 900, "id-ID")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A phone, 360 pixels wide."""
    yield from _screen(browser, 360, 740, "id-ID")


@pytest.fixture
def tv(browser: Any) -> Iterator[Any]:
    """A lobby TV: a 1080p screen whose browser says nothing about the people watching."""
    yield from _screen(browser, 1920, 1080, "en-US")


def _screen(browser: Any, width: int, height: int, locale: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
