"""SiapAmbil: request-status tracking and pickup announcements for Dukcapil offices."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from tracker import config as settings
from tracker import db
from tracker.extensions import (
    LANGUAGE_COOKIE,
    LazyCookieSessionInterface,
    apply_rate_limits,
    babel,
    csrf,
    init_limiter,
    login_manager,
    select_locale,
)
from tracker.web import arguments, cors, edge, formatters, security

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app; the scheduler is never started here."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.json = edge.JSONProvider(app)
    app.config.from_mapping(settings.DEFAULTS)
    app.config.update(settings.from_environment(os.environ))
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings.finish(app.config, app.instance_path, app.logger)
    from tracker.outbox import whatsapp

    whatsapp.parse(app.config["WHATSAPP_TEMPLATES"])  # one that cannot be read stops the start

    register_extensions(app)
    learn_calendar(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_response_hooks(app)
    return app


def warm(app: Flask) -> None:
    """Compile every template and load each language's catalogue now, not at a worker's first
    page. gunicorn's master calls it once after loading the app (``gunicorn.conf.py``), and
    every worker forked from it starts with them, again after each replacement."""
    from flask_babel import get_translations

    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
    for language in app.config["LANGUAGES"]:
        with app.test_request_context(f"/?lang={language}"):
            get_translations()


def register_extensions(app: Flask) -> None:
    from tracker.accounts import operations as accounts

    accounts.use_profile(app.config["PASSWORD_HASHING"])
    db.init_app(app)
    app.session_interface = LazyCookieSessionInterface()
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    init_limiter(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    formatters.register(app)
    security.install_log_filter(app)
    arguments.register(app)
    cors.install(app)
    if app.config.get("PROXY_FIX_HOPS"):
        hops = int(app.config["PROXY_FIX_HOPS"])
        # X-Forwarded-Prefix too: the service may sit under a path of an office's site.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops
        )


def learn_calendar(app: Flask) -> None:
    """Hand the collective leave days on file to the working-day functions, and read them
    again as units of work begin (``tracker.places.leave``), so that a change made by any
    worker reaches this one."""
    from tracker.places import leave

    leave.install(app, db.get_engine(app))
    db.on_unit(app, leave.on_unit)
    db.on_write_begin(app, leave.on_write_begin)


def register_blueprints(app: Flask) -> None:
    from tracker.accounts import access
    from tracker.accounts import views as accounts
    from tracker.announcements import views as announcements
    from tracker.api import console as api_console
    from tracker.api import inbound
    from tracker.api import views as api
    from tracker.board import views as board
    from tracker.counter import views as counter
    from tracker.intake import views as intake
    from tracker.open311 import views as open311
    from tracker.outbox import views as outbox
    from tracker.places import admin as places_admin
    from tracker.places import views as places
    from tracker.requests import console as requests_console
    from tracker.requests import views as lookup
    from tracker.statistics import views as statistik
    from tracker.watch import views as watch
    from tracker.webhooks import console as webhooks_console

    del accounts, api_console, counter, intake, outbox, places, places_admin, requests_console
    del webhooks_console
    access.setup()
    app.register_blueprint(lookup.bp)
    app.register_blueprint(announcements.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(open311.bp)
    app.register_blueprint(board.bp)
    app.register_blueprint(statistik.bp)
    app.register_blueprint(access.bp)
    csrf.exempt(api.bp)
    app.register_blueprint(inbound.bp)
    csrf.exempt(inbound.bp)  # signed by the channel's secret, not a session's token
    watch.install(app)
    apply_rate_limits(app)
    db.wrap_views(app)


def register_errorhandlers(app: Flask) -> None:
    from tracker.web import errorpages

    errorpages.register(app)


def register_commands(app: Flask) -> None:
    from tracker import cli

    cli.register(app)


def register_response_hooks(app: Flask) -> None:
    app.after_request(security.add_headers)
    app.after_request(_remember_language)


def _remember_language(response: Any) -> Any:
    chosen = request.args.get("lang")
    if request.blueprint == "watch":
        return response  # health checks and metrics keep no cookie
    if chosen in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response
