"""Safety with real processes, on SQLite and PostgreSQL: two schedulers at once publish and
send nothing twice; a dispatcher killed with SIGKILL in the middle of a batch loses nothing
and sends at most the message in flight again, with the same key; a provider that is down
leaves everything queued and retried."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from werkzeug.wrappers import Response

from tests.test_notify import ready_with_sms, sms_url
from tracker.models import AnnouncementItem, Channel, OutboxMessage, OutboxStatus, utcnow
from tracker.status import Status

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def environment(database_url: str, **settings: Any) -> dict[str, str]:
    """The processes' settings. They run on the real clock, so quiet hours are switched off
    by the setting: an SMS must go at whatever hour the suite runs."""
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
           "PUBLIC_BASE_URL": "https://cek.example.go.id", "NOTIFY_QUIET_HOURS": ""}  # fmt: skip
    env.update({key: str(value) for key, value in settings.items()})
    return env


def flask(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def keys_received(httpserver: Any) -> collections.Counter:
    return collections.Counter(request.headers["Idempotency-Key"] for request, _ in httpserver.log)


def states(session: Any) -> collections.Counter:
    session.expire_all()
    found = collections.Counter(session.scalars(select(OutboxMessage.status)))
    session.commit()
    return found


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {seconds} s"
        time.sleep(0.1)


def test_two_schedulers_at_once_publish_and_send_nothing_twice(
    database_url, make_request, session, httpserver
):
    httpserver.expect_request("/sms").respond_with_data("ok")
    made = [ready_with_sms(make_request, session) for _ in range(12)]
    env = environment(database_url, NOTIFY_SMS_URL=sms_url(httpserver), ANNOUNCE_SECONDS=1,
                      NOTIFY_SECONDS=1, NOTIFY_BATCH=3)  # fmt: skip
    schedulers = [flask(env, "jobs", "run") for _ in range(2)]
    try:
        wait_for(lambda: len(httpserver.log) >= len(made), 60, "every message arriving")
        time.sleep(3)  # both keep running: nothing more may arrive
    finally:
        for process in schedulers:
            process.send_signal(signal.SIGTERM)
        outputs = [process.communicate(timeout=60)[0] for process in schedulers]
    assert all(p.returncode == 0 for p in schedulers), outputs
    assert set(keys_received(httpserver).values()) == {1}
    assert len(keys_received(httpserver)) == len(made)
    published = session.execute(
        select(AnnouncementItem.request_id, func.count()).group_by(AnnouncementItem.request_id)
    ).all()
    session.commit()
    assert sorted(r for r, _ in published) == sorted(r.id for r in made)
    assert {n for _, n in published} == {1}
    assert states(session) == {OutboxStatus.SENT: len(made)}


def test_a_killed_dispatcher_loses_nothing(database_url, make_request, session, httpserver):
    def slow(_request: Any) -> Response:
        time.sleep(0.3)
        return Response("ok")

    httpserver.expect_request("/sms").respond_with_handler(slow)
    made = [ready_with_sms(make_request, session) for _ in range(15)]
    env = environment(database_url, NOTIFY_SMS_URL=sms_url(httpserver), NOTIFY_BATCH=50,
                      NOTIFY_CLAIM_SECONDS=2)  # fmt: skip
    assert flask(env, "jobs", "run-once", "announce").wait(timeout=60) == 0
    dispatcher = flask(env, "jobs", "run-once", "notify")
    wait_for(lambda: len(httpserver.log) >= 4, 30, "the first messages arriving")
    dispatcher.send_signal(signal.SIGKILL)
    dispatcher.wait(timeout=10)
    before = states(session)
    assert before[OutboxStatus.SENDING] >= 1  # claimed, some of them never sent
    time.sleep(2.5)  # the dead dispatcher's claims and lease go stale
    again = flask(env, "jobs", "run-once", "notify")
    output = again.communicate(timeout=60)[0]
    assert again.returncode == 0, output
    received = keys_received(httpserver)
    assert states(session) == {OutboxStatus.SENT: len(made)}
    assert len(received) == len(made)  # every message arrived
    repeated = [key for key, times in received.items() if times > 1]
    assert len(repeated) <= 1 and all(received[key] == 2 for key in repeated)


def test_a_provider_that_is_down_keeps_everything_queued(
    database_url, make_request, session, httpserver
):
    httpserver.expect_request("/sms").respond_with_data("down", status=503)
    made = [ready_with_sms(make_request, session) for _ in range(5)]
    env = environment(database_url, NOTIFY_SMS_URL=sms_url(httpserver), NOTIFY_BACKOFF_SECONDS=1)
    assert flask(env, "jobs", "run-once", "announce").wait(timeout=60) == 0
    assert flask(env, "jobs", "run-once", "notify").wait(timeout=60) == 0
    assert states(session) == {OutboxStatus.PENDING: len(made)}
    attempts = set(session.scalars(select(OutboxMessage.attempts)))
    session.commit()
    assert attempts == {1}
    httpserver.clear()
    httpserver.expect_request("/sms").respond_with_data("ok")
    time.sleep(1.1)
    assert flask(env, "jobs", "run-once", "notify").wait(timeout=60) == 0
    assert states(session) == {OutboxStatus.SENT: len(made)}
    assert len(keys_received(httpserver)) == len(made)


def test_a_real_dispatcher_keeps_the_quiet_hours_it_is_given(
    database_url, make_request, session, httpserver
):
    """The setting reaches a real process: with quiet hours around the present moment (in
    the office's zone) the SMS waits, and with none it goes."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    httpserver.expect_request("/sms").respond_with_data("ok")
    ready_with_sms(make_request, session)
    here = dt.datetime.now(ZoneInfo("Asia/Jakarta"))
    around = f"{here - dt.timedelta(hours=2):%H:%M}-{here + dt.timedelta(hours=2):%H:%M}"
    quiet = environment(database_url, NOTIFY_SMS_URL=sms_url(httpserver), NOTIFY_QUIET_HOURS=around)
    assert flask(quiet, "jobs", "run-once", "announce").wait(timeout=60) == 0
    assert flask(quiet, "jobs", "run-once", "notify").wait(timeout=60) == 0
    assert states(session) == {OutboxStatus.PENDING: 1} and not httpserver.log
    session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))  # due again now
    session.commit()
    none = environment(database_url, NOTIFY_SMS_URL=sms_url(httpserver))
    assert flask(none, "jobs", "run-once", "notify").wait(timeout=60) == 0
    assert states(session) == {OutboxStatus.SENT: 1} and len(httpserver.log) == 1


