"""The ``flask --app wsgi ...`` commands."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url
from werkzeug.serving import run_simple

from tracker import cli_staff, demo, schema
from tracker.backup import commands as backup
from tracker.db import analyze, get_engine, unit_of_work
from tracker.models import TIMEZONES, utcnow
from tracker.outbox import commands as outbox_commands
from tracker.receipts import format_grouped
from tracker.setup import commands as setup_commands
from tracker.statistics import figures as statistics
from tracker.status import Status
from tracker.webhooks import commands as webhook_commands

# A larger synthetic fill (a benchmark's) leaves its roll-up to the deadlines job: counting a
# million requests' past takes a fifth of the fill's time.
STATISTICS_FILL_LIMIT = 100_000


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(demo_command)
    app.cli.add_command(serve)
    app.cli.add_command(cli_staff.staff)
    app.cli.add_command(cli_staff.audit_group)
    app.cli.add_command(backup.backup_command)
    app.cli.add_command(backup.restore_command)
    app.cli.add_command(cli_staff.apikey)
    app.cli.add_command(setup_commands.setup_group)
    app.cli.add_command(webhook_commands.webhook)
    app.cli.add_command(outbox_commands.outbox_group)


def _shown_url() -> str:
    return make_url(current_app.config["DATABASE_URL"]).render_as_string(hide_password=True)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the schema, or bring it up to date, by running the migrations."""
    schema.upgrade(
        get_engine(), audit_key=current_app.config["AUDIT_HMAC_KEY"], progress=click.echo
    )
    click.echo(f"Database is up to date: {_shown_url()}")


@click.command("demo")
@with_appcontext
@click.option(
    "--requests",
    "count",
    type=click.IntRange(min=0),
    default=0,
    help="Add this many synthetic requests (for benchmarks).",
)
@click.option(
    "--per-status",
    type=click.IntRange(min=0),
    default=None,
    help="Requests of every status in a new demo (default 40).",
)
@click.option("--seed", type=int, default=None, help="Seed for repeatable data.")
@click.option(
    "--statistics/--no-statistics",
    "roll_up",
    default=None,
    help=f"Roll the new past up into the statistics now (default: for fills of up to "
    f"{STATISTICS_FILL_LIMIT:,} requests; the deadlines job's next run counts larger ones).",
)
def demo_command(
    count: int, per_status: int | None, seed: int | None, roll_up: bool | None
) -> None:
    """Load the demo offices, pickup points, services and requests, and print receipts to try."""
    now = utcnow()
    engine = get_engine()
    if not schema.is_current(engine):
        schema.upgrade(engine, audit_key=current_app.config["AUDIT_HMAC_KEY"])
    started = time.perf_counter()
    with unit_of_work() as session:
        new = demo.load_places(session)
        if per_status is None:
            per_status = 40 if new else 0
        samples = demo.add_requests(
            session,
            count,
            per_status=per_status,
            seed=seed,
            window_days=current_app.config["PICKUP_WINDOW_DAYS"],
            now=now,
        )
    analyze(engine)  # a fill by COPY leaves PostgreSQL's planner without statistics
    took = time.perf_counter() - started
    made = count + per_status * len(Status)
    click.echo(f"Demo data in {_shown_url()}: {made} requests added in {took:.1f} s.")
    if roll_up if roll_up is not None else count <= STATISTICS_FILL_LIMIT:
        _roll_up_statistics(now)
    else:
        click.echo(
            "Statistics: not rolled up for a fill this large (--statistics does it now); "
            "the deadlines job's next run counts the whole past."
        )
    with unit_of_work() as session:
        logins = cli_staff.demo_accounts(session, now)
        if not any(samples.values()):
            samples = demo.sample_receipts(session)
    _print_samples(samples)
    _print_logins(logins)


def _roll_up_statistics(now: dt.datetime) -> None:
    """Count the demo's whole past into the daily figures at once, so that the statistics
    page has something to show before the first morning run of the deadlines job."""
    started = time.perf_counter()
    with unit_of_work() as session:
        rows = sum(
            statistics.roll_up(session, zone, now.astimezone(ZoneInfo(zone)).date(), full=True).rows
            for zone in TIMEZONES
        )
    took = time.perf_counter() - started
    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo(f"Statistics: {rows} daily figures in {took:.1f} s, at {base}/statistik")


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo(f"\nStaff console: {base}/staff/login (new passwords each time demo runs)")
    for username, password, role in logins:
        click.echo(f"  {role:<11} username {username:<16} password {password}")


def _print_samples(samples: dict[Status, list[str]]) -> None:
    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo("\nReceipt numbers to try (type one at / or open its status page):")
    for status, numbers in samples.items():
        for number in numbers[:2]:
            click.echo(f"  {status.value:<11} {format_grouped(number)}   {base}/s/{number}")


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--scheduler/--no-scheduler", default=True, help="Run the scheduled jobs beside.")
def serve(host: str, port: int, scheduler: bool) -> None:
    """Run the web server and the scheduler for development and the demo (migrating the
    database first). The scheduler is a process of its own, as in production."""
    schema.upgrade(get_engine(), audit_key=current_app.config["AUDIT_HMAC_KEY"])
    jobs = None
    if scheduler:
        # Started by module name: the web package never imports the jobs.
        jobs = subprocess.Popen([sys.executable, "-m", "jobs.scheduler"], env=_scheduler_env())
        click.echo(f"Scheduler running (process {jobs.pid}).")
    click.echo(f"SiapAmbil on http://{host}:{port}/ (Ctrl+C stops it)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that the scheduler stops too
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True)
    finally:
        if jobs is not None:
            jobs.terminate()
            jobs.wait(timeout=60)


def _scheduler_env() -> dict[str, str]:
    """The scheduler reads the same settings, so it gets this app's database and keys."""
    config = current_app.config
    env = dict(os.environ)
    env["DATABASE_URL"] = config["DATABASE_URL"]
    env["SECRET_KEY"] = config["SECRET_KEY"]
    env["PUBLIC_BASE_URL"] = config["PUBLIC_BASE_URL"]
    return env
