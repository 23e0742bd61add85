"""Watching the service, in process and on every database: liveness touches nothing,
readiness and job health say what fails and answer 503, the metrics count what happened
(by route rule, never a receipt) and only for the allowed addresses, and JSON logs write one
masked line per request."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from jobs import lease, runner, scheduler, work
from tracker import create_app, receipts
from tracker.config import ConfigError
from tracker.db import make_engine, unit_of_work
from tracker.models import Channel, JobLease, Office, utcnow
from tracker.outbox import operations as outbox
from tracker.status import Status
from tracker.watch import health, logs
from tracker.watch.metrics import REGISTRY
from tracker.watch.views import WATCH

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"  # port 1: refused at once


def scraped(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape of ``/metrics``, by name and labels."""
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.status_code
    assert answer.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def break_database(app: Any) -> None:
    """Point the app's engine, sessions and readiness probe at a server that is not there."""
    broken = make_engine(UNREACHABLE, poolclass=NullPool)
    factories = app.extensions["siapambil.db"]
    factories["engine"] = broken
    factories["reader"].configure(bind=broken)
    factories["writer"].configure(bind=broken)
    app.extensions[WATCH]["probe"] = broken


# Liveness -----------------------------------------------------------------------------


def test_healthz_answers_with_the_database_and_redis_gone_and_sets_no_cookie(
    app_config, operator, client
) -> None:
    signed_in = client.get_cookie("siapambil_session")
    assert signed_in is not None
    app = create_app(
        {**app_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1"}
    )
    client = app.test_client()
    client.set_cookie("siapambil_session", signed_in.value)  # a staff session, kept fresh
    gone = REGISTRY.get_sample_value("siapambil_rate_limit_storage_errors_total") or 0.0
    # Control: Redis is gone, and a look-up tries it (the limit fails open and counts it).
    assert client.get("/cek?no=7KQ2-M9XA-4RTC").status_code == 400
    gone += 1
    assert REGISTRY.get_sample_value("siapambil_rate_limit_storage_errors_total") == gone
    assert "Set-Cookie" in client.get("/?lang=en").headers  # control: a page sets cookies
    break_database(app)
    answer = client.get("/healthz?lang=en")
    assert answer.status_code == 200
    assert REGISTRY.get_sample_value("siapambil_rate_limit_storage_errors_total") == gone
    assert answer.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in answer.headers  # no session refreshed, no language kept
    for path, sessionless in (("/healthz", True), ("/metrics", True), ("/", False)):
        with app.test_request_context(
            path, headers={"Cookie": f"siapambil_session={signed_in.value}"}
        ):
            assert app.session_interface.is_null_session(flask.session) is sessionless, path
    # Control: the same client's other answers do reach the database.
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz/jobs").status_code == 503


# Readiness ----------------------------------------------------------------------------


def test_readyz_is_ok_at_head_or_past_it_and_fails_when_migrations_are_behind(
    app, client, session
) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    head = health.head_revision()
    assert body["checks"]["migrations"] == {"ok": True, "current": head, "head": head}
    session.execute(text("UPDATE alembic_version SET version_num = '0007'"))
    session.commit()
    try:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        body = answer.get_json()
        assert body["status"] == "fail"
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["migrations"] == {"ok": False, "current": "0007", "head": head}
        # A later release's migrations ran first (the upgrade's order): this web still serves.
        session.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        session.commit()
        answer = client.get("/readyz")
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["checks"]["migrations"] == {
            "ok": True, "current": "0099", "head": head, "newer": True,
        }  # fmt: skip
    finally:
        session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        session.commit()


def test_readyz_fails_with_a_database_that_is_gone(app, client) -> None:
    break_database(app)
    answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert checks["database"] == {"ok": False, "error": "OperationalError"}
    assert checks["migrations"]["ok"] is False
    assert "127.0.0.1" not in answer.get_data(as_text=True)  # no address for the world


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung database)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for connection in held:
        connection.close()
    listener.close()