def test_the_run_line_serves_web_and_scheduler(database_url, app, client, make_account,
                                                make_request, session, httpserver):  # fmt: skip
    """``serve`` (the README's run line) starts the scheduler too: a document marked ready in
    the console appears in /pengumuman, the Atom feed and the JSON within the announce
    interval, and its message arrives at the configured receiver."""
    import urllib.request

    from tests.conftest import free_port
    from tests.factories import csrf_token, sign_in

    httpserver.expect_request("/sms").respond_with_data("ok")
    request = make_request(Status.PROCESSING)
    request.consent_notify, request.channel = True, Channel.SMS
    session.commit()
    point = make_request.point("srg-dinas")
    port = free_port()
    env = environment(database_url, NOTIFY_SMS_URL=sms_url(httpserver), ANNOUNCE_SECONDS=2,
                      NOTIFY_SECONDS=1, NOTIFY_BACKOFF_SECONDS=1)  # fmt: skip
    server = flask(env, "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"

    def fetch(path: str) -> str:
        with urllib.request.urlopen(base + path, timeout=5) as answer:
            return answer.read().decode()

    try:
        wait_for(lambda: _answers(fetch, "/"), 30, "the web server answering")
        operator = make_account("operator")
        sign_in(client, operator.username)
        moved = client.post(
            f"/staff/r/{request.receipt}/move/ready",
            data={"ready-to": "ready", "ready-version": str(request.version),
                  "ready-point": str(point.id), "csrf_token": csrf_token(client, "/staff/")},
        )  # fmt: skip
        assert moved.status_code == 303
        session.refresh(request)
        number = request.pickup_number
        session.commit()
        # Within the interval set here (2 s) and the machine's slack, far below the default
        # interval (300 s): the scheduler took the setting.
        wait_for(lambda: number in fetch("/pengumuman?titik=srg-dinas"), 60, "the announcement")
        assert number in fetch("/pengumuman.atom")
        assert number in fetch("/api/v1/announcements?point=srg-dinas")
        wait_for(lambda: len(httpserver.log) == 1, 30, "the message arriving")
        assert number in httpserver.log[0][0].get_data(as_text=True)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=60)[0]
    assert "Scheduler running" in output


def _answers(fetch: Any, path: str) -> bool:
    try:
        fetch(path)
    except OSError:
        return False
    return True
