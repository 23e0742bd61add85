"""``/healthz``, ``/readyz``, ``/healthz/jobs`` and ``/metrics``, and the hooks that time and
count every request and write its JSON log line.

These answers are for machines: JSON or the Prometheus text format, never a page. They are
exempt from rate limits, sessions, CSRF and the language cookie, and ``/healthz`` touches
nothing at all (no database, no session, no Redis), so that it says only whether the
process answers. ``/metrics`` answers only the addresses in ``METRICS_ALLOW``; behind a
proxy that is ``request.remote_addr`` as ``PROXY_FIX_HOPS`` makes it (the client the
proxy names), so a scraper should reach the workers directly rather than through the proxy.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, request
from flask.sessions import SessionInterface
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from tracker import config as settings
from tracker.db import get_engine, get_session, make_engine
from tracker.extensions import LIMITER, csrf
from tracker.models import utcnow
from tracker.watch import health, logs, metrics
from tracker.web.arguments import declare

bp = Blueprint("watch", __name__)
PATHS = frozenset({"/healthz", "/readyz", "/healthz/jobs", "/metrics"})
WATCH = "siapambil.watch"
# The look-ups by receipt number, and what their answer's status code says of each.
LOOKUPS = frozenset({"lookup.check", "lookup.status", "lookup.printable", "api.request_status"})
OUTCOMES = {200: "found", 404: "not_found", 400: "mistyped", 429: "limited"}
PG_CONNECT_TIMEOUT = 2  # seconds; libpq's smallest


@bp.get("/healthz")
@declare()
def healthz() -> Response:
    """Liveness: the process answers. Nothing else is asked."""
    return jsonify(status="ok")


@bp.get("/readyz")
@declare()
def readyz() -> tuple[Response, int]:
    """Readiness: the database answers within a second and the migrations are at head."""
    report = health.readiness(current_app.extensions[WATCH]["probe"])
    return jsonify(report.as_json()), 200 if report.ok else 503


@bp.get("/healthz/jobs")
@declare()
def jobs() -> tuple[Response, int]:
    """The scheduler's heartbeat and the outbox's oldest due message."""
    now = utcnow()
    try:
        report = health.job_health(get_session(), now, current_app.config)
    except SQLAlchemyError as error:
        report = health.unreachable(("heartbeat", "outbox"), error)
    return jsonify(report.as_json()), 200 if report.ok else 503


@bp.get("/metrics")
@declare()
def scrape() -> Response:
    """The Prometheus text format, to the addresses of ``METRICS_ALLOW`` only."""
    if not allowed(request.remote_addr, current_app.extensions[WATCH]["allow"]):
        abort(404)
    now = utcnow()
    try:
        snapshot = metrics.snapshot(get_session(), now)
    except SQLAlchemyError as error:
        logging.getLogger(health.log.name).warning("metrics: the database: %s", error)
        snapshot = None
    return Response(metrics.exposition(snapshot), content_type=metrics.CONTENT_TYPE)


def allowed(address: str | None, networks: tuple[Any, ...]) -> bool:
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped:
        client = client.ipv4_mapped
    return any(client.version == net.version and client in net for net in networks)


def install(app: Flask) -> None:
    """Register the routes and the hooks on ``app`` (before its views are wrapped)."""
    app.register_blueprint(bp)
    csrf.exempt(bp)
    app.extensions[LIMITER].exempt(bp)
    app.session_interface = Sessionless(app.session_interface, PATHS)
    app.extensions[WATCH] = {
        "allow": settings.parse_networks("METRICS_ALLOW", app.config["METRICS_ALLOW"]),
        "probe": probe_engine(app),
        "log": logs.install(app),
    }
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.after_request(_finish)
    metrics.listen_for_moves()
    metrics.count_rate_limit_storage_errors()


def probe_engine(app: Flask) -> Engine:
    """The readiness probe's engine: the app's own on SQLite; on a server, one that opens a
    fresh connection for each probe and gives up connecting after two seconds."""
    engine = get_engine(app)
    if engine.dialect.name == "sqlite":
        return engine
    return make_engine(
        app.config["DATABASE_URL"],
        poolclass=NullPool,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT},
    )


def _start() -> None:
    g.watch_started = time.perf_counter()
    g.request_id = logs.request_id(request.headers.get(logs.REQUEST_ID_HEADER))


def _finish(response: Response) -> Response:
    seconds = time.perf_counter() - g.get("watch_started", time.perf_counter())
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    status = response.status_code
    metrics.observe_request(route, request.method, status, seconds)
    if request.endpoint in LOOKUPS and status in OUTCOMES:
        metrics.count_lookup(OUTCOMES[status])
    identifier = g.get("request_id") or logs.request_id(None)
    response.headers[logs.REQUEST_ID_HEADER] = identifier
    logger = current_app.extensions[WATCH]["log"]
    if logger is not None:
        logger.info(
            logs.line(
                route=route,
                method=request.method,
                status=status,
                seconds=seconds,
                request_id=identifier,
            )
        )
    return response


class Sessionless(SessionInterface):
    """The app's session interface, except that the watch's paths get no session at all:
    nothing is read from a cookie and none is set."""

    def __init__(self, inner: SessionInterface, paths: frozenset[str]) -> None:
        self.inner = inner
        self.paths = paths

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def open_session(self, app: Flask, request: Any) -> Any:
        if request.path in self.paths:
            return self.make_null_session(app)
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        self.inner.save_session(app, session, response)