def test_readyz_gives_up_on_a_database_that_does_not_answer_within_a_second(
    app_config, silent_server
) -> None:
    url = f"postgresql+psycopg://nobody@127.0.0.1:{silent_server}/nothing"
    app = create_app({**app_config, "DATABASE_URL": url})
    started = time.monotonic()
    answer = app.test_client().get("/readyz")
    took = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["database"] == {
        "ok": False,
        "error": "no answer within 1 s",
    }
    assert 0.9 <= took < 2, took
    # Control: /healthz in the same app does not wait on it.
    started = time.monotonic()
    assert app.test_client().get("/healthz").status_code == 200
    assert time.monotonic() - started < 0.5


# Job health ---------------------------------------------------------------------------


def beat(session: Any, seconds_ago: float) -> None:
    session.query(JobLease).delete()
    at = utcnow() - dt.timedelta(seconds=seconds_ago)
    session.add(JobLease(name="notify", holder="", until=at, last_finished_at=at))
    long_ago = at - dt.timedelta(days=1)
    session.add(JobLease(name="retention", holder="", until=at, last_finished_at=long_ago))
    session.commit()


def due_message(session: Any, seconds_ago: float, key: str = "reply-1") -> None:
    office = session.query(Office).first()
    outbox.queue_text(
        session, kind="reply", channel=Channel.SMS, recipient="081234567890", body="Terima kasih",
        office_id=office.id, key=key, now=utcnow() - dt.timedelta(seconds=seconds_ago),
    )  # fmt: skip
    session.commit()


def test_healthz_jobs_follows_the_heartbeat_against_twice_the_shortest_interval(
    app, client, session
) -> None:
    limit = 2 * min(app.config["ANNOUNCE_SECONDS"], app.config["NOTIFY_SECONDS"])
    answer = client.get("/healthz/jobs")
    assert answer.status_code == 503  # no job has ever run
    assert answer.get_json()["checks"]["heartbeat"]["last_run"] is None
    beat(session, limit / 4)
    answer = client.get("/healthz/jobs")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["heartbeat"]["ok"] is True
    assert body["checks"]["heartbeat"]["limit_seconds"] == limit
    assert limit / 4 <= body["checks"]["heartbeat"]["age_seconds"] < limit / 4 + 30
    beat(session, limit + 30)
    answer = client.get("/healthz/jobs")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["heartbeat"]["ok"] is False
    assert answer.get_json()["checks"]["outbox"]["ok"] is True


def test_healthz_jobs_fails_on_a_due_message_older_than_the_setting(app, client, session) -> None:
    beat(session, 1)
    most = app.config["OUTBOX_MAX_AGE_SECONDS"]
    due_message(session, most / 2, key="reply-young")
    assert client.get("/healthz/jobs").status_code == 200
    due_message(session, most + 60, key="reply-old")
    answer = client.get("/healthz/jobs")
    assert answer.status_code == 503
    outbox_check = answer.get_json()["checks"]["outbox"]
    assert outbox_check["ok"] is False
    assert outbox_check["oldest_due_age_seconds"] >= most + 60
    assert outbox_check["limit_seconds"] == most
    assert answer.get_json()["checks"]["heartbeat"]["ok"] is True


def test_the_shortest_interval_is_the_schedulers_own(app) -> None:
    for notify in (60, 7):
        app.config["NOTIFY_SECONDS"] = notify
        built = scheduler.build(app, BackgroundScheduler)
        intervals = [
            job.trigger.interval.total_seconds()
            for job in built.get_jobs()
            if isinstance(job.trigger, IntervalTrigger)
        ]
        assert len(intervals) == 2
        assert health.shortest_interval(app.config) == min(intervals) == notify


# Metrics ------------------------------------------------------------------------------


def test_metrics_answer_only_the_allowed_addresses(app_config) -> None:
    app = create_app(app_config)
    assert app.test_client().get("/metrics").status_code == 200  # loopback
    away = {"REMOTE_ADDR": "203.0.113.7"}
    assert app.test_client().get("/metrics", environ_base=away).status_code == 404
    assert app.test_client().get("/healthz", environ_base=away).status_code == 200
    app = create_app({**app_config, "METRICS_ALLOW": "10.0.0.0/8, 203.0.113.0/24"})
    assert app.test_client().get("/metrics", environ_base=away).status_code == 200
    assert app.test_client().get("/metrics").status_code == 404  # loopback not listed
    with pytest.raises(ConfigError, match="METRICS_ALLOW"):
        create_app({**app_config, "METRICS_ALLOW": "localhost"})


def test_metrics_count_requests_by_route_rule_and_look_ups_by_outcome(
    app_config, make_request
) -> None:
    app = create_app({**app_config, "RATELIMIT_ENABLED": True, "LOOKUP_RATE_LIMIT": "5 per minute"})
    client = app.test_client()
    ready = make_request(Status.READY)
    unknown = receipts.generate()
    mistyped = ready.receipt[:-1] + ("0" if ready.receipt[-1] != "0" else "1")
    before = scraped(client)
    answers = [
        client.get(f"/s/{ready.receipt}").status_code,
        client.get(f"/api/v1/requests/{ready.receipt}").status_code,
        client.get(f"/cek?no={unknown}").status_code,
        client.get(f"/s/{mistyped}").status_code,
        client.get(f"/s/{ready.receipt}").status_code,
        client.get(f"/s/{ready.receipt}").status_code,  # the sixth in a minute
    ]
    assert answers == [200, 200, 404, 400, 200, 429]
    after = scraped(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("siapambil_lookups_total", outcome="found") == 3
    assert grew("siapambil_lookups_total", outcome="not_found") == 1
    assert grew("siapambil_lookups_total", outcome="mistyped") == 1
    assert grew("siapambil_lookups_total", outcome="limited") == 1
    route = {"route": "/s/<receipt>", "method": "GET"}
    assert grew("siapambil_http_requests_total", status="200", **route) == 2
    assert grew("siapambil_http_requests_total", status="429", **route) == 1
    assert grew("siapambil_http_request_duration_seconds_count", **route) == 4
    assert grew("siapambil_http_requests_total", route="/cek", method="GET", status="404") == 1
    body = client.get("/metrics").get_data(as_text=True)
    for number in (ready.receipt, unknown, mistyped, receipts.format_grouped(ready.receipt)):
        assert number not in body
    unmatched = client.get("/no/such/page")
    assert unmatched.status_code == 404
    assert value(scraped(client), "siapambil_http_requests_total", route="unmatched",
                 method="GET", status="404") >= 1  # fmt: skip


def test_metrics_count_committed_moves_by_target_and_never_a_rolled_back_one(
    app, client, make_request, session
) -> None:
    before = scraped(client)
    request = make_request(Status.PROCESSING)
    after = scraped(client)
    assert (
        value(after, "siapambil_transitions_total", to="processing")
        - value(before, "siapambil_transitions_total", to="processing")
        == 1
    )
    assert value(after, "siapambil_transitions_total", to="submitted") == value(
        before, "siapambil_transitions_total", to="submitted"
    )  # a registration is not a move
    make_request.move(request, Status.READY, point="srg-cipocok")
    session.rollback()  # the unit that moved it rolls back
    session.commit()
    assert value(scraped(client), "siapambil_transitions_total", to="ready") == value(
        after, "siapambil_transitions_total", to="ready"
    )
    make_request.move(session.merge(request), Status.READY, point="srg-cipocok")
    session.commit()
    assert (
        value(scraped(client), "siapambil_transitions_total", to="ready")
        == value(after, "siapambil_transitions_total", to="ready") + 1
    )


def test_metrics_read_the_outbox_and_the_heartbeat_from_the_database(app, client, session) -> None:
    samples = scraped(client)
    assert value(samples, "siapambil_outbox_messages", status="pending", channel="sms") == 0
    assert value(samples, "siapambil_outbox_oldest_due_age_seconds") == 0
    assert ("siapambil_scheduler_heartbeat_age_seconds", ()) not in samples  # never ran
    due_message(session, 600, key="reply-a")
    due_message(session, 60, key="reply-b")
    beat(session, 45)
    samples = scraped(client)
    assert value(samples, "siapambil_outbox_messages", status="pending", channel="sms") == 2
    assert value(samples, "siapambil_outbox_messages", status="pending", channel="email") == 0
    assert 600 <= value(samples, "siapambil_outbox_oldest_due_age_seconds") < 660
    assert 45 <= value(samples, "siapambil_scheduler_heartbeat_age_seconds") < 105


def test_metrics_count_job_runs_failures_and_durations(app, client) -> None:
    def broken(_session: Any, _config: Any, _now: Any) -> None:
        raise RuntimeError("provider down")

    before = scraped(client)
    runner.run(app, "announce", work.announce)
    with pytest.raises(RuntimeError):
        runner.run(app, "notify", broken)
    with app.app_context(), unit_of_work() as session:  # a run that finds the lease taken
        assert lease.take(session, "announce", 600, utcnow())
    assert runner.run(app, "announce", work.announce) is None
    after = scraped(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("siapambil_job_runs_total", job="announce") == 1
    assert grew("siapambil_job_failures_total", job="announce") == 0
    assert grew("siapambil_job_runs_total", job="notify") == 1
    assert grew("siapambil_job_failures_total", job="notify") == 1
    assert grew("siapambil_job_duration_seconds_count", job="notify") == 1
    assert value(after, "siapambil_scheduler_heartbeat_age_seconds") < 60


# JSON logs ----------------------------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def request_lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger(logs.LOGGER)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def test_json_logs_write_one_masked_line_per_request(
    app_config, make_request, request_lines
) -> None:
    ready = make_request(Status.READY)
    app = create_app({**app_config, "LOG_FORMAT": "json"})
    client = app.test_client()
    answer = client.get(f"/s/{ready.receipt}", headers={"X-Request-ID": "lb-7f3a.1"})
    assert answer.headers["X-Request-ID"] == "lb-7f3a.1"
    made = client.get("/cek", query_string={"no": ready.receipt},
                      headers={"X-Request-ID": "<script>"})  # fmt: skip
    assert len(made.headers["X-Request-ID"]) == 32  # a new one: the sent one was not plain
    client.get("/healthz", headers={"X-Request-ID": ready.receipt})
    assert len(request_lines.lines) == 3
    first, second, third = (json.loads(line) for line in request_lines.lines)
    assert first["route"] == "/s/<receipt>"
    assert (first["method"], first["status"], first["request_id"]) == ("GET", 200, "lb-7f3a.1")
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert second["request_id"] == made.headers["X-Request-ID"]
    assert third["request_id"].startswith("R:")  # a receipt sent as an id is masked
    every = "\n".join(request_lines.lines)
    assert ready.receipt not in every and receipts.format_grouped(ready.receipt) not in every
    # Control: text logs (the default) write no such line.
    plain = create_app(app_config).test_client()
    plain.get(f"/s/{ready.receipt}")
    assert len(request_lines.lines) == 3


def test_a_log_format_that_cannot_be_read_stops_the_start(app_config) -> None:
    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        create_app({**app_config, "LOG_FORMAT": "yaml"})


def test_only_an_unreachable_database_is_a_503() -> None:
    """A database that cannot be reached for now is a 503 (``errorpages.unreachable``); a
    mistake in a query stays a 500."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from tracker.web.errorpages import unreachable

    assert unreachable(psycopg.OperationalError("connection failed: Connection refused"))
    assert unreachable(OperationalError("SELECT 1", {}, psycopg.OperationalError("gone")))
    assert unreachable(psycopg.errors.AdminShutdown("terminating connection"))
    assert unreachable(OperationalError("x", {}, sqlite3.OperationalError("database is locked")))
    assert not unreachable(OperationalError("x", {}, sqlite3.OperationalError("no such table")))
    assert not unreachable(ProgrammingError("x", {}, psycopg.errors.UndefinedTable("requests")))
    assert not unreachable(ValueError("a bug"))
